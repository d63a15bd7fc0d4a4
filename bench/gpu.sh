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
#   bench/gpu.sh profile DIR [NAME]  where one step's device time goes (ncu)
#   bench/gpu.sh strategies DIR  each built-in neighborhood strategy: step
#                              time and accuracy after one epoch, on the GPU
#   bench/gpu.sh               prepare + run, on a machine that has snnc and a GPU
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
  "mnist_cnn_t30_g1 mnist_cnn s/T = 5/T = 30/g;s/float\[320, 10\] spikes/float[1920, 10] spikes/"
  "mnist_cnn_t30_g4 mnist_cnn s/T = 5/T = 30/g;s/float\[320, 10\] spikes/float[1920, 10] spikes/"
  "mnist_cnn_t30_g8 mnist_cnn s/T = 5/T = 30/g;s/float\[320, 10\] spikes/float[1920, 10] spikes/"
  "mnist_cnn_gemm mnist_cnn s/x/x/"
  "mnist_cnn_t30_gemm mnist_cnn s/T = 5/T = 30/g;s/float\[320, 10\] spikes/float[1920, 10] spikes/"
  "cifar10_alexnet_gemm cifar10_alexnet s/x/x/"
)
# Extra snnc flags per config: the T = 30 NA kernel with one chain at a time
# and with the chains in groups of 4 and 8, against the default groups of 6
# (snnc --gpu-chain-group) in mnist_cnn_t30; the gradient through a
# convolution by GEMM + col2im against the default cuDNN
# (snnc --gpu-conv-grad-input).
declare -A snnc_flags=(
  [mnist_cnn_t30_g1]="--gpu-chain-group=1"
  [mnist_cnn_t30_g4]="--gpu-chain-group=4"
  [mnist_cnn_t30_g8]="--gpu-chain-group=8"
  [mnist_cnn_gemm]="--gpu-conv-grad-input=gemm"
  [mnist_cnn_t30_gemm]="--gpu-conv-grad-input=gemm"
  [cifar10_alexnet_gemm]="--gpu-conv-grad-input=gemm"
)

prepare() {
  mkdir -p "$dir/bin" "$dir/lib" "$dir/data" "$dir/models"
  [ -x "$B/bin/snnc" ] || scripts/build.sh >/dev/null
  for c in "${configs[@]}"; do
    read -r name model edit <<<"$c"
    sed "$edit" "examples/models/$model.onnxtxt" >"$dir/models/$name.onnxtxt"
    "$B/bin/snnc" "$dir/models/$name.onnxtxt" -o "$dir/bin/$name" ${snnc_flags[$name]:-}
  done
  for lib in $(ldd "$dir/bin/fashion_mlp" | awk '/=> \//{print $3}'); do
    case $(basename "$lib") in
      libc.so*|libm.so*|libstdc++*|libgcc_s*|ld-linux*) ;;
      *) cp -L "$lib" "$dir/lib/" ;;
    esac
  done
  # Compressed: the libraries and Fashion-MNIST must fit what the device
  # tool carries (64 MiB).
  tar -C "$dir" -cJf "$dir/libs.tar.xz" lib && rm -rf "$dir/lib"
  cp /usr/share/datasets/fashion-mnist/*.gz "$dir/data/"
  cp -r bench/baselines "$dir/"
  # The built-in neighborhood-selection strategies (issue 7's GPU half).
  while read -r name selection pipeline; do
    "$B/bin/snnc" examples/models/fashion_mlp.onnxtxt -o "$dir/bin/strategy-$name" \
      --selection="$selection" --neighborhood="$pipeline"
  done <<'LIST'
sns sns snn-neighborhood-sns
windowed-w2 sns snn-neighborhood-sns{window=2}
pairs pairs snn-neighborhood-pairs
LIST
}

libraries() {
  [ -d "$dir/lib" ] || tar -C "$dir" -xJf "$dir/libs.tar.xz"
  export LD_LIBRARY_PATH="$dir/lib:${LD_LIBRARY_PATH:-}"
}

# Train-step time and test accuracy after one epoch of Fashion-MNIST for
# each built-in strategy, on the GPU.
strategies() {
  libraries
  printf '%-20s %10s %10s %14s\n' strategy "ms/step" "device ms" "test accuracy"
  for tr in "$dir"/bin/strategy-*; do
    out=$("$tr" --device cuda --data "$dir/data" --epochs 1 --seed 1 2>/dev/null | grep '^done\|^epoch')
    acc=$(sed -n 's/.*test accuracy \([0-9.]*\)%.*/\1/p' <<<"$out" | head -1)
    sps=$(sed -n 's/.*(\([0-9]*\) samples\/s).*/\1/p' <<<"$out" | head -1)
    dev=$(sed -n 's/.*device: \([0-9.]*\) ms\/step.*/\1/p' <<<"$out" | head -1)
    printf '%-20s %10.3f %10s %13s%%\n' "${tr##*/strategy-}" \
      "$(awk -v s="$sps" 'BEGIN { print 100000 / s }')" "$dev" "$acc"
  done
  echo "(1 epoch of Fashion-MNIST, batch 100, T 5; ms/step: wall clock of the epoch)"
}

