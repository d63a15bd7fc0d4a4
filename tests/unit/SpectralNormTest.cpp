//===- SpectralNormTest.cpp - snn.spectral_norm(_grad) against IDE_SPEC 7 --===//
//
// The reparametrisation W_eff = clamp(g, -1, 1) W / sigma with one power
// iteration, and its backward, JIT-run on a matrix and on a convolution
// kernel (the matrix [O, C*KH*KW], as PyTorch's spectral_norm reshapes
// it), against plain float64 loops written here from IDE_SPEC section 7.
//
//===----------------------------------------------------------------------===//
#include "JitHarness.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <sstream>

namespace {

using snnc::test::Arg;
using snnc::test::JitModule;

std::string typeOf(const std::vector<int64_t> &shape) {
  std::string t = "tensor<";
  for (int64_t d : shape)
    t += std::to_string(d) + "x";
  return t + "f32>";
}

void normalise(std::vector<double> &x) {
  double n = 0;
  for (double v : x)
    n += v * v;
  n = std::max(std::sqrt(n), 1e-12);
  for (double &v : x)
    v /= n;
}

void check(const std::vector<int64_t> &shape, float g0) {
  const int64_t rows = shape[0];
  int64_t cols = 1;
  for (size_t i = 1; i < shape.size(); ++i)
    cols *= shape[i];
  std::string w = typeOf(shape), u = typeOf({rows}), v = typeOf({cols});
  std::ostringstream m;
  m << "func.func @sn(%w: " << w << ", %g: tensor<1xf32>, %u: " << u
    << ", %v: " << v << ", %G: " << w << ") -> (" << w << ", " << u << ", "
    << v << ", tensor<1xf32>, " << w << ", tensor<1xf32>) {\n"
    << "  %r, %u1, %v1, %s = snn.spectral_norm %w, %g, %u, %v {training} : "
    << w << ", tensor<1xf32>, " << u << ", " << v << "\n"
    << "  %dw, %dg = snn.spectral_norm_grad %G, %w, %g, %u1, %v1, %s : " << w
    << ", tensor<1xf32>, " << u << ", " << v << "\n"
    << "  return %r, %u1, %v1, %s, %dw, %dg : " << w << ", " << u << ", " << v
    << ", tensor<1xf32>, " << w << ", tensor<1xf32>\n}\n";
  std::string error;
  auto jit = JitModule::compile(m.str(), false, error);
  ASSERT_TRUE(jit) << error;

  std::mt19937 rng(5);
  std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
  std::vector<float> W(rows * cols), G(rows * cols), U(rows), V(cols);
  for (float &x : W) x = uni(rng);
  for (float &x : G) x = uni(rng);
  for (float &x : U) x = uni(rng);
  for (float &x : V) x = uni(rng);
  std::vector<float> g{g0}, R(W.size()), U1(rows), V1(cols), S(1),
      dW(W.size()), dg(1);
  jit->call("sn",
            {Arg::buffer(W.data(), shape), Arg::buffer(g.data(), {1}),
             Arg::buffer(U.data(), {rows}), Arg::buffer(V.data(), {cols}),
             Arg::buffer(G.data(), shape), Arg::buffer(R.data(), shape),
             Arg::buffer(U1.data(), {rows}), Arg::buffer(V1.data(), {cols}),
             Arg::buffer(S.data(), {1}), Arg::buffer(dW.data(), shape),
             Arg::buffer(dg.data(), {1})},
            false);

  // IDE_SPEC section 7 on the matrix [rows, cols], in float64.
  auto at = [&](const std::vector<float> &a, int64_t i, int64_t j) {
    return static_cast<double>(a[i * cols + j]);
  };
  std::vector<double> v1(cols, 0.0), u1(rows, 0.0);
  for (int64_t j = 0; j < cols; ++j)
    for (int64_t i = 0; i < rows; ++i)
      v1[j] += at(W, i, j) * U[i];
  normalise(v1);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      u1[i] += at(W, i, j) * v1[j];
  normalise(u1);
  double sigma = 0, inner = 0;
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      sigma += u1[i] * at(W, i, j) * v1[j];
      inner += at(G, i, j) * at(W, i, j);
    }
  double gh = std::min(1.0, std::max(-1.0, static_cast<double>(g0)));
  EXPECT_NEAR(S[0], sigma, 1e-5 * std::abs(sigma));
  for (int64_t i = 0; i < rows; ++i)
    EXPECT_NEAR(U1[i], u1[i], 1e-5) << "u " << i;
  for (int64_t j = 0; j < cols; ++j)
    EXPECT_NEAR(V1[j], v1[j], 1e-5) << "v " << j;
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      EXPECT_NEAR(R[i * cols + j], gh * at(W, i, j) / sigma, 1e-5)
          << "W_eff " << i << "," << j;
      double want = gh / sigma *
                    (at(G, i, j) - inner / sigma * u1[i] * v1[j]);
      EXPECT_NEAR(dW[i * cols + j], want, 1e-4 * std::max(1.0, std::abs(want)))
          << "dW " << i << "," << j;
    }
  double wantG = g0 >= -1.0f && g0 <= 1.0f ? inner / sigma : 0.0;
  EXPECT_NEAR(dg[0], wantG, 1e-4 * std::max(1.0, std::abs(wantG)));
}

TEST(SpectralNorm, MatrixMatchesSpec) { check({4, 5}, 0.7f); }
// A 64C5s-style kernel [O, C, KH, KW] is the matrix [O, C*KH*KW].
TEST(SpectralNorm, KernelIsItsReshapedMatrix) { check({3, 2, 3, 3}, 0.7f); }
// g outside [-1, 1]: clamped, no gradient.
TEST(SpectralNorm, ClampedGHasNoGradient) { check({3, 2, 3, 3}, 1.6f); }

} // namespace
