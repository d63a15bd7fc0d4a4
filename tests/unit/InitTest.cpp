//===- InitTest.cpp - the trainer's initialisation schemes ------------------===//
//
// runtime/trainer/Init.h against plain loops: IDE's official scheme
// (IDE_SPEC sections 7 and 9): unit-norm rows of uniform(-1, 1) weights,
// g = the spectral norm of the initial feedback weight by 10 power
// iterations (F400: about 1.90 against a true norm of about 2.00), random
// unit u and v, PyTorch's Linear default for the readout.
//
//===----------------------------------------------------------------------===//
#include "runtime/trainer/Init.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

namespace {

using namespace snnrt;

TensorDesc desc(const std::string &name, std::vector<int64_t> shape,
                const std::string &scheme) {
  TensorDesc t;
  t.name = name;
  t.dtype = "f32";
  t.shape = std::move(shape);
  t.initScheme = scheme;
  return t;
}

InitializedParam none(const std::string &) { return {}; }

/// The largest singular value by 500 power iterations from a fixed start.
double trueNorm(const std::vector<float> &w, int64_t rows) {
  int64_t cols = static_cast<int64_t>(w.size()) / rows;
  std::vector<double> u(rows, 1.0), v(cols);
  double sigma = 0;
  for (int it = 0; it < 500; ++it) {
    for (int64_t c = 0; c < cols; ++c) {
      v[c] = 0;
      for (int64_t r = 0; r < rows; ++r)
        v[c] += w[r * cols + c] * u[r];
    }
    double nv = 0;
    for (double x : v) nv += x * x;
    for (double &x : v) x /= std::sqrt(nv);
    for (int64_t r = 0; r < rows; ++r) {
      u[r] = 0;
      for (int64_t c = 0; c < cols; ++c)
        u[r] += w[r * cols + c] * v[c];
    }
    double nu = 0;
    for (double x : u) nu += x * x;
    sigma = std::sqrt(nu);
    for (double &x : u) x /= sigma;
  }
  return sigma;
}

TEST(Init, UnitRows) {
  std::mt19937_64 rng(1);
  TensorDesc t = desc("w_in", {400, 784}, "unit_rows");
  std::vector<float> w = initialValue(t, rng, none);
  ASSERT_EQ(w.size(), 400u * 784u);
  for (int r = 0; r < 400; ++r) {
    double sq = 0;
    for (int c = 0; c < 784; ++c)
      sq += double(w[r * 784 + c]) * w[r * 784 + c];
    EXPECT_NEAR(sq, 1.0, 1e-5) << "row " << r;
  }
  // A kernel [O, I, K, K]: each output channel's whole kernel.
  TensorDesc k = desc("w_fb", {4, 3, 5, 5}, "unit_rows");
  std::vector<float> kw = initialValue(k, rng, none);
  for (int o = 0; o < 4; ++o) {
    double sq = 0;
    for (int i = 0; i < 75; ++i)
      sq += double(kw[o * 75 + i]) * kw[o * 75 + i];
    EXPECT_NEAR(sq, 1.0, 1e-5);
  }
  // Uniform before the scaling: in a row of 784, |x| has mean 1/2, so a
  // unit row has mean |x| = (1/2) / sqrt(784/3) = 0.0309.
  double meanAbs = 0;
  for (float x : w) meanAbs += std::abs(x);
  meanAbs /= w.size();
  EXPECT_NEAR(meanAbs, 0.5 / std::sqrt(784.0 / 3.0), 5e-4);
}

// A transposed convolution's kernel [C_in, C_out, K, K]: each output
// channel's slice [:, o] (all C_in * K * K of it) has unit norm; the rows
// (dimension 0) do not.
TEST(Init, UnitDim1) {
  std::mt19937_64 rng(3);
  const int I = 6, O = 4, KK = 9;
  std::vector<float> w = initialValue(desc("w_fb", {I, O, 3, 3}, "unit_dim1"), rng, none);
  ASSERT_EQ(w.size(), size_t(I * O * KK));
  for (int o = 0; o < O; ++o) {
    double sq = 0;
    for (int i = 0; i < I; ++i)
      for (int k = 0; k < KK; ++k)
        sq += double(w[(i * O + o) * KK + k]) * w[(i * O + o) * KK + k];
    EXPECT_NEAR(sq, 1.0, 1e-5) << "output channel " << o;
  }
  double row0 = 0;
  for (int k = 0; k < O * KK; ++k)
    row0 += double(w[k]) * w[k];
  EXPECT_GT(std::abs(row0 - 1.0), 1e-3);
}

TEST(Init, UniformBoundAndRandomUnit) {
  std::mt19937_64 rng(2);
  std::vector<float> w = initialValue(desc("w_out", {10, 400}, "uniform:0.05"), rng, none);
  float lo = 1, hi = -1;
  double mean = 0;
  for (float x : w) lo = std::min(lo, x), hi = std::max(hi, x), mean += x;
  EXPECT_GE(lo, -0.05f);
  EXPECT_LE(hi, 0.05f);
  EXPECT_LT(lo, -0.049f);
  EXPECT_GT(hi, 0.049f);
  EXPECT_NEAR(mean / w.size(), 0.0, 2e-3);
  std::vector<float> u = initialValue(desc("u", {400}, "random_unit"), rng, none);
  double sq = 0;
  for (float x : u) sq += double(x) * x;
  EXPECT_NEAR(sq, 1.0, 1e-5);
}

// F400's feedback: 400 x 400 unit rows; IDE_SPEC section 7 measured
// g = 1.90 against a true norm of 2.00 for the official code.
TEST(Init, SpectralNormOfTheInitialWeight) {
  std::mt19937_64 rng(3);
  TensorDesc wd = desc("w_fb", {400, 400}, "unit_rows");
  std::vector<float> w = initialValue(wd, rng, none);
  auto earlier = [&](const std::string &name) {
    return name == "w_fb" ? InitializedParam{&wd, &w} : InitializedParam{};
  };
  std::vector<float> g = initialValue(desc("g_fb", {1}, "spectral_norm:w_fb"), rng, earlier);
  ASSERT_EQ(g.size(), 1u);
  double norm = trueNorm(w, 400);
  std::printf("F400 feedback: g = %.4f, true norm %.4f\n", g[0], norm);
  EXPECT_NEAR(norm, 2.0, 0.05);
  // Ten iterations from a random start fall short of the norm, never over.
  EXPECT_LE(g[0], norm * (1 + 1e-6));
  EXPECT_GT(g[0], 0.9 * norm); // (one iteration gives about 0.87)
  // A small matrix converges within ten iterations: diag(3, 1).
  TensorDesc sd = desc("s", {2, 2}, "");
  std::vector<float> s{3, 0, 0, 1};
  auto small = [&](const std::string &) { return InitializedParam{&sd, &s}; };
  EXPECT_NEAR(initialValue(desc("g", {1}, "spectral_norm:s"), rng, small)[0], 3.0, 1e-3);
}

TEST(Init, BadSchemesNameTheParameter) {
  std::mt19937_64 rng(4);
  auto message = [&](const TensorDesc &t) {
    try {
      initialValue(t, rng, none);
    } catch (const std::runtime_error &e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message(desc("w", {2}, "gaussian")),
            "parameter 'w': init scheme 'gaussian' is unknown (unit_rows, "
            "unit_dim1, uniform:B, random_unit, spectral_norm:W)");
  EXPECT_EQ(message(desc("w", {2}, "uniform:-1")),
            "parameter 'w': init scheme 'uniform:-1' needs a positive bound");
  EXPECT_EQ(message(desc("g", {1}, "spectral_norm:w_fb")),
            "parameter 'g': init scheme 'spectral_norm:w_fb' names no "
            "parameter initialised before it");
}

} // namespace
