#!/usr/bin/env bash
# CPU train-step time of snnc against the eager PyTorch NA baseline
# (bench/baselines/na_pytorch.py), both measured in this run, on this
# machine's cores: the MNIST CNN 15C5-P2-40C5-P2-300-10 (batch 64, T 5), the
# Fashion MLP 784-400-400-10 (batch 100, T 5) and the Fashion CNN
# 32C5-P2-64C5-P2-1024-10 (batch 64, T 5). For snnc it also prints the
# GEMM and convolution work of a step (the runtime counts it) as GFLOP/s and
# as a share of this machine's float32 peak (snnc-bench-peak says how that
# is derived). Nothing is set in the environment: what a new user gets.
#
#   bench/train_step.sh [threads]        (needs Debian's python3-torch)
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${1:-$(nproc)}
B=${SNNC_BUILD_DIR:-build}
PY=/usr/bin/python3   # Debian's python3-torch lives there
[ -x "$B/bin/snnc" ] && [ -x "$B/bin/snnc-bench-peak" ] || scripts/build.sh >/dev/null
$PY -c 'import torch' 2>/dev/null || {
  echo "bench: PyTorch missing: apt-get install python3-torch" >&2; exit 1; }
. bench/baselines/blas.sh
baseline_blas "$THREADS" || exit 1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

"$B/bin/snnc-bench-peak" | tee "$out/peak.txt"
peak=$(sed -n 's/^peak_gflops //p' "$out/peak.txt")

snnc_run() { # model steps -> "ms gflops" of a real training run
  "$B/bin/snnc" "examples/models/$1.onnxtxt" -o "$out/$1"
  "$out/$1" --dataset fashion-mnist --max-steps "$2" --threads "$THREADS" \
    2>"$out/$1.err" | sed -n \
    's/.*: \([0-9.]*\) ms\/step.*GFLOP\/step, \([0-9.]*\) GFLOP\/s.*/\1 \2/p'
}
torch_ms() { # model steps
  "${BASELINE_ENV[@]}" $PY bench/baselines/na_pytorch.py --model "$1" --steps "$2" \
    --threads "$THREADS" | sed -n 's/.* \([0-9.]*\) ms\/step/\1/p'
}

printf '\n%-12s %10s %10s %9s %12s %8s\n' model "snnc ms" "GFLOP/s" "of peak" \
  "pytorch ms" speedup
for spec in "mnist_cnn 150 3" "fashion_mlp 400 5" "fashion_cnn 60 2"; do
  set -- $spec
  read -r s g < <(snnc_run "$1" "$2")
  p=$(torch_ms "$1" "$3")
  printf '%-12s %10.2f %10.1f %8.1f%% %12.1f %7.1fx\n' "$1" "$s" "$g" \
    "$(awk -v g="$g" -v p="$peak" 'BEGIN { print 100 * g / p }')" "$p" \
    "$(awk -v p="$p" -v s="$s" 'BEGIN { print p / s }')"
done
grep -h '^trainer: cpu:' "$out/fashion_mlp.err"
echo "$BASELINE_BLAS"
echo "($(nproc) cores, $THREADS threads, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)," \
     "family $(sed -n 's/^cpu family\s*: //p' /proc/cpuinfo | head -1)" \
     "model $(sed -n 's/^model\s*: //p' /proc/cpuinfo | head -1); snnc: mean over" \
     "the steps of a real training run on Fashion-MNIST, data loading" \
     "overlapped; GFLOP/s counts GEMMs and convolutions only)"
