#!/usr/bin/env bash
# The tests' Python environment: NIR's own package (nir, pure Python on
# numpy and h5py, from PyPI) in $BUILD/venv, which the NIR tests use to read
# what snnc writes and to write graphs for snnc to read. Idempotent: a
# second run changes nothing and makes no network access.
set -euo pipefail
cd "$(dirname "$0")/.."
V=${SNNC_BUILD_DIR:-build}/venv
if [ -x "$V/bin/python" ] && "$V/bin/python" -c "import nir" 2>/dev/null; then
  echo "snnc: test environment present ($V)"
  exit 0
fi
echo "snnc: creating the test environment $V (pip install nir)"
python3 -m venv "$V"
"$V/bin/pip" install -q --disable-pip-version-check "nir>=1.0,<1.1"
