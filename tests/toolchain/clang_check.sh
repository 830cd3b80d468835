#!/usr/bin/env bash
# Compiles every source of dpgcert (library, tool, C API, Python module, tests, benchmarks) with
# clang and -Werror for its diagnostics only: `-fsyntax-only` through a compiler launcher (so that
# CMake's own compiler checks still compile and link normally), and only the object files are
# asked of ninja, since no object is written and nothing can be linked. Clang's warnings are its
# front end's, so nothing is lost against a full build, at about half the time and no linking.
#   clang_check.sh SOURCE_DIR BUILD_DIR CLANGXX CLANGC
set -euo pipefail
src=$1 bin=$2 cxx=$3 cc=$4
launcher="$bin-syntax-only"
mkdir -p "$(dirname "$launcher")"
printf '#!/bin/sh\nexec "$@" -fsyntax-only\n' > "$launcher"
chmod +x "$launcher"
cmake -S "$src" -B "$bin" -G Ninja -DCMAKE_BUILD_TYPE=None \
  -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_C_COMPILER="$cc" \
  -DCMAKE_CXX_COMPILER_LAUNCHER="$launcher" -DCMAKE_C_COMPILER_LAUNCHER="$launcher" \
  -DDPGCERT_WERROR=ON -DDPGCERT_BUILD_TESTS=ON -DDPGCERT_BUILD_BENCH=ON >/dev/null
mapfile -t objects < <(ninja -C "$bin" -t targets all | sed -n 's/^\(.*\.o\): .*/\1/p')
if [ "${#objects[@]}" -lt 100 ]; then
  echo "clang_check: only ${#objects[@]} object files found in $bin: the build's layout changed?" >&2
  exit 1
fi
echo "clang_check: ${#objects[@]} sources"
ninja -C "$bin" "${objects[@]}"
