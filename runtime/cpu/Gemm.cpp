//===- Gemm.cpp - dense-layer GEMMs on OpenBLAS -----------------------------===//
//
// Each OpenMP thread computes its block of C's rows with a single-threaded
// OpenBLAS GEMM (Threads.h).
//
//===----------------------------------------------------------------------===//
#include "Threads.h"
#include "snnrt/snnrt.h"

using snnrt::cpu::forEachShare;
using snnrt::cpu::useOneBlasThread;

extern "C" {

void _mlir_ciface_snnrt_matmul_nt(snnrt_memref2d *a, snnrt_memref2d *b,
                                  snnrt_memref2d *c) {
  useOneBlasThread();
  int64_t m = a->sizes[0], k = a->sizes[1], n = b->sizes[0];
  forEachShare(m, [&](int64_t r, int64_t rows) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, n, k, 1.0f,
                snnrt_data2d(a) + r * a->strides[0], a->strides[0],
                snnrt_data2d(b), b->strides[0], 0.0f,
                snnrt_data2d(c) + r * c->strides[0], c->strides[0]);
  });
}

void _mlir_ciface_snnrt_matmul_nn(snnrt_memref2d *a, snnrt_memref2d *b,
                                  snnrt_memref2d *c) {
  useOneBlasThread();
  int64_t m = a->sizes[0], k = a->sizes[1], n = b->sizes[1];
  forEachShare(m, [&](int64_t r, int64_t rows) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, n, k, 1.0f,
                snnrt_data2d(a) + r * a->strides[0], a->strides[0],
                snnrt_data2d(b), b->strides[0], 0.0f,
                snnrt_data2d(c) + r * c->strides[0], c->strides[0]);
  });
}

void _mlir_ciface_snnrt_matmul_tn(snnrt_memref2d *a, snnrt_memref2d *b,
                                  snnrt_memref2d *c) {
  useOneBlasThread();
  int64_t k = a->sizes[0], m = a->sizes[1], n = b->sizes[1];
  forEachShare(m, [&](int64_t r, int64_t rows) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, rows, n, k, 1.0f,
                snnrt_data2d(a) + r, a->strides[0], snnrt_data2d(b),
                b->strides[0], 0.0f, snnrt_data2d(c) + r * c->strides[0],
                c->strides[0]);
  });
}

void snnrt_set_num_threads(int threads) {
  if (threads > 0)
    omp_set_num_threads(threads);
}

} // extern "C"
