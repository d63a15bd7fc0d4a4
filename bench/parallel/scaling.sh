#!/usr/bin/env bash
# Data-parallel scaling on this machine (docs/data-parallel.md): the Fashion
# MLP 784-400-400-10 (batch 100 per rank, T 5) and the MNIST CNN
# 15C5-P2-40C5-P2-300-10 (batch 64 per rank, T 5) trained by one process
# and by 2 MPI ranks, one thread each, all measured in this run. Efficiency
# is (samples/s of N ranks) / (N x samples/s of one process). For 2 ranks it
# also compares the gradient all-reduce in one collective per step (the
# default) with one collective per tensor (--dp-bucket-mb 0).
# The data is Fashion-MNIST (Debian's package) for both models.
#
#   bench/parallel/scaling.sh [steps]
set -euo pipefail
cd "$(dirname "$0")/../.."
STEPS=${1:-200}
B=${SNNC_BUILD_DIR:-build}
[ -x "$B/bin/snnc" ] && [ -e "$B/lib/libsnnmpi.so" ] || scripts/build.sh >/dev/null
command -v mpirun >/dev/null || { echo "bench: mpirun missing (apt install openmpi-bin)" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

rate() { # command... -> samples/s of the run's steps
  "$@" --dataset fashion-mnist --max-steps "$STEPS" --threads 1 2>/dev/null |
    sed -n 's/.* ms\/step, \([0-9.]*\) samples\/s.*/\1/p'
}
echo "cpu: $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(nproc) cores; $STEPS steps per run"
printf '%-12s %12s %12s %10s %16s\n' model "1 proc s/s" "2 ranks s/s" efficiency "per-tensor s/s"
for model in fashion_mlp mnist_cnn; do
  "$B/bin/snnc" "examples/models/$model.onnxtxt" -o "$out/$model"
  one=$(rate "$out/$model")
  two=$(rate mpirun --oversubscribe --bind-to core -np 2 "$out/$model")
  per=$(rate mpirun --oversubscribe --bind-to core -np 2 "$out/$model" --dp-bucket-mb 0)
  eff=$(python3 -c "print('%.2f' % ($two / (2 * $one)))")
  printf '%-12s %12s %12s %10s %16s\n' "$model" "$one" "$two" "$eff" "$per"
done
