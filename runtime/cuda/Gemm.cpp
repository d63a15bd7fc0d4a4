//===- Gemm.cpp - dense layers on the GPU: cuBLAS ---------------------------===//
//
// The same three products as runtime/cpu/Gemm.cpp on row-major [rows, cols]
// device buffers. cuBLAS is column-major: a row-major X is X^T to it, so
// C = op(A) op(B) is computed as C^T = op(B)^T op(A)^T.
//
//===----------------------------------------------------------------------===//
#include "Driver.h"
#include "Launch.h"
#include "snnrt/snnrt.h"

namespace {

using namespace snnrt::cuda;

constexpr int kNoTrans = 0, kTrans = 1;

bool contiguous(const snnrt_memref2d *m) {
  return m->strides[1] == 1 && m->strides[0] == m->sizes[1];
}


/// Column-major sgemm C[m,n] = op(X)[m,k] op(Y)[k,n] with C's ld = m.
void sgemm(const char *what, int opX, int opY, int64_t m, int64_t n,
           int64_t k, const float *x, int64_t ldx, const float *y,
           int64_t ldy, float *c, const snnrt_memref2d *a,
           const snnrt_memref2d *b, const snnrt_memref2d *cm) {
  try {
    if (!contiguous(a) || !contiguous(b) || !contiguous(cm))
      throw CudaError(std::string(what) + ": non-contiguous operand");
    const float one = 1.0f, zero = 0.0f;
    void *handle = cublas(); // binds the cuBLAS entry points on first use
    int r = driver().cublasSgemm(handle, opX, opY, m, n, k, &one, x, ldx, y,
                                 ldy, &zero, c, m);
    if (r != 0)
      throw CudaError(std::string(what) + ": cublasSgemm failed with status " +
                      std::to_string(r));
  } catch (const std::exception &e) {
    setError(e.what());
  }
}

} // namespace

extern "C" {

// cols_n[K, P] = W[O, K]^T delta_n[O, P] for every image n: column-major,
// cols_n^T[P, K] = delta_n^T[P, O] W[O, K] (delta_n^T is delta_n as stored,
// W is W^T as stored, hence op T), one strided batched GEMM.
void _mlir_ciface_snnrt_cuda_conv2d_grad_cols(snnrt_memref2d *delta,
                                              snnrt_memref2d *w,
                                              snnrt_memref2d *cols) {
  try {
    if (!contiguous(delta) || !contiguous(w) || !contiguous(cols))
      throw CudaError("snnrt_cuda_conv2d_grad_cols: non-contiguous operand");
    int64_t o = w->sizes[0], k = w->sizes[1], p = delta->sizes[1];
    int64_t images = delta->sizes[0] / o;
    const float one = 1.0f, zero = 0.0f;
    void *handle = cublas();
    int r = driver().cublasSgemmStridedBatched(
        handle, kNoTrans, kTrans, p, k, o, &one, snnrt_data2d(delta), p, o * p,
        snnrt_data2d(w), k, 0, &zero, snnrt_data2d(cols), p, k * p, images);
    if (r != 0)
      throw CudaError("snnrt_cuda_conv2d_grad_cols: cublasSgemmStridedBatched "
                      "failed with status " + std::to_string(r));
  } catch (const std::exception &e) {
    setError(e.what());
  }
}

void _mlir_ciface_snnrt_cuda_matmul_nt(snnrt_memref2d *a, snnrt_memref2d *b,
                                       snnrt_memref2d *c) {
  int64_t M = a->sizes[0], K = a->sizes[1], N = b->sizes[0];
  sgemm("snnrt_cuda_matmul_nt", kTrans, kNoTrans, N, M, K, snnrt_data2d(b), K,
        snnrt_data2d(a), K, snnrt_data2d(c), a, b, c);
}

void _mlir_ciface_snnrt_cuda_matmul_nn(snnrt_memref2d *a, snnrt_memref2d *b,
                                       snnrt_memref2d *c) {
  int64_t M = a->sizes[0], K = a->sizes[1], N = b->sizes[1];
  sgemm("snnrt_cuda_matmul_nn", kNoTrans, kNoTrans, N, M, K, snnrt_data2d(b), N,
        snnrt_data2d(a), K, snnrt_data2d(c), a, b, c);
}

void _mlir_ciface_snnrt_cuda_matmul_tn(snnrt_memref2d *a, snnrt_memref2d *b,
                                       snnrt_memref2d *c) {
  int64_t K = a->sizes[0], M = a->sizes[1], N = b->sizes[1];
  sgemm("snnrt_cuda_matmul_tn", kNoTrans, kTrans, N, M, K, snnrt_data2d(b), N,
        snnrt_data2d(a), M, snnrt_data2d(c), a, b, c);
}

} // extern "C"
