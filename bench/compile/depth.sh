#!/usr/bin/env bash
# Compile time and peak memory of snnc against network depth: deep MLPs of
# width-16 LIF layers (deep_mlp.py), each compiled to an object the way a
# trainer is built (both the CPU and the CUDA steps, as by default), timed by
# /usr/bin/time. Prints seconds, seconds per layer and peak RSS, so that the
# growth with depth reads off the table: constant s/layer is linear.
#
#   bench/compile/depth.sh [LAYERS...]      (default: 50 100 200 400)
#
# 2026-12-02, Intel Xeon (family 6 model 207), 2 cores: 100 layers 4.9 s,
# 400 layers 19.2 s, 1000 layers 47.7 s and 2.1 GB (0.048 s/layer at every
# depth). The same session began at 116 s for 1000 layers; verifying the IR
# once per stage instead of after every pass (--verify-each) took it to
# 69-76 s, and the LLVM back end of each side on its own thread, started
# as soon as that side is lowered (it ran both sides one after the other
# on one core), with O3 kept off the CUDA side's glue, to 47.7 s.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${SNNC_BUILD_DIR:-build}
[ -x "$B/bin/snnc" ] || scripts/build.sh >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
[ $# -gt 0 ] || set -- 50 100 200 400
printf '%8s %10s %10s %10s\n' layers seconds s/layer "peak MB"
for L in "$@"; do
  python3 bench/compile/deep_mlp.py "$L" > "$out/m.onnxtxt"
  /usr/bin/time -f '%e %M' -o "$out/time" \
    "$B/bin/snnc" "$out/m.onnxtxt" --emit=obj -o "$out/m.o"
  read -r s kb < "$out/time"
  awk -v L="$L" -v s="$s" -v kb="$kb" \
    'BEGIN { printf "%8d %10.1f %10.3f %10.0f\n", L, s, s / L, kb / 1024 }'
done
