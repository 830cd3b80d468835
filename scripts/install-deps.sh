#!/usr/bin/env bash
# Installs every Debian package dpgcert needs to build, test and run (Debian 12 "bookworm").
# Idempotent and quick when everything is already there: apt is only touched for missing packages.
set -euo pipefail

packages=(
  build-essential g++ clang libclang-rt-14-dev lld cmake ninja-build pkg-config git ca-certificates openssl
  libssl-dev libbotan-2-dev libsqlite3-dev libpq-dev postgresql
  libp11-kit-dev p11-kit softhsm2 opensc libcurl4-openssl-dev
  nlohmann-json3-dev doctest-dev libcli11-dev libbenchmark-dev
  python3 python3-dev python3-pytest python3-jsonschema python3-aiosmtpd pybind11-dev
  python3-cryptography  # bench/bench_python_x509.py: the pyca/cryptography baseline
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "dpgcert: installing ${#missing[@]} missing Debian packages: ${missing[*]}" >&2
sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "dpgcert: need root (or sudo) to install packages" >&2; exit 1; }
  sudo=(sudo)
fi
"${sudo[@]}" apt-get update -q
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
