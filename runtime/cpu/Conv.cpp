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

#include <cblas.h>

#include <cstring>
#include <vector>

namespace {

struct ConvGeometry {
  int64_t c, h, w, kh, kw, oh, ow, sh, sw, ph, pw;
  int64_t k() const { return c * kh * kw; }
  int64_t p() const { return oh * ow; }
};

float *base(snnrt_memref4d *m) { return m->aligned + m->offset; }

/// col[(ci*kh + ky)*kw + kx][oy*ow + ox] = img[ci][oy*sh + ky - ph][ox*sw + kx - pw]
void im2col(const ConvGeometry &g, const float *img, float *col) {
  for (int64_t ci = 0; ci < g.c; ++ci)
    for (int64_t ky = 0; ky < g.kh; ++ky)
      for (int64_t kx = 0; kx < g.kw; ++kx) {
        float *row = col + ((ci * g.kh + ky) * g.kw + kx) * g.p();
        for (int64_t oy = 0; oy < g.oh; ++oy) {
          int64_t y = oy * g.sh + ky - g.ph;
          for (int64_t ox = 0; ox < g.ow; ++ox) {
            int64_t x = ox * g.sw + kx - g.pw;
            row[oy * g.ow + ox] = (y >= 0 && y < g.h && x >= 0 && x < g.w)
                                      ? img[(ci * g.h + y) * g.w + x]
                                      : 0.0f;
          }
        }
      }
}

/// The adjoint of im2col: accumulates col into img (zeroed by the caller).
void col2im(const ConvGeometry &g, const float *col, float *img) {
  for (int64_t ci = 0; ci < g.c; ++ci)
    for (int64_t ky = 0; ky < g.kh; ++ky)
      for (int64_t kx = 0; kx < g.kw; ++kx) {
        const float *row = col + ((ci * g.kh + ky) * g.kw + kx) * g.p();
        for (int64_t oy = 0; oy < g.oh; ++oy) {
          int64_t y = oy * g.sh + ky - g.ph;
          if (y < 0 || y >= g.h)
            continue;
          for (int64_t ox = 0; ox < g.ow; ++ox) {
            int64_t x = ox * g.sw + kx - g.pw;
            if (x >= 0 && x < g.w)
              img[(ci * g.h + y) * g.w + x] += row[oy * g.ow + ox];
          }
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

} // namespace

extern "C" {

void _mlir_ciface_snnrt_conv2d_forward(snnrt_memref4d *in, snnrt_memref4d *w,
                                       snnrt_memref4d *out, int64_t sh,
                                       int64_t sw, int64_t ph, int64_t pw) {
  ConvGeometry g = geometry(in, w, out, sh, sw, ph, pw);
  int64_t images = in->sizes[0], o = w->sizes[0];
  std::vector<float> col(g.k() * g.p());
  for (int64_t n = 0; n < images; ++n) {
    im2col(g, base(in) + n * in->strides[0], col.data());
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, o, g.p(), g.k(),
                1.0f, base(w), g.k(), col.data(), g.p(), 0.0f,
                base(out) + n * out->strides[0], g.p());
  }
}

void _mlir_ciface_snnrt_conv2d_grad_input(snnrt_memref4d *delta,
                                          snnrt_memref4d *w,
                                          snnrt_memref4d *out, int64_t sh,
                                          int64_t sw, int64_t ph, int64_t pw) {
  ConvGeometry g = geometry(out, w, delta, sh, sw, ph, pw);
  int64_t images = out->sizes[0], o = w->sizes[0];
  std::vector<float> col(g.k() * g.p());
  for (int64_t n = 0; n < images; ++n) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, g.k(), g.p(), o, 1.0f,
                base(w), g.k(), base(delta) + n * delta->strides[0], g.p(),
                0.0f, col.data(), g.p());
    float *img = base(out) + n * out->strides[0];
    std::memset(img, 0, sizeof(float) * g.c * g.h * g.w);
    col2im(g, col.data(), img);
  }
}

void _mlir_ciface_snnrt_conv2d_grad_weight(snnrt_memref4d *in,
                                           snnrt_memref4d *delta,
                                           snnrt_memref4d *out, int64_t sh,
                                           int64_t sw, int64_t ph, int64_t pw) {
  ConvGeometry g = geometry(in, out, delta, sh, sw, ph, pw);
  int64_t images = in->sizes[0], o = out->sizes[0];
  std::vector<float> col(g.k() * g.p());
  for (int64_t n = 0; n < images; ++n) {
    im2col(g, base(in) + n * in->strides[0], col.data());
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, o, g.k(), g.p(), 1.0f,
                base(delta) + n * delta->strides[0], g.p(), col.data(), g.p(),
                n == 0 ? 0.0f : 1.0f, base(out), g.k());
  }
}

} // extern "C"
