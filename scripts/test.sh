#!/usr/bin/env bash
# The README's test command: installs what is missing, builds under ASan+UBSan (the `ci` preset)
# and runs the whole suite with ctest. .ci/run runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset ci >/dev/null
cmake --build --preset ci
# Tests run side by side, one per core (the clang build, the longest, starts first).
ctest --preset ci --parallel "$(nproc)" "$@"
