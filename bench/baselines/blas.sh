# Sourced by the benchmarks before they run an eager PyTorch baseline on the
# CPU. Debian's python3-torch does its Linear layers and batched matrix
# products with whatever libblas.so.3 the system has; on a fresh Debian that
# is the reference (netlib) BLAS, a plain Fortran loop, and a baseline on it
# is several times slower than PyTorch as its users run it (measured on an
# AMD EPYC family 26, 2 threads, Fashion MLP NA step: reference BLAS 395
# ms, OpenBLAS 0.3.21 with its own choice of kernels (Haswell, AVX2) 64-91
# ms, with its SkylakeX (AVX-512) kernels 21-24 ms). So the baseline gets
# OpenBLAS, and the kernels for this CPU's instruction set chosen from its
# features: OpenBLAS 0.3.21 does not know the newest processors (it runs
# Haswell kernels on that AVX-512 EPYC and SSE3 "Prescott" ones on Intel's
# family 6 model 207).
#
#   baseline_blas THREADS   sets BASELINE_ENV (an env(1) command prefix for
#                           the baseline) and BASELINE_BLAS (one line: what
#                           it runs)
baseline_blas() {
  local dir=/usr/lib/x86_64-linux-gnu/openblas-pthread
  if [ ! -e "$dir/libopenblas.so.0" ]; then
    echo "bench: OpenBLAS missing (the PyTorch baseline's BLAS): apt-get install libopenblas0-pthread" >&2
    return 1
  fi
  local flags core="" f ok
  flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
  has() { for f in "$@"; do [[ $flags == *" $f "* ]] || return 1; done; }
  if has avx512f avx512bw avx512vl avx512dq; then
    core=SkylakeX
  elif has avx2 fma; then
    core=Haswell
  fi
  BASELINE_ENV=(env "LD_PRELOAD=$dir/libopenblas.so.0" "OPENBLAS_NUM_THREADS=$1"
                ${core:+"OPENBLAS_CORETYPE=$core"})
  local own
  own=$(OPENBLAS_VERBOSE=2 LD_PRELOAD="$dir/libopenblas.so.0" /usr/bin/python3 -c \
    'import torch; (torch.ones(64, 64) @ torch.ones(64, 64)).sum()' 2>&1 |
    sed -n 's/^Core: //p' | head -1)
  ok=$("${BASELINE_ENV[@]}" OPENBLAS_VERBOSE=2 /usr/bin/python3 -c \
    'import torch; (torch.ones(64, 64) @ torch.ones(64, 64)).sum()' 2>&1 |
    sed -n 's/^Core: //p' | head -1)
  BASELINE_BLAS="PyTorch baseline: torch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)'),"
  BASELINE_BLAS+=" BLAS OpenBLAS $(dpkg-query -W -f '${Version}' libopenblas0-pthread 2>/dev/null)"
  BASELINE_BLAS+=" with its ${ok:-?} kernels, $1 thread(s)"
  [ -n "$core" ] && [ "$own" != "$ok" ] &&
    BASELINE_BLAS+=" (chosen from the CPU's features; OpenBLAS alone picks ${own:-?})"
  return 0
}
