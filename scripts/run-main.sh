#!/usr/bin/env bash
# Installs what is missing, builds, compiles the example Fashion-MNIST network
# (examples/models/fashion_mlp.onnxtxt) into a trainer and trains it on CPU
# on Debian's dataset-fashion-mnist. Extra arguments go to the trainer.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
B=${SNNC_BUILD_DIR:-build}
"$B/bin/snnc" examples/models/fashion_mlp.onnxtxt -o "$B/fashion_trainer"
# Each run trains afresh (--overwrite replaces the previous run's checkpoint
# and metrics, so that the command stays idempotent; continue a run with
# "$B/fashion_trainer" --checkpoint "$B/fashion.ckpt" --resume).
"$B/fashion_trainer" --metrics "$B/fashion_metrics.jsonl" \
  --plot "$B/fashion_training.svg" --checkpoint "$B/fashion.ckpt" --overwrite "$@"
