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

# 3. the installed tool runs
"$prefix/bin/dpgcert" --version | grep -q '^dpgcert ' || { echo "installed dpgcert --version failed"; exit 1; }
"$prefix/bin/dpgcert" inspect --json "$pem" | grep -q "$expected" || { echo "installed dpgcert inspect failed"; exit 1; }
echo "install_and_consume: ok ($prefix)"
