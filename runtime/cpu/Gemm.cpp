//===- Gemm.cpp - dense-layer GEMMs on oneDNN -------------------------------===//
//
// One oneDNN sgemm per call, on the OpenMP threads of the compiled loops
// (oneDNN's OpenMP calls resolve to the same libomp: Threads.h).
//
//===----------------------------------------------------------------------===//
#include "CpuKernels.h"
#include "snnrt/snnrt.h"

#include <omp.h>

namespace {

/// C[M,N] = op(A) op(B).
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k,
          const snnrt_memref2d *a, const snnrt_memref2d *b,
          snnrt_memref2d *c) {
  snnrt::cpu::countFlops(2 * m * n * k);
  snnrt::cpu::sgemm(ta, tb, m, n, k, snnrt_data2d(a), a->strides[0],
                    snnrt_data2d(b), b->strides[0], 0.0f, snnrt_data2d(c),
                    c->strides[0]);
}

} // namespace

extern "C" {

void _mlir_ciface_snnrt_matmul_nt(snnrt_memref2d *a, snnrt_memref2d *b,
                                  snnrt_memref2d *c) {
  gemm(false, true, a->sizes[0], b->sizes[0], a->sizes[1], a, b, c);
}

void _mlir_ciface_snnrt_matmul_nn(snnrt_memref2d *a, snnrt_memref2d *b,
                                  snnrt_memref2d *c) {
  gemm(false, false, a->sizes[0], b->sizes[1], a->sizes[1], a, b, c);
}

void _mlir_ciface_snnrt_matmul_tn(snnrt_memref2d *a, snnrt_memref2d *b,
                                  snnrt_memref2d *c) {
  gemm(true, false, a->sizes[1], b->sizes[1], a->sizes[0], a, b, c);
}

void snnrt_set_num_threads(int threads) {
  if (threads > 0)
    omp_set_num_threads(threads);
}

int snnrt_get_num_threads(void) { return omp_get_max_threads(); }

} // extern "C"
