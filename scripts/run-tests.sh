#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite (ctest).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
scripts/test-venv.sh
ctest --test-dir "${SNNC_BUILD_DIR:-build}" --output-on-failure