run() {
  libraries
  # cuDNN may live in a Python wheel on the GPU machine.
  cudnn=$(find / -name 'libcudnn.so.9' -not -path '/proc/*' 2>/dev/null | head -1 || true)
  [ -n "$cudnn" ] && export LD_LIBRARY_PATH="$(dirname "$cudnn"):$LD_LIBRARY_PATH"
  torch=no
  python3 -c 'import torch; assert torch.cuda.is_available()' 2>/dev/null && torch=yes
  echo "device: $(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null || echo '?')"
  printf '%-16s %3s %5s %10s %10s %11s %12s %8s\n' model T batch "ms/step" \
    "device ms" "samples/s" "pytorch ms" ratio
  for c in "${configs[@]}"; do
    read -r name model _ <<<"$c"
    log=$("$dir/bin/$name" --device cuda --dataset synthetic --epochs 100 --max-steps 400 2>&1) || {
      echo "$name: $(tail -1 <<<"$log")"; continue; }
    line=$(grep "^stopped" <<<"$log" || true)
    T=$(grep -o 'EncodeCurrent <T = [0-9]*\|EncodeEvents <T = [0-9]*' "$dir/models/$name.onnxtxt" | grep -o '[0-9]*$' || echo 5)
    [ -n "$T" ] || T=5
    batch=$(grep -o '(float\[[0-9]*' "$dir/models/$name.onnxtxt" | head -1 | grep -o '[0-9]*')
    wall=$(sed -n "s/^stopped after [0-9]* steps: \([0-9.]*\) ms.*/\1/p" <<<"$line")
    dev=$(sed -n 's/.*device: \([0-9.]*\) ms\/step.*/\1/p' <<<"$line")
    torch_ms=- ratio=-
    if [ $torch = yes ] && [[ $model == mnist_cnn || $model == fashion_mlp ]] && [ -z "${snnc_flags[$name]:-}" ]; then
      torch_ms=$(python3 "$dir/baselines/na_pytorch.py" --model "$model" --device cuda \
                 --T "$T" --batch "$batch" --steps 20 | sed -n 's/.* \([0-9.]*\) ms\/step/\1/p')
      ratio=$(awk -v p="$torch_ms" -v s="$dev" 'BEGIN { printf "%.1fx", p / s }')
    fi
    printf '%-16s %3s %5s %10s %10s %11.0f %12s %8s\n' "$name" "$T" "$batch" "$wall" \
      "$dev" "$(awk -v b="$batch" -v d="$dev" 'BEGIN { print b * 1000 / d }')" "$torch_ms" "$ratio"
  done
  echo "with --tf32 (TF32 tensor cores in cuDNN and cuBLAS; opt-in):"
  for name in mnist_cnn mnist_cnn_t30 cifar10_alexnet; do
    line=$("$dir/bin/$name" --device cuda --tf32 --dataset synthetic --epochs 100 --max-steps 400 2>&1 | grep '^stopped' || true)
    printf '%-16s %27s\n' "$name" "$(sed -n 's/.*device: \([0-9.]*\) ms\/step.*/\1/p' <<<"$line")"
  done
  echo "(ms/step: wall clock of a 400-step run, JIT and cuDNN autotuning included;"
  echo " device ms: CUDA events around each replayed step, copies included;"
  echo " pytorch: bench/baselines/na_pytorch.py, eager, same GPU, same run)"
  if command -v ncu >/dev/null; then
    echo
    echo "NA backward kernels (ncu, one step, batch 256 MNIST CNN and batch 100 MLP):"
    for name in mnist_cnn_b256 fashion_mlp; do
      ncu --kernel-name regex:na_backward --launch-count 6 --csv --print-units base --metrics \
        dram__bytes.sum,gpu__time_duration.sum,dram__throughput.avg.pct_of_peak_sustained_elapsed \
        "$dir/bin/$name" --device cuda --no-cuda-graphs --dataset synthetic --max-steps 2 \
        2>/dev/null | awk -F'","' -v name="$name" '
          /na_backward/ { k = $5 " #" substr($1, 2); m = $(NF-2); v = $NF; gsub(/"/, "", v); gsub(/,/, "", v)
                          key = k; val[key, m] = v; names[key] = 1 }
          END { for (k in names) {
                  b = val[k, "dram__bytes.sum"]; t = val[k, "gpu__time_duration.sum"]
                  printf "  %-14s %-36s %9s bytes %9s ns %6s%% of peak DRAM bandwidth\n",
                         name, k, b, t, val[k, "dram__throughput.avg.pct_of_peak_sustained_elapsed"] } }'
    done
  fi
}

# Where one step's device time goes: every kernel of the third step of the
# T = 30 MNIST CNN (after the steps in which cuDNN measures its algorithms),
# grouped by kind: snnc's kernels by name, cuDNN / cuBLAS by library.
profile() {
  libraries
  cudnn=$(find / -name 'libcudnn.so.9' -not -path '/proc/*' 2>/dev/null | head -1 || true)
  [ -n "$cudnn" ] && export LD_LIBRARY_PATH="$(dirname "$cudnn"):$LD_LIBRARY_PATH"
  name=${3:-mnist_cnn_t30}
  echo "one step of $name, by kernel kind (ncu gpu__time_duration):"
  ncu --csv --print-units base --metrics gpu__time_duration.sum \
    "$dir/bin/$name" --device cuda --no-cuda-graphs --dataset synthetic --max-steps 3 \
    2>/dev/null | awk -F'","' '/gpu__time_duration/ { v = $NF; gsub(/[",]/, "", v); print $5 "\t" v }' \
    >"$dir/kernels.tsv"
  # The third step starts at the last launch of the step's first kernel.
  first=$(grep -m1 '_cuda_' "$dir/kernels.tsv" | cut -f1)
  start=$(grep -n -F "$first" "$dir/kernels.tsv" | tail -1 | cut -d: -f1)
  tail -n +"$start" "$dir/kernels.tsv" | awk -F'\t' '
    { k = $1
      if (k ~ /_cuda_/) { sub(/_[0-9]+$/, "", k); sub(/^.*_cuda_/, "snnc ", k) }
      else if (k ~ /cudnn|conv|grad|wgrad|dgrad|winograd|implicit/) k = "cuDNN convolutions"
      else if (k ~ /gemm|cublas/) k = "cuBLAS GEMM"
      t[k] += $2; n[k]++; total += $2 }
    END { for (k in t) printf "  %-28s %4d kernels %9.1f us %5.1f%%\n", k, n[k], t[k] / 1000, 100 * t[k] / total
          printf "  %-28s %4s         %9.1f us\n", "total", "", total / 1000 }' | sort -k1,1
}

case $mode in
  prepare) prepare ;;
  run) run ;;
  profile) profile "$@" ;;
  strategies) strategies ;;
  all) prepare; run; strategies ;;
  *) echo "usage: bench/gpu.sh [prepare|run|all] [DIR]" >&2; exit 2 ;;
esac
