/*===- snnrt.h - the C ABI that snnc-generated code calls ----------*- C -*-===//
 *
 * Tensors cross the ABI as MLIR memref descriptors (the layout that
 * `llvm.emit_c_interface` passes by pointer): allocated and aligned pointers,
 * an offset, then `rank` sizes and `rank` strides, all in elements.
 * This library never links MLIR or LLVM.
 *
 *===----------------------------------------------------------------------===*/
#ifndef SNNRT_SNNRT_H
#define SNNRT_SNNRT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  float *allocated;
  float *aligned;
  int64_t offset;
  int64_t sizes[1];
  int64_t strides[1];
} snnrt_memref1d;

typedef struct {
  float *allocated;
  float *aligned;
  int64_t offset;
  int64_t sizes[2];
  int64_t strides[2];
} snnrt_memref2d;

typedef struct {
  float *allocated;
  float *aligned;
  int64_t offset;
  int64_t sizes[4];
  int64_t strides[4];
} snnrt_memref4d;

/* The first element a descriptor points at. */
static inline float *snnrt_data2d(const snnrt_memref2d *m) {
  return m->aligned + m->offset;
}
static inline float *snnrt_data4d(const snnrt_memref4d *m) {
  return m->aligned + m->offset;
}
/* C[M,N] = A[M,K] * B[N,K]^T   (dense forward: c = a W^T) */
void _mlir_ciface_snnrt_matmul_nt(snnrt_memref2d *a, snnrt_memref2d *b,
                                  snnrt_memref2d *c);
/* C[M,N] = A[M,K] * B[K,N]     (dense grad input, eq. 9: g = delta W) */
void _mlir_ciface_snnrt_matmul_nn(snnrt_memref2d *a, snnrt_memref2d *b,
                                  snnrt_memref2d *c);
/* C[M,N] = A[K,M]^T * B[K,N]   (dense grad weight, eq. 10: dW = delta^T a) */
void _mlir_ciface_snnrt_matmul_tn(snnrt_memref2d *a, snnrt_memref2d *b,
                                  snnrt_memref2d *c);

/* x[b] := A_b^{-1} x[b] for each sample b, A_b the COLUMN-major N x N matrix
   at rows [b*N, (b+1)*N) of `a` (overwritten by its LU factors): LAPACK
   sgesv (IDE's exact solver). */
void _mlir_ciface_snnrt_solve_batched(snnrt_memref2d *a, snnrt_memref2d *x);

/* IDE: a solve of the step ended above its tolerance (called only then):
   `samples` of the batch at or above it, the solve's residual. */
void snnrt_ide_solver_report(int64_t samples, float residual, float tolerance);
/* What was reported since the last call, which resets it: the number of
   unconverged solves, their samples, the worst residual and its tolerance. */
typedef struct {
  int64_t solves, samples;
  double worstResidual, tolerance;
} snnrt_ide_solver_stats;
snnrt_ide_solver_stats snnrt_ide_take_solver_stats(void);

/* Convolutions over N = T*B images, NCHW / OIHW, zero padding. */
void _mlir_ciface_snnrt_conv2d_forward(snnrt_memref4d *in, snnrt_memref4d *w,
                                       snnrt_memref4d *out, int64_t sh,
                                       int64_t sw, int64_t ph, int64_t pw);
void _mlir_ciface_snnrt_conv2d_grad_input(snnrt_memref4d *delta,
                                          snnrt_memref4d *w,
                                          snnrt_memref4d *out, int64_t sh,
                                          int64_t sw, int64_t ph, int64_t pw);
void _mlir_ciface_snnrt_conv2d_grad_weight(snnrt_memref4d *in,
                                           snnrt_memref4d *delta,
                                           snnrt_memref4d *out, int64_t sh,
                                           int64_t sw, int64_t ph, int64_t pw);

/* The gradient of the im2col matrix of every image, for a convolution's
   gradient input: cols[n*K + k, p] = sum_o W[o, k] delta[n*O + o, p] with
   W [O, K = C*KH*KW], delta [N*O, P = OH*OW], cols [N*K, P]. */
void _mlir_ciface_snnrt_conv2d_grad_cols(snnrt_memref2d *delta,
                                         snnrt_memref2d *w,
                                         snnrt_memref2d *cols);

/* snn.grad_all_reduce (data parallelism, runtime/parallel/): gradient
   `index` of `count` of this step, reduced in place over the ranks (summed,
   or averaged when `mean`) in one bucketed collective once the last one
   arrives. Returns at once in a single process. The _cuda_ form takes
   device buffers and reduces them with NCCL on the step's stream. */
void _mlir_ciface_snnrt_grad_all_reduce(snnrt_memref1d *g, int64_t index,
                                        int64_t count, int64_t mean);
void _mlir_ciface_snnrt_cuda_grad_all_reduce(snnrt_memref1d *g, int64_t index,
                                             int64_t count, int64_t mean);

/* Threads used by the BLAS and the runtime's own loops (0: all cores). */
void snnrt_set_num_threads(int threads);
/* The threads the CPU step runs on. */
int snnrt_get_num_threads(void);
/* Floating-point operations of the CPU GEMMs and convolutions so far. */
int64_t snnrt_get_flops(void);

#ifdef __cplusplus
}
#endif

#endif /* SNNRT_SNNRT_H */
