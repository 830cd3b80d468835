#!/usr/bin/env bash
# Usage: consumer_test.sh BUILD_DIR WORK_DIR EXAMPLE_DIR CXX EXTRA_FLAGS GENERATOR
set -euo pipefail
build=$1 work=$2 example=$3 cxx=$4 flags=$5 generator=$6
prefix="$work/prefix"
rm -rf "$work"
mkdir -p "$work"

cmake --install "$build" --prefix "$prefix" >"$work/install.log"
for f in include/dpgcert/x509.hpp lib/cmake/dpgcert/dpgcertConfig.cmake \
         lib/cmake/dpgcert/dpgcertConfigVersion.cmake lib/pkgconfig/dpgcert.pc bin/dpgcert; do
  [[ -e "$prefix/$f" ]] || { echo "not installed: $f"; exit 1; }
done
so=$(ls "$prefix"/lib/libdpgcert.so.* | head -n 1)
readelf -d "$so" | grep -q 'SONAME.*libdpgcert.so.0' || { echo "no SONAME libdpgcert.so.0 in $so"; exit 1; }

pem=$(find "$DPGCERT_TEST_DATA" -name '*.crt.pem' | sort | head -n 1)
[[ -n "$pem" ]] || { echo "no certificate in $DPGCERT_TEST_DATA"; exit 1; }

# 1. CMake: find_package(dpgcert CONFIG)
cmake -S "$example" -B "$work/cmake-build" -G "$generator" -DCMAKE_PREFIX_PATH="$prefix" \
      -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_CXX_FLAGS="$flags" >"$work/cmake-configure.log"
cmake --build "$work/cmake-build" >"$work/cmake-build.log"
out=$(LD_LIBRARY_PATH="$prefix/lib" "$work/cmake-build/inspect_cert" "$pem")
echo "$out" | grep -q 'sha256' || { echo "cmake consumer printed: $out"; exit 1; }
expected=$(openssl x509 -in "$pem" -outform DER | sha256sum | cut -d' ' -f1)
echo "$out" | grep -q "$expected" || { echo "cmake consumer fingerprint differs from openssl's"; exit 1; }

# 2. pkg-config
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
# shellcheck disable=SC2046
"$cxx" -std=c++20 $flags "$example/inspect_cert.cpp" -o "$work/pc-inspect" $(pkg-config --cflags --libs dpgcert)
out2=$(LD_LIBRARY_PATH="$prefix/lib" "$work/pc-inspect" "$pem")
[[ "$out" == "$out2" ]] || { echo "pkg-config consumer differs: $out2"; exit 1; }

# pkg-config gives what a consumer's compiler needs, not the private dependencies' headers.
pc_cflags=$(pkg-config --cflags dpgcert)
[[ "$pc_cflags" != *botan* ]] || { echo "pkg-config --cflags dpgcert exposes Botan (a private dependency): $pc_cflags"; exit 1; }

