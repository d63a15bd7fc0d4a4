#!/usr/bin/env bash
# Installs the Debian packages snnc needs, only those that are missing.
# Idempotent: a second run installs nothing and makes no network access.
set -euo pipefail
pkgs=(cmake ninja-build g++ mold ccache
      libmlir-22-dev mlir-22-tools llvm-22-dev llvm-22-tools
      libprotobuf-dev protobuf-compiler libonnx-dev
      libdnnl-dev liblapack3 zlib1g-dev libgtest-dev
      dataset-fashion-mnist python3 python3-venv libhdf5-dev
      clang-22 libclang-rt-22-dev libfuzzer-22-dev libomp-22-dev
      openmpi-bin libopenmpi-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "snnc: all build dependencies present"
  exit 0
fi
echo "snnc: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
