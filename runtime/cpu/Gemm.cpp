//===- Gemm.cpp - dense-layer GEMMs on OpenBLAS -----------------------------===//
#include "snnrt/snnrt.h"

#include <cblas.h>

extern "C" {

void _mlir_ciface_snnrt_matmul_nt(snnrt_memref2d *a, snnrt_memref2d *b,
                                  snnrt_memref2d *c) {
  int m = a->sizes[0], k = a->sizes[1], n = b->sizes[0];
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, snnrt_data2d(a),
              a->strides[0], snnrt_data2d(b), b->strides[0], 0.0f, snnrt_data2d(c),
              c->strides[0]);
}

void _mlir_ciface_snnrt_matmul_nn(snnrt_memref2d *a, snnrt_memref2d *b,
                                  snnrt_memref2d *c) {
  int m = a->sizes[0], k = a->sizes[1], n = b->sizes[1];
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f,
              snnrt_data2d(a), a->strides[0], snnrt_data2d(b), b->strides[0], 0.0f, snnrt_data2d(c),
              c->strides[0]);
}

void _mlir_ciface_snnrt_matmul_tn(snnrt_memref2d *a, snnrt_memref2d *b,
                                  snnrt_memref2d *c) {
  int k = a->sizes[0], m = a->sizes[1], n = b->sizes[1];
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m, n, k, 1.0f, snnrt_data2d(a),
              a->strides[0], snnrt_data2d(b), b->strides[0], 0.0f, snnrt_data2d(c),
              c->strides[0]);
}

void snnrt_set_num_threads(int threads) {
  if (threads > 0)
    openblas_set_num_threads(threads);
}

} // extern "C"
