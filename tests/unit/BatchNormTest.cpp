//===- BatchNormTest.cpp - snn.batch_norm against the plain reference ------===//
//
// The compiled forward (training and evaluation) and backward of batch
// normalization against tests/reference/BatchNorm.h, for a dense layer's
// [T, B, C] and a convolution's [T, B, C, H, W]; the reference's backward
// against finite differences of its forward first.
//
//===----------------------------------------------------------------------===//
#include "JitHarness.h"
#include "tests/reference/BatchNorm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <sstream>

namespace {

using snnc::test::Arg;
using snnc::test::JitModule;

std::string typeOf(const std::vector<int64_t> &shape) {
  std::ostringstream os;
  os << "tensor<";
  for (int64_t d : shape)
    os << d << "x";
  os << "f32>";
  return os.str();
}

struct Case {
  std::vector<int64_t> shape; // [T, B, C, ...]
  int updates;
};

void check(const Case &k) {
  std::string act = typeOf(k.shape);
  int64_t C = k.shape[2];
  std::string ch = typeOf({C});
  std::ostringstream m;
  m << "func.func @train(%x: " << act << ", %g: " << ch << ", %b: " << ch
    << ", %rm: " << ch << ", %rv: " << ch << ", %dy: " << act << ") -> ("
    << act << ", " << ch << ", " << ch << ", " << act << ", " << ch << ", "
    << ch << ") {\n"
    << "  %y, %nm, %nv, %mean, %inv = snn.batch_norm %x, %g, %b, %rm, %rv "
       "{eps = 1.0e-3 : f32, momentum = 0.25 : f32, updates = "
    << k.updates << ", training} : " << act << ", " << ch << "\n"
    << "  %dx, %dg, %db = snn.batch_norm_grad %dy, %x, %g, %mean, %inv : "
    << act << ", " << ch << "\n"
    << "  return %y, %nm, %nv, %dx, %dg, %db : " << act << ", " << ch << ", "
    << ch << ", " << act << ", " << ch << ", " << ch << "\n}\n"
    << "func.func @eval(%x: " << act << ", %g: " << ch << ", %b: " << ch
    << ", %rm: " << ch << ", %rv: " << ch << ") -> (" << act << ", " << ch
    << ") {\n"
    << "  %y, %nm, %nv, %mean, %inv = snn.batch_norm %x, %g, %b, %rm, %rv "
       "{eps = 1.0e-3 : f32} : "
    << act << ", " << ch << "\n"
    << "  return %y, %nv : " << act << ", " << ch << "\n}\n";
  std::string error;
  auto jit = JitModule::compile(m.str(), false, error);
  ASSERT_TRUE(jit) << error;

  snnref::BatchNormShape s;
  s.N = static_cast<int>(k.shape[0] * k.shape[1]);
  s.C = static_cast<int>(C);
  for (size_t i = 3; i < k.shape.size(); ++i)
    s.P *= static_cast<int>(k.shape[i]);
  size_t n = static_cast<size_t>(s.N) * s.C * s.P;
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(n), dy(n), g(C), b(C), rm(C), rv(C);
  for (size_t i = 0; i < n; ++i) {
    // Channels with their own offset and scale (and spikes-like zeros).
    int c = static_cast<int>(i / s.P % s.C);
    x[i] = (i % 7 == 0) ? 0.0f : 2.0f * c - 1.0f + (0.5f + c) * normal(rng);
    dy[i] = normal(rng);
  }
  for (int c = 0; c < C; ++c) {
    g[c] = 1.0f + 0.3f * normal(rng);
    b[c] = 0.2f * normal(rng);
    rm[c] = 0.1f * c;
    rv[c] = 1.0f + 0.5f * c;
  }
  std::vector<float> y(n), nm(C), nv(C), dx(n), dg(C), db(C);
  jit->call("train",
            {Arg::buffer(x.data(), k.shape), Arg::buffer(g.data(), {C}),
             Arg::buffer(b.data(), {C}), Arg::buffer(rm.data(), {C}),
             Arg::buffer(rv.data(), {C}), Arg::buffer(dy.data(), k.shape),
             Arg::buffer(y.data(), k.shape), Arg::buffer(nm.data(), {C}),
             Arg::buffer(nv.data(), {C}), Arg::buffer(dx.data(), k.shape),
             Arg::buffer(dg.data(), {C}), Arg::buffer(db.data(), {C})},
            false);
  auto d = [](const std::vector<float> &v) {
    return std::vector<double>(v.begin(), v.end());
  };
  std::vector<double> wantY, wantDx, wantDg, wantDb;
  std::vector<double> wantRm = d(rm), wantRv = d(rv);
  snnref::batchNormForward(s, d(x), d(g), d(b), wantRm, wantRv, 1e-3, 0.25,
                           k.updates, true, wantY);
  snnref::batchNormBackward(s, d(x), d(g), d(dy), 1e-3, wantDx, wantDg, wantDb);
  // float32 sums over N*P elements against float64: relative to the scale.
  auto expectNear = [](const char *what, const std::vector<float> &got,
                       const std::vector<double> &want, double tol) {
    double scale = 0, worst = 0;
    for (double v : want)
      scale = std::max(scale, std::abs(v));
    for (size_t i = 0; i < got.size(); ++i)
      worst = std::max(worst, std::abs(got[i] - want[i]));
    EXPECT_LE(worst, tol * std::max(scale, 1.0)) << what;
  };
  expectNear("y", y, wantY, 1e-5);
  expectNear("running mean", nm, wantRm, 1e-5);
  expectNear("running var", nv, wantRv, 1e-5);
  expectNear("dx", dx, wantDx, 1e-4);
  expectNear("dgamma", dg, wantDg, 1e-4);
  expectNear("dbeta", db, wantDb, 1e-4);

  // Evaluation: the running statistics normalize and stay.
  std::vector<float> ye(n), nve(C);
  jit->call("eval",
            {Arg::buffer(x.data(), k.shape), Arg::buffer(g.data(), {C}),
             Arg::buffer(b.data(), {C}), Arg::buffer(rm.data(), {C}),
             Arg::buffer(rv.data(), {C}), Arg::buffer(ye.data(), k.shape),
             Arg::buffer(nve.data(), {C})},
            false);
  std::vector<double> wantYe, rm2 = d(rm), rv2 = d(rv);
  snnref::batchNormForward(s, d(x), d(g), d(b), rm2, rv2, 1e-3, 0.25, 1, false,
                           wantYe);
  expectNear("eval y", ye, wantYe, 1e-5);
  expectNear("eval running var", nve, d(rv), 0.0);
}

TEST(BatchNorm, DenseMatchesReference) { check({{5, 8, 6}, 1}); }
TEST(BatchNorm, ConvMatchesReference) { check({{3, 4, 5, 6, 7}, 1}); }
TEST(BatchNorm, TwoRunningUpdates) { check({{1, 16, 4}, 2}); }

// The reference's backward is the gradient of its forward: central
// differences of sum(w * y) for random weights w.
TEST(BatchNorm, ReferenceBackwardIsTheGradient) {
  snnref::BatchNormShape s{6, 3, 4};
  size_t n = static_cast<size_t>(s.N) * s.C * s.P;
  std::mt19937 rng(5);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> x(n), w(n), g(s.C), b(s.C), rm(s.C, 0.0), rv(s.C, 1.0);
  for (double &v : x)
    v = normal(rng);
  for (double &v : w)
    v = normal(rng);
  for (int c = 0; c < s.C; ++c) {
    g[c] = 1 + 0.3 * normal(rng);
    b[c] = normal(rng);
  }
  auto objective = [&](const std::vector<double> &xx,
                       const std::vector<double> &gg,
                       const std::vector<double> &bb) {
    std::vector<double> y, m = rm, v = rv;
    snnref::batchNormForward(s, xx, gg, bb, m, v, 1e-3, 0.1, 1, true, y);
    double sum = 0;
    for (size_t i = 0; i < n; ++i)
      sum += w[i] * y[i];
    return sum;
  };
  std::vector<double> dx, dg, db;
  snnref::batchNormBackward(s, x, g, w, 1e-3, dx, dg, db);
  const double h = 1e-6;
  for (size_t i = 0; i < n; ++i) {
    std::vector<double> p = x, q = x;
    p[i] += h;
    q[i] -= h;
    EXPECT_NEAR(dx[i], (objective(p, g, b) - objective(q, g, b)) / (2 * h), 1e-6);
  }
  for (int c = 0; c < s.C; ++c) {
    std::vector<double> p = g, q = g;
    p[c] += h;
    q[c] -= h;
    EXPECT_NEAR(dg[c], (objective(x, p, b) - objective(x, q, b)) / (2 * h), 1e-6);
    p = b, q = b;
    p[c] += h;
    q[c] -= h;
    EXPECT_NEAR(db[c], (objective(x, g, p) - objective(x, g, q)) / (2 * h), 1e-6);
  }
}

} // namespace
