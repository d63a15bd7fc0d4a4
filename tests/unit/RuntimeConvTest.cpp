//===- RuntimeConvTest.cpp - the CPU runtime's convolutions vs tests/reference -===//
//
// snnrt_conv2d_{forward,grad_input,grad_weight} (runtime/cpu/Conv.cpp:
// im2col/col2im + OpenBLAS, images split over the OpenMP threads) against
// the plain loops of tests/reference, for strides, paddings, non-square
// kernels and image counts that do not divide evenly among the threads.
// Tolerance (float32 GEMM against double accumulation in the reference):
// |x - r| <= 1e-5 + 1e-5 * sum |terms|, bounded here by 1e-4 + 1e-4 |r|.
//
//===----------------------------------------------------------------------===//
#include "snnrt/snnrt.h"
#include "tests/reference/NAReference.h"

#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <random>

namespace {

using snnref::Conv;
using snnref::Vec;

Vec random(size_t n, std::mt19937 &rng) {
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  Vec v(n);
  for (float &x : v)
    x = u(rng);
  return v;
}

snnrt_memref4d view(Vec &v, int64_t a, int64_t b, int64_t c, int64_t d) {
  return {v.data(), v.data(), 0, {a, b, c, d}, {b * c * d, c * d, d, 1}};
}

int mismatches(const Vec &got, const Vec &want) {
  int bad = 0;
  for (size_t i = 0; i < want.size(); ++i)
    bad += !(std::fabs(got[i] - want[i]) <= 1e-4f + 1e-4f * std::fabs(want[i]));
  return bad;
}

void check(const Conv &g, int images, int threads) {
  SCOPED_TRACE("c" + std::to_string(g.c) + " " + std::to_string(g.h) + "x" +
               std::to_string(g.w) + " o" + std::to_string(g.o) + " k" +
               std::to_string(g.kh) + "x" + std::to_string(g.kw) + " s" +
               std::to_string(g.stride) + " p" + std::to_string(g.pad) +
               ", " + std::to_string(images) + " images, " +
               std::to_string(threads) + " threads");
  omp_set_num_threads(threads);
  std::mt19937 rng(images * 131 + g.c * 17 + g.stride * 5 + g.pad);
  Vec in = random(size_t(images) * g.c * g.h * g.w, rng);
  Vec w = random(size_t(g.o) * g.c * g.kh * g.kw, rng);
  Vec delta = random(size_t(images) * g.o * g.oh() * g.ow(), rng);
  Vec out(delta.size()), gin(in.size(), 123.0f), gw(w.size(), 123.0f);
  snnrt_memref4d vin = view(in, images, g.c, g.h, g.w),
                 vw = view(w, g.o, g.c, g.kh, g.kw),
                 vdelta = view(delta, images, g.o, g.oh(), g.ow()),
                 vout = view(out, images, g.o, g.oh(), g.ow()),
                 vgin = view(gin, images, g.c, g.h, g.w),
                 vgw = view(gw, g.o, g.c, g.kh, g.kw);
  _mlir_ciface_snnrt_conv2d_forward(&vin, &vw, &vout, g.stride, g.stride,
                                    g.pad, g.pad);
  _mlir_ciface_snnrt_conv2d_grad_input(&vdelta, &vw, &vgin, g.stride,
                                       g.stride, g.pad, g.pad);
  _mlir_ciface_snnrt_conv2d_grad_weight(&vin, &vdelta, &vgw, g.stride,
                                        g.stride, g.pad, g.pad);
  EXPECT_EQ(mismatches(out, snnref::conv2d(g, images, in, w)), 0) << "forward";
  EXPECT_EQ(mismatches(gin, snnref::conv2dGradInput(g, images, delta, w)), 0)
      << "grad input";
  EXPECT_EQ(mismatches(gw, snnref::conv2dGradWeight(g, images, in, delta)), 0)
      << "grad weight";
}

//             c   h   w   o  kh kw stride pad
const Conv kGeometries[] = {{1, 28, 28, 15, 5, 5, 1, 0},  // MNIST CNN conv1
                            {15, 12, 12, 40, 5, 5, 1, 0}, // MNIST CNN conv2
                            {2, 9, 9, 3, 3, 3, 2, 1},
                            {3, 7, 10, 4, 3, 2, 1, 2},
                            {2, 11, 8, 3, 5, 5, 3, 2},
                            {4, 5, 5, 2, 1, 1, 2, 0}};

TEST(RuntimeConv, MatchesReferenceOneThread) {
  for (const Conv &g : kGeometries)
    check(g, 3, 1);
}

TEST(RuntimeConv, MatchesReferenceTwoThreads) {
  for (const Conv &g : kGeometries)
    check(g, 5, 2);
}

TEST(RuntimeConv, MoreThreadsThanImages) {
  check(kGeometries[2], 2, 4);
}

} // namespace
