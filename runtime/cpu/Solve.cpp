//===- Solve.cpp - batched dense linear solves on LAPACK --------------------===//
//
// IDE's exact solver (snn.feedback_grad with solver = exact, for tests and
// small modules): one LAPACK sgesv (LU with partial pivoting) per sample.
//
//===----------------------------------------------------------------------===//
#include "snnrt/snnrt.h"

#include <cstdio>
#include <cstdlib>
#include <vector>

extern "C" void sgesv_(const int *n, const int *nrhs, float *a, const int *lda,
                       int *ipiv, float *b, const int *ldb, int *info);

extern "C" {

void _mlir_ciface_snnrt_solve_batched(snnrt_memref2d *a, snnrt_memref2d *x) {
  const int64_t batch = x->sizes[0], n = x->sizes[1];
  if (a->sizes[0] != batch * n || a->sizes[1] != n || a->strides[0] != n ||
      x->strides[0] != n) {
    std::fprintf(stderr, "snnrt: error: snnrt_solve_batched needs contiguous "
                         "[B*N, N] and [B, N] buffers\n");
    std::exit(1);
  }
  const int in = static_cast<int>(n), one = 1;
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<int> pivots(n);
    int info = 0;
    sgesv_(&in, &one, snnrt_data2d(a) + b * n * n, &in, pivots.data(),
           snnrt_data2d(x) + b * n, &in, &info);
    if (info != 0) {
      std::fprintf(stderr,
                   "snnrt: error: the exact IDE solve found (I - J^T) "
                   "singular for sample %lld (LAPACK sgesv info %d)\n",
                   static_cast<long long>(b), info);
      std::exit(1);
    }
  }
}

} // extern "C"
