#!/usr/bin/env bash
# CPU train-step time of IDE's F400 (examples/models/f400.onnxtxt: batch 128,
# T 5, LIF, Broyden) in snnc against the eager PyTorch baseline
# written from IDE_SPEC in the official code's style (bench/baselines/
# ide_pytorch.py: autograd VJPs, Broyden), both measured in this run on
# this machine, on Fashion-MNIST (Debian's dataset-fashion-mnist). Nothing is
# set in the environment.
#
#   bench/ide_step.sh [steps]        (needs Debian's python3-torch)
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${1:-200}
B=${SNNC_BUILD_DIR:-build}
PY=/usr/bin/python3
[ -x "$B/bin/snnc" ] || scripts/build.sh >/dev/null
$PY -c 'import torch' 2>/dev/null || {
  echo "bench: PyTorch missing: apt-get install python3-torch" >&2; exit 1; }
. bench/baselines/blas.sh
baseline_blas 1 || exit 1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$B/bin/snnc" examples/models/f400.onnxtxt -o "$out/f400" 2>/dev/null
ms() { # threads -> ms/step of snnc
  "$out/f400" --max-steps "$STEPS" --threads "$1" 2>/dev/null |
    sed -n 's/.*: \([0-9.]*\) ms\/step.*/\1/p'
}
echo "cpu: $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(nproc) cores"
one=$(ms 1)
two=$(ms 2)
torch=$("${BASELINE_ENV[@]}" $PY bench/baselines/ide_pytorch.py --steps 20 --threads 1)
tms=$(echo "$torch" | sed -n 's/.*pytorch \([0-9.]*\) ms\/step.*/\1/p')
printf 'f400 snnc, 1 thread:  %8.2f ms/step (%.0f samples/s)\n' "$one" \
  "$(python3 -c "print(128000/$one)")"
printf 'f400 snnc, 2 threads: %8.2f ms/step (%.0f samples/s)\n' "$two" \
  "$(python3 -c "print(128000/$two)")"
echo "$torch (1 thread)"
echo "$BASELINE_BLAS"
printf 'snnc 1 thread / PyTorch 1 thread: %.1fx; snnc 2 threads / PyTorch 1 thread: %.1fx\n' \
  "$(python3 -c "print($tms/$one)")" "$(python3 -c "print($tms/$two)")"
