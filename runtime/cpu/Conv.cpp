//===- Conv.cpp - convolutions as im2col + OpenBLAS GEMM -------------------===//
//
// Per image n of the N = T*B images (weights [O, C, KH, KW], K = C*KH*KW,
// P = OH*OW):
//   forward      out[n] (O x P)  = W (O x K) * col(in[n]) (K x P)
//   grad input   in'[n]          = col2im(W^T (K x O) * delta[n] (O x P))
//   grad weight  dW (O x K)     += delta[n] (O x P) * col(in[n])^T (P x K)
//
//===----------------------------------------------------------------------===//
#include "snnrt/snnrt.h"

#include "Threads.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace {

struct ConvGeometry {
  int64_t c, h, w, kh, kw, oh, ow, sh, sw, ph, pw;
  int64_t k() const { return c * kh * kw; }
  int64_t p() const { return oh * ow; }
};


/// The output columns ox whose input column ox*sw + kx - pw lies inside the
/// image: [lo, hi).
void validColumns(const ConvGeometry &g, int64_t kx, int64_t &lo,
                  int64_t &hi) {
  auto ceilDiv = [](int64_t a, int64_t b) { return a <= 0 ? 0 : (a + b - 1) / b; };
  lo = std::min(g.ow, ceilDiv(g.pw - kx, g.sw));
  hi = std::max(lo, std::min(g.ow, ceilDiv(g.w + g.pw - kx, g.sw)));
}

/// col[(ci*kh + ky)*kw + kx][oy*ow + ox] = img[ci][oy*sh + ky - ph][ox*sw + kx - pw]
/// (0 outside the image), rows `ld` floats apart. Each output row is a zero
/// head, a copied (strided when sw > 1) middle and a zero tail.
void im2col(const ConvGeometry &g, const float *img, float *col, int64_t ld) {
  for (int64_t ci = 0; ci < g.c; ++ci)
    for (int64_t ky = 0; ky < g.kh; ++ky)
      for (int64_t kx = 0; kx < g.kw; ++kx) {
        float *row = col + ((ci * g.kh + ky) * g.kw + kx) * ld;
        int64_t lo, hi;
        validColumns(g, kx, lo, hi);
        for (int64_t oy = 0; oy < g.oh; ++oy) {
          float *out = row + oy * g.ow;
          int64_t y = oy * g.sh + ky - g.ph;
          if (y < 0 || y >= g.h) {
            std::fill(out, out + g.ow, 0.0f);
            continue;
          }
          const float *in = img + (ci * g.h + y) * g.w + kx - g.pw;
          std::fill(out, out + lo, 0.0f);
          if (g.sw == 1)
            std::copy(in + lo, in + hi, out + lo);
          else
            for (int64_t ox = lo; ox < hi; ++ox)
              out[ox] = in[ox * g.sw];
          std::fill(out + hi, out + g.ow, 0.0f);
        }
      }
}

/// The adjoint of im2col: accumulates col (rows `ld` apart) into img
/// (zeroed by the caller).
void col2im(const ConvGeometry &g, const float *col, int64_t ld, float *img) {
  for (int64_t ci = 0; ci < g.c; ++ci)
    for (int64_t ky = 0; ky < g.kh; ++ky)
      for (int64_t kx = 0; kx < g.kw; ++kx) {
        const float *row = col + ((ci * g.kh + ky) * g.kw + kx) * ld;
        int64_t lo, hi;
        validColumns(g, kx, lo, hi);
        for (int64_t oy = 0; oy < g.oh; ++oy) {
          int64_t y = oy * g.sh + ky - g.ph;
          if (y < 0 || y >= g.h)
            continue;
          const float *__restrict in = row + oy * g.ow;
          float *__restrict out = img + (ci * g.h + y) * g.w + kx - g.pw;
          if (g.sw == 1) // the common case, as a loop that vectorizes
            for (int64_t ox = lo; ox < hi; ++ox)
              out[ox] += in[ox];
          else
            for (int64_t ox = lo; ox < hi; ++ox)
              out[ox * g.sw] += in[ox];
        }
      }
}

ConvGeometry geometry(const snnrt_memref4d *img, const snnrt_memref4d *w,
                      const snnrt_memref4d *out, int64_t sh, int64_t sw,
                      int64_t ph, int64_t pw) {
  return {img->sizes[1], img->sizes[2], img->sizes[3], w->sizes[2],
          w->sizes[3],   out->sizes[2], out->sizes[3], sh,
          sw,            ph,            pw};
}

/// Per-thread scratch that keeps its memory between calls (no zeroing, no
/// fresh pages every step).
float *scratch(size_t floats) {
  thread_local std::vector<float> buffer;
  if (buffer.size() < floats)
    buffer.resize(floats);
  return buffer.data();
}

