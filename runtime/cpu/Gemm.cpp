//===- Gemm.cpp - dense-layer GEMMs on OpenBLAS -----------------------------===//
//
// Each OpenMP thread computes its block of C's rows with a single-threaded
// OpenBLAS GEMM (Threads.h).
//
//===----------------------------------------------------------------------===//
#include "Threads.h"
#include "snnrt/snnrt.h"

namespace {

/// C[M,N] = op(A) op(B), C's rows split over the threads; row i of op(A)
/// starts `aRow` floats after row 0.
void gemmByRows(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int64_t m, int64_t n,
                int64_t k, const snnrt_memref2d *a, int64_t aRow,
                const snnrt_memref2d *b, snnrt_memref2d *c) {
  snnrt::cpu::useOneBlasThread();
  snnrt::cpu::forEachShare(m, [&](int64_t r, int64_t rows) {
    snnrt::cpu::sgemm(CblasRowMajor, ta, tb, rows, n, k, 1.0f,
                snnrt_data2d(a) + r * aRow, a->strides[0], snnrt_data2d(b),
                b->strides[0], 0.0f, snnrt_data2d(c) + r * c->strides[0],
                c->strides[0]);
  });
}

} // namespace

extern "C" {

void _mlir_ciface_snnrt_matmul_nt(snnrt_memref2d *a, snnrt_memref2d *b,
                                  snnrt_memref2d *c) {
  gemmByRows(CblasNoTrans, CblasTrans, a->sizes[0], b->sizes[0], a->sizes[1],
             a, a->strides[0], b, c);
}

void _mlir_ciface_snnrt_matmul_nn(snnrt_memref2d *a, snnrt_memref2d *b,
                                  snnrt_memref2d *c) {
  gemmByRows(CblasNoTrans, CblasNoTrans, a->sizes[0], b->sizes[1], a->sizes[1],
             a, a->strides[0], b, c);
}

void _mlir_ciface_snnrt_matmul_tn(snnrt_memref2d *a, snnrt_memref2d *b,
                                  snnrt_memref2d *c) {
  gemmByRows(CblasTrans, CblasNoTrans, a->sizes[1], b->sizes[1], a->sizes[0],
             a, 1, b, c);
}

void snnrt_set_num_threads(int threads) {
  if (threads > 0)
    omp_set_num_threads(threads);
}

int snnrt_get_num_threads(void) { return omp_get_max_threads(); }

} // extern "C"
