#!/usr/bin/env bash
# Trains one accuracy recipe to the end from a fresh build and appends its
# row to docs/results.md (best and final test accuracy, epochs, wall time,
# the commit and the machine), keeping the per-epoch metrics and the plot in
# docs/results/NAME/.
#
#   examples/recipes/run.sh fashion_mlp [trainer options...]
#
# NAME is examples/recipes/NAME.onnxtxt (or examples/models/NAME.onnxtxt);
# the model's settings (snn.epochs,
# snn.lr, snn.schedule, ...) are the recipe; extra options go to the trainer
# (e.g. --epochs 20 for a shorter run, which the row then says). An
# interrupted run continues with the same command (--resume from
# build/recipes/NAME.ckpt).
#
# SNNC_FLAGS (e.g. SNNC_FLAGS=--ide-official-bn-stats) compiles the recipe
# with those snnc options: a variant, whose trainer, checkpoint, metrics and
# plot go to their own places (docs/results/NAME/VARIANT/, VARIANT the
# options without dashes) and whose row names the options.
set -euo pipefail
cd "$(dirname "$0")/../.."
name=${1:?usage: examples/recipes/run.sh NAME [trainer options]}
shift
# A recipe is examples/recipes/NAME.onnxtxt, or an example model whose
# settings are its paper's recipe (examples/models/f400.onnxtxt).
model=examples/recipes/$name.onnxtxt
[ -f "$model" ] || model=examples/models/$name.onnxtxt
[ -f "$model" ] || { echo "run.sh: no recipe examples/recipes/$name.onnxtxt" >&2; exit 2; }
scripts/install-deps.sh
scripts/build.sh
B=${SNNC_BUILD_DIR:-build}
read -r -a flags <<< "${SNNC_FLAGS:-}"
variant=$(printf '%s' "${flags[*]}" | tr -s ' =' '_' | tr -d -- '-')
out=docs/results/$name${variant:+/$variant}
trainer=$B/recipes/$name${variant:+-$variant}
mkdir -p "$B/recipes" "$out"
"$B/bin/snnc" "$model" "${flags[@]}" -o "$trainer"
ckpt="$trainer.ckpt"
resume=()
[ -f "$ckpt" ] && resume=(--resume)
start=$(date +%s)
"$trainer" --checkpoint "$ckpt" "${resume[@]}" \
  --metrics "$out/metrics.jsonl" --plot "$out/training.svg" "$@"
end=$(date +%s)
python3 examples/recipes/report.py "$name" "$out/metrics.jsonl" \
  $((end - start)) "$(echo "${flags[*]} $*" | xargs)" >> docs/results.md
tail -1 docs/results.md
