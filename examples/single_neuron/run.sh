#!/usr/bin/env bash
# The NA paper's single-neuron experiment (Table 1, Figure 6b) for NA and
# STBP, in the authors' protocol and rules (NA_SPEC section 6): builds snnc
# and the experiment if needed, runs it (500 rounds of 200 iterations by
# default) and writes the mean loss curves as CSV and SVG. Extra arguments
# go to the experiment (--protocol table1: the paper's Table 1 text).
#
#   examples/single_neuron/run.sh [rounds] [output folder] [options...]
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-500}
OUT=${2:-build/single_neuron}
shift $(( $# > 2 ? 2 : $# ))
scripts/build.sh > /dev/null
mkdir -p "$OUT"
"${SNNC_BUILD_DIR:-build}/bin/single-neuron" --rounds "$ROUNDS" \
  --csv "$OUT/loss.csv" --svg "$OUT/loss.svg" "$@"
echo "loss curves: $OUT/loss.csv, $OUT/loss.svg"