/// The gradient of one image's im2col matrix: cols[K, P] = W[O, K]^T
/// delta[O, P] (rows `ldw`, `ldd`, `ldc` floats apart).
void gradCols(int64_t o, int64_t k, int64_t p, const float *w, int64_t ldw,
              const float *delta, int64_t ldd, float *cols, int64_t ldc) {
  snnrt::cpu::sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, p, o, 1.0f, w, ldw,
              delta, ldd, 0.0f, cols, ldc);
}

/// Image n of a batch (its channels are contiguous, rows P floats apart).
float *image(const snnrt_memref4d *m, int64_t n) {
  return snnrt_data4d(m) + n * m->strides[0];
}

} // namespace

using snnrt::cpu::useOneBlasThread;

extern "C" {

// Every entry point splits the images over the OpenMP threads; each thread
// runs single-threaded GEMMs on its images (runtime/cpu/Threads.h).

void _mlir_ciface_snnrt_conv2d_forward(snnrt_memref4d *in, snnrt_memref4d *w,
                                       snnrt_memref4d *out, int64_t sh,
                                       int64_t sw, int64_t ph, int64_t pw) {
  useOneBlasThread();
  ConvGeometry g = geometry(in, w, out, sh, sw, ph, pw);
  int64_t images = in->sizes[0], o = w->sizes[0];
#pragma omp parallel
  {
    float *col = scratch(g.k() * g.p());
#pragma omp for schedule(static)
    for (int64_t n = 0; n < images; ++n) {
      im2col(g, image(in, n), col, g.p());
      snnrt::cpu::sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, o, g.p(), g.k(),
                  1.0f, snnrt_data4d(w), g.k(), col, g.p(), 0.0f, image(out, n),
                  g.p());
    }
  }
}

void _mlir_ciface_snnrt_conv2d_grad_input(snnrt_memref4d *delta,
                                          snnrt_memref4d *w,
                                          snnrt_memref4d *out, int64_t sh,
                                          int64_t sw, int64_t ph, int64_t pw) {
  useOneBlasThread();
  ConvGeometry g = geometry(out, w, delta, sh, sw, ph, pw);
  int64_t images = out->sizes[0], o = w->sizes[0];
#pragma omp parallel
  {
    float *col = scratch(g.k() * g.p());
#pragma omp for schedule(static)
    for (int64_t n = 0; n < images; ++n) {
      gradCols(o, g.k(), g.p(), snnrt_data4d(w), g.k(), image(delta, n), g.p(),
               col, g.p());
      float *img = image(out, n);
      std::memset(img, 0, sizeof(float) * g.c * g.h * g.w);
      col2im(g, col, g.p(), img);
    }
  }
}

void _mlir_ciface_snnrt_conv2d_grad_weight(snnrt_memref4d *in,
                                           snnrt_memref4d *delta,
                                           snnrt_memref4d *out, int64_t sh,
                                           int64_t sw, int64_t ph, int64_t pw) {
  useOneBlasThread();
  ConvGeometry g = geometry(in, out, delta, sh, sw, ph, pw);
  int64_t images = in->sizes[0], o = out->sizes[0], size = o * g.k();
  // Each thread sums its images' gradients; the partial sums are added in
  // thread order (the same result for the same thread count).
  std::vector<float> partial(size * omp_get_max_threads(), 0.0f);
  int threads = 1;
#pragma omp parallel
  {
#pragma omp single
    threads = omp_get_num_threads();
    float *col = scratch(g.k() * g.p());
    float *dw = partial.data() + size * omp_get_thread_num();
#pragma omp for schedule(static)
    for (int64_t n = 0; n < images; ++n) {
      im2col(g, image(in, n), col, g.p());
      snnrt::cpu::sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, o, g.k(), g.p(),
                  1.0f, image(delta, n), g.p(), col, g.p(), 1.0f, dw, g.k());
    }
  }
  float *dw = snnrt_data4d(out);
  std::copy(partial.begin(), partial.begin() + size, dw);
  for (int t = 1; t < threads; ++t)
    for (int64_t i = 0; i < size; ++i)
      dw[i] += partial[size * t + i];
}

void _mlir_ciface_snnrt_conv2d_grad_cols(snnrt_memref2d *delta,
                                         snnrt_memref2d *w,
                                         snnrt_memref2d *cols) {
  useOneBlasThread();
  int64_t o = w->sizes[0], k = w->sizes[1], p = delta->sizes[1];
  int64_t images = delta->sizes[0] / o;
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < images; ++n)
    gradCols(o, k, p, snnrt_data2d(w), w->strides[0],
             snnrt_data2d(delta) + n * o * delta->strides[0], delta->strides[0],
             snnrt_data2d(cols) + n * k * cols->strides[0], cols->strides[0]);
}

} // extern "C"