# The README's snippets are complete programs: extracted, built against the installed tree with
# warnings as errors, and run.
readme="$(dirname "$(dirname "$example")")/README.md"
snippet() {  # snippet LANG N: the Nth ```LANG block of the README
  awk -v lang="$1" -v want="$2" '
    $0 == "```" lang { n++; on = (n == want); next }
    /^```/ { on = 0; next }
    on { print }' "$readme"
}
snippet cpp 1 >"$work/readme.cpp"
[[ -s "$work/readme.cpp" ]] || { echo "no C++ snippet in $readme"; exit 1; }
# shellcheck disable=SC2046
"$cxx" -std=c++20 -Wall -Wextra -Werror $flags "$work/readme.cpp" -o "$work/readme-cpp" $(pkg-config --cflags --libs dpgcert)
p12="$DPGCERT_TEST_DATA/oces2-prod/foces.p12"
readme_out=$(P12_PASSWORD=Test1234 LD_LIBRARY_PATH="$prefix/lib" "$work/readme-cpp" "$p12")
echo "$readme_out" | grep -q ' expires 20[0-9-]*T' || { echo "README C++ snippet printed: $readme_out"; exit 1; }
set +e
readme_err=$(P12_PASSWORD=wrong LD_LIBRARY_PATH="$prefix/lib" "$work/readme-cpp" "$p12" 2>&1)
readme_rc=$?
set -e
[[ $readme_rc -eq 1 && "$readme_err" == bad_password:* ]] || { echo "README C++ snippet, wrong password: $readme_rc $readme_err"; exit 1; }

# 3. the installed tool runs
"$prefix/bin/dpgcert" --version | grep -q '^dpgcert ' || { echo "installed dpgcert --version failed"; exit 1; }
"$prefix/bin/dpgcert" inspect --json "$pem" | grep -q "$expected" || { echo "installed dpgcert inspect failed"; exit 1; }
# 4. the C API (issue 9): examples/c through find_package (dpgcert::c) and through pkg-config
if [[ -n "${DPGCERT_EXAMPLES:-}" && -d "$DPGCERT_EXAMPLES/c" ]]; then
  cc=${DPGCERT_CC:-cc}
  for f in include/dpgcert/dpgcert.h include/dpgcert/c/{export,certificate,identity,pkcs12,validation}.h \
           lib/pkgconfig/dpgcert-c.pc; do
    [[ -e "$prefix/$f" ]] || { echo "not installed: $f"; exit 1; }
  done
  cso=$(ls "$prefix"/lib/libdpgcert-c.so.* | head -n 1)
  readelf -d "$cso" | grep -q 'SONAME.*libdpgcert-c.so.1' || { echo "no SONAME libdpgcert-c.so.1 in $cso"; exit 1; }
  p12="$DPGCERT_TEST_DATA/oces2-prod/foces.p12"
  root="$DPGCERT_TEST_DATA/oces2-prod/root.crt.pem"
  at=1748736000  # 2025-06-01T00:00:00Z, the synthetic PKI's validation time
  cmake -S "$DPGCERT_EXAMPLES/c" -B "$work/c-build" -G "$generator" -DCMAKE_PREFIX_PATH="$prefix" \
        -DCMAKE_C_COMPILER="$cc" -DCMAKE_C_FLAGS="$flags" >"$work/c-configure.log"
  cmake --build "$work/c-build" >"$work/c-build.log"
  # shellcheck disable=SC2046
  "$cc" -std=c99 $flags "$DPGCERT_EXAMPLES/c/onboarding_check.c" -o "$work/pc-onboarding" $(pkg-config --cflags --libs dpgcert-c)
  for program in "$work/c-build/onboarding_check" "$work/pc-onboarding"; do
    set +e
    c_out=$(DPGCERT_PASSWORD=Test1234 LD_LIBRARY_PATH="$prefix/lib" "$program" "$p12" --trust "$root" --at $at --cvr 12345674)
    c_rc=$?
    set -e
    [[ $c_rc -eq 1 ]] || { echo "$program: exit $c_rc, expected 1 (warnings): $c_out"; exit 1; }
    echo "$c_out" | grep -q 'OCES2 FOCES (function), production, CVR 12345674' || { echo "$program printed: $c_out"; exit 1; }
    echo "$c_out" | grep -q 'Verdict: WARN' || { echo "$program printed no verdict: $c_out"; exit 1; }
  done
  snippet c 1 >"$work/readme.c"
  [[ -s "$work/readme.c" ]] || { echo "no C snippet in $readme"; exit 1; }
  # shellcheck disable=SC2046
  "$cc" -std=c99 -pedantic -Wall -Wextra -Werror $flags "$work/readme.c" -o "$work/readme-c" $(pkg-config --cflags --libs dpgcert-c)
  P12_PASSWORD=Test1234 LD_LIBRARY_PATH="$prefix/lib" "$work/readme-c" "$p12" || { echo "README C snippet failed"; exit 1; }
  set +e
  readme_err=$(P12_PASSWORD=wrong LD_LIBRARY_PATH="$prefix/lib" "$work/readme-c" "$p12" 2>&1)
  readme_rc=$?
  set -e
  [[ $readme_rc -eq 1 && "$readme_err" == bad_password:* ]] || { echo "README C snippet, wrong password: $readme_rc $readme_err"; exit 1; }
  set +e
  DPGCERT_PASSWORD=wrong LD_LIBRARY_PATH="$prefix/lib" "$work/c-build/onboarding_check" "$p12" --trust "$root" --at $at >/dev/null
  c_rc=$?
  set -e
  [[ $c_rc -eq 2 ]] || { echo "onboarding_check with a wrong password: exit $c_rc, expected 2"; exit 1; }
fi

# 5. the Python package (issue 9): installed where DPGCERT_PYTHON_DIR says, run by Debian's python3
if [[ -n "${DPGCERT_PYTHON_DIR:-}" && -n "${DPGCERT_EXAMPLES:-}" ]]; then
  python=${DPGCERT_PYTHON:-/usr/bin/python3}
  site="$prefix/$DPGCERT_PYTHON_DIR"
  for f in dpgcert/__init__.py dpgcert/_dpgcert.pyi dpgcert/py.typed; do
    [[ -e "$site/$f" ]] || { echo "not installed: $DPGCERT_PYTHON_DIR/$f"; exit 1; }
  done
  # Run from the scratch folder, with only the installed package on the path (not the build tree's).
  # shellcheck disable=SC2086
  py() { (cd "$work" && env -u PYTHONPATH $DPGCERT_PYTHON_ENV PYTHONPATH="$site" PYTHONDONTWRITEBYTECODE=1 "$python" "$@"); }
  where=$(py -c 'import dpgcert, os; print(os.path.realpath(dpgcert.__file__))')
  [[ "$where" == "$(realpath "$site")"/dpgcert/__init__.py ]] || { echo "python imported dpgcert from $where"; exit 1; }
  set +e
  py_out=$(printf 'Test1234\n' >"$work/pw" && py "$DPGCERT_EXAMPLES/python/onboarding_check.py" "$p12" \
           --password-file "$work/pw" --trust "$root" --at 2025-06-01T00:00:00Z --cvr 12345674)
  py_rc=$?
  set -e
  [[ $py_rc -eq 1 ]] || { echo "onboarding_check.py: exit $py_rc, expected 1: $py_out"; exit 1; }
  echo "$py_out" | grep -q 'OCES2 FOCES (function), production, CVR 12345674' || { echo "onboarding_check.py printed: $py_out"; exit 1; }
  echo "$py_out" | grep -q 'Verdict: WARN' || { echo "onboarding_check.py printed no verdict: $py_out"; exit 1; }

  # The package has its metadata (importlib.metadata), of the library's version.
  meta=$(py -c 'import importlib.metadata as m, dpgcert; print(m.version("dpgcert"), dpgcert.__version__)')
  read -r meta_version module_version <<<"$meta"
  [[ -n "$meta_version" && "$meta_version" == "$module_version" ]] || { echo "python metadata: $meta"; exit 1; }
  # The README's Python snippet, against a store made by the installed tool.
  snippet python 1 >"$work/readme.py"
  "$prefix/bin/dpgcert" --store "$work/readme-store.db" store init >/dev/null
  readme_py=$(P12_PASSWORD=Test1234 py "$work/readme.py" "$p12" "$work/readme-store.db")
  echo "$readme_py" | grep -q 'OCES2 FOCES (function), production, CVR 12345674' || { echo "README Python snippet: $readme_py"; exit 1; }
  echo "$readme_py" | grep -q '^refused$' || { echo "README Python snippet (the synthetic root is not trusted): $readme_py"; exit 1; }

  # A store to check: made with the installed package itself (the synthetic PKI is not trusted by
  # the built-in OCES roots, so the import names its root).
  store="$work/store.db"
  py - "$store" "$DPGCERT_TEST_DATA" <<'PY'
import sys
from datetime import datetime, timezone
from pathlib import Path
import dpgcert
store_path, data = sys.argv[1], Path(sys.argv[2])
at = datetime(2025, 6, 1, tzinfo=timezone.utc)
root = dpgcert.load_certificates((data / "oces2-prod/root.crt.pem").read_bytes())
with dpgcert.Store.create(store_path, key_file=store_path + ".key", now=at) as s:
    for f, mailbox in (("odd/foces-expiring-soon.p12", "faktura@testfirma.dk"), ("oces2-prod/voces.p12", None)):
        r = s.import_pkcs12((data / f).read_bytes(), "Test1234", mailbox=mailbox, trust=root)
        assert r.outcome == "imported", (f, r.outcome, r.report.to_text() if r.report else None)
    s.add_callback_sink("renewal")
PY
  # The first run announces the 30-day threshold to the script's callback sink; the second has
  # nothing new to say, but the certificate is still in its warning stage.
  for run in first second; do
    set +e
    renewal=$(py "$DPGCERT_EXAMPLES/python/renewal_check.py" --store "$store" --days 30 \
              --now 2025-06-01T00:00:00Z --sink renewal)
    py_rc=$?
    set -e
    [[ $py_rc -eq 1 ]] || { echo "renewal_check.py ($run run): exit $py_rc, expected 1: $renewal"; exit 1; }
    echo "$renewal" | grep -q '2025-06-20 .* 19 days .*faktura@testfirma.dk' || { echo "renewal_check.py printed: $renewal"; exit 1; }
    if [[ $run == first ]]; then
      echo "$renewal" | grep -q '^event expiring (30-day threshold): faktura@testfirma.dk, sikkerpost snart udloebet, 19 days left' \
        || { echo "renewal_check.py announced no event: $renewal"; exit 1; }
      echo "$renewal" | grep -q '^1 new event(s), 1 delivered, 0 failed; 1 certificate(s) end within 30 days; worst: warning$' \
        || { echo "renewal_check.py printed: $renewal"; exit 1; }
    else
      echo "$renewal" | grep -q '^event' && { echo "renewal_check.py announced an event twice: $renewal"; exit 1; }
      echo "$renewal" | grep -q '^0 new event(s), 0 delivered, 0 failed; 1 certificate(s) end within 30 days; worst: warning$' \
        || { echo "renewal_check.py printed: $renewal"; exit 1; }
    fi
  done
  if [[ -x "$work/c-build/expiring_certificates" ]]; then
    set +e
    c_list=$(LD_LIBRARY_PATH="$prefix/lib" "$work/c-build/expiring_certificates" "$store" 30 --now 1748736000)
    c_rc=$?
    set -e
    [[ $c_rc -eq 1 ]] || { echo "expiring_certificates: exit $c_rc, expected 1: $c_list"; exit 1; }
    echo "$c_list" | grep -q '^   19  2025-06-20  [0-9a-f]\{64\}  faktura@testfirma.dk  sikkerpost snart udloebet$' \
      || { echo "expiring_certificates printed: $c_list"; exit 1; }
  fi
fi
echo "install_and_consume: ok ($prefix)"
