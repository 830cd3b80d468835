#!/usr/bin/env bash
# Compiles every source of dpgcert (library, tool, C API, Python module, tests, benchmarks) with
# clang and -Werror for its diagnostics only: each command of the build's compile_commands.json
# is run with -fsyntax-only, side by side, and nothing is linked. Clang's warnings are its front
# end's, so nothing is lost against a full build, at about half the time. (The sources the build
# generates are all written at configure time.)
#   clang_check.sh SOURCE_DIR BUILD_DIR CLANGXX CLANGC
set -euo pipefail
src=$1 bin=$2 cxx=$3 cc=$4
cmake -S "$src" -B "$bin" -G Ninja -DCMAKE_BUILD_TYPE=None \
  -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_C_COMPILER="$cc" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
  -DDPGCERT_WERROR=ON -DDPGCERT_BUILD_TESTS=ON -DDPGCERT_BUILD_BENCH=ON >/dev/null
exec python3 - "$bin/compile_commands.json" <<'PY'
import concurrent.futures, json, os, re, subprocess, sys

entries = json.load(open(sys.argv[1]))
if len(entries) < 100:
    sys.exit(f"clang_check: only {len(entries)} sources in {sys.argv[1]}: has the build's layout changed?")

def check(e):
    # The object is not written: -o and its argument go, -fsyntax-only comes.
    cmd = re.sub(r"\s-o\s+\S+", " ", e["command"]) + " -fsyntax-only"
    r = subprocess.run(cmd, shell=True, cwd=e["directory"], capture_output=True, text=True)
    return e["file"], r.returncode, r.stdout + r.stderr

failed = 0
with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
    for f, rc, out in pool.map(check, entries):
        if rc != 0 or out.strip():
            print(f"== {f}\n{out}", flush=True)
        failed += rc != 0
print(f"clang_check: {len(entries)} sources, {failed} failed")
sys.exit(1 if failed else 0)
PY
