#!/usr/bin/env bash
# Train-step time and test accuracy after a fixed budget (one epoch of
# Fashion-MNIST) for each built-in neighborhood-selection strategy on the
# Fashion MLP 784-400-400-10 (batch 100, T = 5), on this machine's cores.
#
#   bench/strategies.sh [epochs] [threads]
set -euo pipefail
cd "$(dirname "$0")/.."
EPOCHS=${1:-1}
THREADS=${2:-$(nproc)}
B=${SNNC_BUILD_DIR:-build}
[ -x "$B/bin/snnc" ] || scripts/build.sh >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

printf '%-26s %10s %14s\n' strategy "ms/step" "test accuracy"
while read -r name selection pipeline; do
  "$B/bin/snnc" examples/models/fashion_mlp.onnxtxt -o "$out/$name" \
    --selection="$selection" --neighborhood="$pipeline"
  "$out/$name" --epochs "$EPOCHS" --threads "$THREADS" --seed 1 \
    --metrics "$out/$name.jsonl" >/dev/null 2>&1
  awk -v name="$name" '
    { match($0, /"test_accuracy": [0-9.e-]+/); acc = substr($0, RSTART + 17, RLENGTH - 17)
      match($0, /"samples_per_second": [0-9.e+-]+/); sps = substr($0, RSTART + 22, RLENGTH - 22) }
    END { printf "%-26s %10.2f %13.2f%%\n", name, 100000 / sps, 100 * acc }' "$out/$name.jsonl"
done <<'LIST'
sns sns snn-neighborhood-sns
windowed-sns(w=2) sns snn-neighborhood-sns{window=2}
pairs(eq.15) pairs snn-neighborhood-pairs
LIST
echo "($(nproc) cores, $THREADS threads, $EPOCHS epoch(s), batch 100: ms/step = 100 / samples per s)"
