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

#include <algorithm>
#include <cstring>
#include <vector>

namespace {

struct ConvGeometry {
  int64_t c, h, w, kh, kw, oh, ow, sh, sw, ph, pw;
  int64_t k() const { return c * kh * kw; }
  int64_t p() const { return oh * ow; }
};


/// col[(ci*kh + ky)*kw + kx][oy*ow + ox] = img[ci][oy*sh + ky - ph][ox*sw + kx - pw]
/// with rows `ld` floats apart (an image's block of a group's col).
void im2col(const ConvGeometry &g, const float *img, float *col, int64_t ld) {
  for (int64_t ci = 0; ci < g.c; ++ci)
    for (int64_t ky = 0; ky < g.kh; ++ky)
      for (int64_t kx = 0; kx < g.kw; ++kx) {
        float *row = col + ((ci * g.kh + ky) * g.kw + kx) * ld;
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

/// The adjoint of im2col: accumulates col (rows `ld` apart) into img
/// (zeroed by the caller).
void col2im(const ConvGeometry &g, const float *col, int64_t ld, float *img) {
  for (int64_t ci = 0; ci < g.c; ++ci)
    for (int64_t ky = 0; ky < g.kh; ++ky)
      for (int64_t kx = 0; kx < g.kw; ++kx) {
        const float *row = col + ((ci * g.kh + ky) * g.kw + kx) * ld;
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

/// Image-major [count][O][P] <-> channel-major [O][count * P] for the images
/// [n0, n0 + count) of a batch whose images are `stride` floats apart.
void toChannelMajor(const float *images, int64_t stride, int64_t count,
                    int64_t o, int64_t p, float *out) {
  for (int64_t j = 0; j < count; ++j)
    for (int64_t oc = 0; oc < o; ++oc)
      std::memcpy(out + oc * count * p + j * p, images + j * stride + oc * p,
                  p * sizeof(float));
}

void toImageMajor(const float *in, int64_t count, int64_t o, int64_t p,
                  float *images, int64_t stride) {
  for (int64_t j = 0; j < count; ++j)
    for (int64_t oc = 0; oc < o; ++oc)
      std::memcpy(images + j * stride + oc * p, in + oc * count * p + j * p,
                  p * sizeof(float));
}

/// Per-thread scratch that keeps its memory between calls (no zeroing, no
/// fresh pages every step).
float *scratch(int slot, size_t floats) {
  thread_local std::vector<float> buffers[2];
  std::vector<float> &b = buffers[slot];
  if (b.size() < floats)
    b.resize(floats);
  return b.data();
}

/// Images are processed in groups so that one GEMM covers G*P columns
/// (large GEMMs keep the BLAS efficient) while col stays bounded.
int64_t groupSize(const ConvGeometry &g, int64_t images) {
  int64_t budget = int64_t(1) << 22; // floats of col per group (16 MiB)
  return std::max<int64_t>(1, std::min(images, budget / std::max<int64_t>(g.k() * g.p(), 1)));
}

/// col for images [n0, n0 + count): [K, count * P], image j in columns j*P
/// (written in place, rows count * P floats apart).
void im2colGroup(const ConvGeometry &g, const float *images, int64_t stride,
                 int64_t count, float *col) {
  for (int64_t j = 0; j < count; ++j)
    im2col(g, images + j * stride, col + j * g.p(), count * g.p());
}

} // namespace

extern "C" {

void _mlir_ciface_snnrt_conv2d_forward(snnrt_memref4d *in, snnrt_memref4d *w,
                                       snnrt_memref4d *out, int64_t sh,
                                       int64_t sw, int64_t ph, int64_t pw) {
  ConvGeometry g = geometry(in, w, out, sh, sw, ph, pw);
  int64_t images = in->sizes[0], o = w->sizes[0], G = groupSize(g, images);
  float *col = scratch(0, g.k() * G * g.p()), *tmp = scratch(1, o * G * g.p());
  for (int64_t n0 = 0; n0 < images; n0 += G) {
    int64_t count = std::min(G, images - n0), cols = count * g.p();
    im2colGroup(g, snnrt_data4d(in) + n0 * in->strides[0], in->strides[0], count, col);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, o, cols, g.k(),
                1.0f, snnrt_data4d(w), g.k(), col, cols, 0.0f, tmp, cols);
    toImageMajor(tmp, count, o, g.p(), snnrt_data4d(out) + n0 * out->strides[0],
                 out->strides[0]);
  }
}

void _mlir_ciface_snnrt_conv2d_grad_input(snnrt_memref4d *delta,
                                          snnrt_memref4d *w,
                                          snnrt_memref4d *out, int64_t sh,
                                          int64_t sw, int64_t ph, int64_t pw) {
  ConvGeometry g = geometry(out, w, delta, sh, sw, ph, pw);
  int64_t images = out->sizes[0], o = w->sizes[0], G = groupSize(g, images);
  float *dg = scratch(1, o * G * g.p()), *col = scratch(0, g.k() * G * g.p());
  for (int64_t n0 = 0; n0 < images; n0 += G) {
    int64_t count = std::min(G, images - n0), cols = count * g.p();
    toChannelMajor(snnrt_data4d(delta) + n0 * delta->strides[0], delta->strides[0],
                   count, o, g.p(), dg);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, g.k(), cols, o, 1.0f,
                snnrt_data4d(w), g.k(), dg, cols, 0.0f, col, cols);
    for (int64_t j = 0; j < count; ++j) {
      float *img = snnrt_data4d(out) + (n0 + j) * out->strides[0];
      std::memset(img, 0, sizeof(float) * g.c * g.h * g.w);
      col2im(g, col + j * g.p(), cols, img);
    }
  }
}

void _mlir_ciface_snnrt_conv2d_grad_weight(snnrt_memref4d *in,
                                           snnrt_memref4d *delta,
                                           snnrt_memref4d *out, int64_t sh,
                                           int64_t sw, int64_t ph, int64_t pw) {
  ConvGeometry g = geometry(in, out, delta, sh, sw, ph, pw);
  int64_t images = in->sizes[0], o = out->sizes[0], G = groupSize(g, images);
  float *col = scratch(0, g.k() * G * g.p()), *dg = scratch(1, o * G * g.p());
  for (int64_t n0 = 0; n0 < images; n0 += G) {
    int64_t count = std::min(G, images - n0), cols = count * g.p();
    im2colGroup(g, snnrt_data4d(in) + n0 * in->strides[0], in->strides[0], count, col);
    toChannelMajor(snnrt_data4d(delta) + n0 * delta->strides[0], delta->strides[0],
                   count, o, g.p(), dg);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, o, g.k(), cols, 1.0f,
                dg, cols, col, cols, n0 == 0 ? 0.0f : 1.0f, snnrt_data4d(out), g.k());
  }
}

} // extern "C"
