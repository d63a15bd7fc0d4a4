//===- RuntimeTest.cpp - the CPU runtime's GEMMs and convolutions -----------===//
//
// snnrt_conv2d_{forward,grad_input,grad_weight} (runtime/cpu/Conv.cpp:
// oneDNN primitives) against
// the plain loops of tests/reference, for strides, paddings, non-square
// kernels and image counts that do not divide evenly among the threads;
// snnrt_matmul_{nt,nn,tn} (runtime/cpu/Gemm.cpp: one oneDNN sgemm on the
// OpenMP threads) against plain loops, for row counts below, at and above
// the thread count and padded leading dimensions.
// Tolerance (float32 GEMM against double accumulation):
// |x - r| <= 1e-4 + 1e-4 |r|.
//
//===----------------------------------------------------------------------===//
#include "snnrt/snnrt.h"
#include "runtime/trainer/Schedule.h"
#include "tests/reference/NAReference.h"
#include "tests/unit/ConvCases.h"

#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <random>

namespace {

using snnref::Conv;
using snnref::Vec;
using snnc::test::describe;
using snnc::test::convMismatches;

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

void check(const Conv &g, int images, int threads) {
  SCOPED_TRACE(describe(g) + ", " + std::to_string(images) + " images, " +
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
  EXPECT_EQ(convMismatches(out, snnref::conv2d(g, images, in, w)), 0) << "forward";
  EXPECT_EQ(convMismatches(gin, snnref::conv2dGradInput(g, images, delta, w)), 0)
      << "grad input";
  EXPECT_EQ(convMismatches(gw, snnref::conv2dGradWeight(g, images, in, delta)), 0)
      << "grad weight";
}

const auto &kGeometries = snnc::test::kConvGeometries;

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

/// A rows x cols matrix with `ld` >= cols floats per row.
struct Matrix {
  int64_t rows, cols, ld;
  Vec data;
  Matrix(int64_t r, int64_t c, std::mt19937 &rng, int64_t pad = 3)
      : rows(r), cols(c), ld(c + pad), data(random(size_t(r) * (c + pad), rng)) {}
  float at(int64_t i, int64_t j) const { return data[i * ld + j]; }
  snnrt_memref2d view() {
    return {data.data(), data.data(), 0, {rows, cols}, {ld, 1}};
  }
};

/// C = op(A) op(B) in double; fails on any element off by the tolerance.
void checkGemm(const char *name, int64_t m, int64_t n, int64_t k, int threads,
               bool transA, bool transB) {
  SCOPED_TRACE(std::string(name) + " m" + std::to_string(m) + " n" +
               std::to_string(n) + " k" + std::to_string(k) + ", " +
               std::to_string(threads) + " threads");
  omp_set_num_threads(threads);
  std::mt19937 rng(m * 7 + n * 3 + k);
  Matrix a = transA ? Matrix(k, m, rng) : Matrix(m, k, rng);
  Matrix b = transB ? Matrix(n, k, rng) : Matrix(k, n, rng);
  Matrix c(m, n, rng);
  snnrt_memref2d va = a.view(), vb = b.view(), vc = c.view();
  if (!transA && transB)
    _mlir_ciface_snnrt_matmul_nt(&va, &vb, &vc);
  else if (!transA)
    _mlir_ciface_snnrt_matmul_nn(&va, &vb, &vc);
  else
    _mlir_ciface_snnrt_matmul_tn(&va, &vb, &vc);
  int bad = 0;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double want = 0.0;
      for (int64_t l = 0; l < k; ++l)
        want += double(transA ? a.at(l, i) : a.at(i, l)) *
                (transB ? b.at(j, l) : b.at(l, j));
      bad += !(std::fabs(c.at(i, j) - want) <= 1e-4 + 1e-4 * std::fabs(want));
    }
  EXPECT_EQ(bad, 0);
}

TEST(RuntimeGemm, MatchesPlainLoops) {
  for (int threads : {1, 2, 4})
    for (int64_t m : {1, 3, 7, 64}) {
      checkGemm("nt", m, 9, 17, threads, false, true);
      checkGemm("nn", m, 9, 17, threads, false, false);
      checkGemm("tn", m, 9, 17, threads, true, false);
    }
}

} // namespace

// The learning-rate schedules against values written out by hand from the
// PyTorch schedulers' definitions (MultiStepLR, CosineAnnealingLR, a linear
// warm-up per step).
TEST(Schedule, MatchesTheDefinitions) {
  snnrt::Schedule s;
  s.lr0 = 0.1;
  s.decay = 0.5;
  EXPECT_DOUBLE_EQ(snnrt::learningRate(s, 0, 7, 10), 0.1);
  EXPECT_DOUBLE_EQ(snnrt::learningRate(s, 3, 0, 10), 0.1 * 0.125);
  s.kind = "multistep";
  s.milestones = snnrt::parseMilestones("2,5");
  s.gamma = 0.1;
  EXPECT_EQ(s.milestones, (std::vector<int64_t>{2, 5}));
  EXPECT_DOUBLE_EQ(snnrt::learningRate(s, 1, 9, 10), 0.1);
  EXPECT_NEAR(snnrt::learningRate(s, 2, 0, 10), 0.01, 1e-15);
  EXPECT_NEAR(snnrt::learningRate(s, 4, 3, 10), 0.01, 1e-15);
  EXPECT_NEAR(snnrt::learningRate(s, 5, 0, 10), 0.001, 1e-15);
  s.kind = "cosine";
  s.epochs = 4;
  s.lrMin = 0.02;
  EXPECT_DOUBLE_EQ(snnrt::learningRate(s, 0, 0, 10), 0.1);
  // epoch 2 of 4: halfway, (0.1 + 0.02) / 2.
  EXPECT_NEAR(snnrt::learningRate(s, 2, 5, 10), 0.06, 1e-12);
  EXPECT_NEAR(snnrt::learningRate(s, 1, 0, 10),
              0.02 + 0.08 * (1 + std::cos(M_PI / 4)) / 2, 1e-12);
  s.warmupEpochs = 2;
  // Step 0 of 20 warm-up steps: 1/20 of the epoch's lr; step 19: all of it.
  EXPECT_NEAR(snnrt::learningRate(s, 0, 0, 10), 0.1 / 20, 1e-12);
  EXPECT_NEAR(snnrt::learningRate(s, 1, 9, 10),
              0.02 + 0.08 * (1 + std::cos(M_PI / 4)) / 2, 1e-12);
  EXPECT_NEAR(snnrt::learningRate(s, 1, 4, 10),
              (0.02 + 0.08 * (1 + std::cos(M_PI / 4)) / 2) * 15 / 20, 1e-12);
}
