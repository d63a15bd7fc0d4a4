#!/usr/bin/env bash
# GPU train-step benchmark (issue 6). The GPU machine has no LLVM, so the
# trainers are compiled where snnc is and carried over:
#   bench/gpu.sh prepare DIR   compile the trainers into DIR/bin, copy the
#                              runtime libraries a bare CUDA machine lacks
#                              into DIR/lib and a Fashion-MNIST subset into
#                              DIR/data
#   bench/gpu.sh run DIR       on the GPU machine: step times, samples/s, the
#                              NA backward kernel's DRAM bandwidth (ncu) and
#                              the eager PyTorch baseline on the same GPU
#   bench/gpu.sh               both, on a machine that has snnc and a GPU
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-all} dir=${2:-$(mktemp -d)}
B=${SNNC_BUILD_DIR:-build}

# name model-file sed-edit (T and batch variants of the example models)
configs=(
  "fashion_mlp fashion_mlp s/x/x/"
  "mnist_cnn mnist_cnn s/x/x/"
  "mnist_cnn_t30 mnist_cnn s/T = 5/T = 30/g;s/float\[320, 10\] spikes/float[1920, 10] spikes/"
  "mnist_cnn_b256 mnist_cnn s/float\[64,/float[256,/;s/int32\[64\]/int32[256]/;s/float\[320, 10\] spikes/float[1280, 10] spikes/"
  "cifar10_alexnet cifar10_alexnet s/x/x/"
)

prepare() {
  mkdir -p "$dir/bin" "$dir/lib" "$dir/data" "$dir/models"
  [ -x "$B/bin/snnc" ] || scripts/build.sh >/dev/null
  for c in "${configs[@]}"; do
    read -r name model edit <<<"$c"
    sed "$edit" "examples/models/$model.onnxtxt" >"$dir/models/$name.onnxtxt"
    "$B/bin/snnc" "$dir/models/$name.onnxtxt" -o "$dir/bin/$name"
  done
  for lib in $(ldd "$dir/bin/fashion_mlp" | awk '/=> \//{print $3}'); do
    case $(basename "$lib") in
      libc.so*|libm.so*|libstdc++*|libgcc_s*|ld-linux*) ;;
      *) cp -L "$lib" "$dir/lib/" ;;
    esac
  done
  # The test images serve as both splits (the whole set is too large to
  # carry); enough for step times and the CPU/GPU comparison.
  src=/usr/share/datasets/fashion-mnist
  for split in train t10k; do
    cp "$src/t10k-images-idx3-ubyte.gz" "$dir/data/$split-images-idx3-ubyte.gz"
    cp "$src/t10k-labels-idx1-ubyte.gz" "$dir/data/$split-labels-idx1-ubyte.gz"
  done
  cp -r bench/baselines "$dir/"
}

run() {
  export LD_LIBRARY_PATH="$dir/lib:${LD_LIBRARY_PATH:-}"
  # cuDNN may live in a Python wheel on the GPU machine.
  cudnn=$(find / -name 'libcudnn.so.9' -not -path '/proc/*' 2>/dev/null | head -1 || true)
  [ -n "$cudnn" ] && export LD_LIBRARY_PATH="$(dirname "$cudnn"):$LD_LIBRARY_PATH"
  printf '%-16s %5s %5s %12s %12s %12s\n' model T batch "ms/step" "device ms" "samples/s"
  for c in "${configs[@]}"; do
    read -r name _ <<<"$c"
    line=$("$dir/bin/$name" --device cuda --dataset synthetic --max-steps 300 2>/dev/null | grep '^stopped')
    T=5; [[ $name == *t30 ]] && T=30
    batch=$(sed -n 's/.*x (float\[\([0-9]*\),.*/\1/p;s/^[a-z_0-9]* (float\[\([0-9]*\),.*/\1/p' "$dir/models/$name.onnxtxt" | head -1)
    wall=$(sed -n 's/.*: \([0-9.]*\) ms\/step.*/\1/p' <<<"$line")
    dev=$(sed -n 's/.*device: \([0-9.]*\) ms\/step.*/\1/p' <<<"$line")
    printf '%-16s %5s %5s %12s %12s %12.0f\n' "$name" "$T" "$batch" "$wall" "$dev" \
      "$(awk -v b="$batch" -v d="$dev" 'BEGIN { print b * 1000 / d }')"
  done
}

case $mode in
  prepare) prepare ;;
  run) run ;;
  all) prepare; run ;;
  *) echo "usage: bench/gpu.sh [prepare|run|all] [DIR]" >&2; exit 2 ;;
esac
