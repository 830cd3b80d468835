#!/usr/bin/env bash
# Builds the .deb of the build tree with cpack, installs it with apt-get as an operator would, checks
# the installed tool, Python package, C header and library, systemd units (hardening), user and
# logrotate file, then purges it again: the machine is left as it was (the dpgcert system user stays,
# as Debian leaves system users).
#   deb_test.sh BUILD_DIR WORK_DIR README CC
set -euo pipefail
build=$1 work=$2 readme=$3 cc=$4
if [[ $(id -u) -ne 0 ]]; then
  echo "skipped: installing a .deb needs root (id -u is $(id -u))"
  exit 77
fi
if dpkg-query -W -f='${Status}' dpgcert 2>/dev/null | grep -q installed; then
  echo "a dpgcert package is installed on this machine already; not touching it"
  exit 1
fi
rm -rf "$work"
mkdir -p "$work"
cd "$work"
cpack --config "$build/CPackConfig.cmake" -B "$work" >"$work/cpack.log" 2>&1 || { cat "$work/cpack.log"; exit 1; }
deb=$(ls "$work"/dpgcert_*.deb)
purge() { DEBIAN_FRONTEND=noninteractive apt-get purge -y dpgcert >"$work/purge.log" 2>&1 || cat "$work/purge.log"; }
trap purge EXIT
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$deb" >"$work/install.log" 2>&1 \
  || { cat "$work/install.log"; exit 1; }

fail() { echo "$*"; exit 1; }
# The tool, its man page and completion, the docs the units point to.
dpgcert --version | grep -q '^dpgcert [0-9]' || fail "dpgcert --version: $(dpgcert --version 2>&1)"
tool=$(command -v dpgcert)
# The package holds the tree under its configured prefix (/usr, or the default /usr/local).
prefix=$(dirname "$(dirname "$tool")")
[[ $prefix == /usr || $prefix == /usr/local ]] || fail "dpgcert is at $tool"
ls "$prefix"/share/man/man1/dpgcert.1* >/dev/null || fail "no man page"
for f in "$prefix"/share/doc/dpgcert/lifecycle.md "$prefix"/share/doc/dpgcert/cli.md "$prefix"/share/bash-completion/completions/dpgcert; do
  [[ -f $f ]] || fail "not installed: $f"
done
# The Python package, with Debian's interpreter and its metadata.
version=$(cd / && env -u PYTHONPATH ${DPGCERT_PYTHON_ENV:-} /usr/bin/python3 -c \
  'import dpgcert, importlib.metadata; assert importlib.metadata.version("dpgcert") == dpgcert.__version__; print(dpgcert.__file__)')
[[ $version == "$prefix"/lib/python3*/dist-packages/dpgcert/__init__.py ]] || fail "python imported dpgcert from $version"
# A C program against the installed header and library (the README's snippet).
awk '$0 == "```c" { on = 1; next } /^```/ { on = 0 } on' "$readme" >"$work/readme.c"
"$cc" -std=c99 -pedantic -Wall -Wextra -Werror ${DPGCERT_CFLAGS:-} "$work/readme.c" -o "$work/readme-c" -ldpgcert-c
set +e
"$work/readme-c" /nonexistent
rc=$?
set -e
[[ $rc -eq 64 ]] || fail "the C program against the installed library: exit $rc"
# The service's user, units (hardened to <= 3.0) and logrotate file.
getent passwd dpgcert >/dev/null || fail "no dpgcert user"
for unit in dpgcert-check.service dpgcert-metrics.service; do
  f=$prefix/lib/systemd/system/$unit
  [[ -f $f ]] || fail "not installed: $f"
  grep -q "^ExecStart=$tool " "$f" || fail "$unit does not run $tool"
  exposure=$(systemd-analyze security --offline=yes "$f" 2>/dev/null | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
  [[ -n $exposure ]] || fail "systemd-analyze security gave no exposure for $unit"
  awk -v e="$exposure" 'BEGIN { exit !(e <= 3.0) }' || fail "$unit: exposure $exposure > 3.0"
  echo "$unit: exposure $exposure"
done
[[ -f $prefix/lib/systemd/system/dpgcert-check.timer ]] || fail "no timer"
# systemd itself finds the units there.
systemd-analyze verify --man=no "$prefix/lib/systemd/system/dpgcert-check.service" >/dev/null 2>&1 \
  || fail "systemd-analyze verify: $(systemd-analyze verify --man=no "$prefix/lib/systemd/system/dpgcert-check.service" 2>&1)"
[[ -f /etc/logrotate.d/dpgcert ]] || fail "no logrotate file"
if command -v logrotate >/dev/null; then logrotate -d /etc/logrotate.d/dpgcert >/dev/null 2>&1 || fail "logrotate rejects its file"; fi

trap - EXIT
purge
if dpkg-query -W -f='${Status}' dpgcert 2>/dev/null | grep -q installed; then fail "dpgcert is still installed after purge"; fi
[[ ! -e $tool && ! -e /etc/logrotate.d/dpgcert ]] || fail "files left after purge"
echo "deb_test: ok ($(basename "$deb"))"
