//===- IDEReferenceTest.cpp - the IDE reference checked on its own ---------===//
//
// The IDE reference (tests/reference/IDEReference.h) is what the compiled
// IDE step will be compared with, so it is checked here against things
// that share nothing with it: hand-computed spike trains, the exact
// gradient of the loss by finite differences (in the reference's
// consistency mode, where the IDE gradient is exact), the solvers against
// a dense solve, and a golden step written by PyTorch's autograd from the
// official code's formulation (bench/baselines/ide_pytorch.py --golden).
//
//===----------------------------------------------------------------------===//
#include "tests/reference/IDEReference.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>

#ifndef SNNC_SOURCE_DIR
#define SNNC_SOURCE_DIR "."
#endif

namespace {

using namespace snnref::ide;

/// A small random network: F400's structure at toy size, BN statistics of
/// the batch, dropout masks, ||W_eff|| <= 1 (V = 2).
struct Net {
  Config cfg;
  Params p;
  State s;
  Batch batch;
};

Net makeNet(uint64_t seed, bool dropout, double g = 0.8) {
  Net n;
  Config &c = n.cfg;
  c.B = 4, c.D = 5, c.N = 6, c.C = 3, c.T = 5;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uni(-1.0, 1.0);
  auto fill = [&](Vec &v, size_t count, double scale) {
    v.resize(count);
    for (double &x : v)
      x = scale * uni(rng);
  };
  fill(n.p.F, c.N * c.D, 1.0);
  fill(n.p.bF, c.N, 0.1);
  fill(n.p.gamma, c.N, 0.3);
  for (double &x : n.p.gamma)
    x += 1.0;
  fill(n.p.beta, c.N, 0.5);
  for (double &x : n.p.beta)
    x += 1.0; // currents around V / 2: neurons neither all silent nor saturated
  fill(n.p.Wraw, c.N * c.N, 1.0);
  fill(n.p.Wo, c.C * c.N, 1.0);
  fill(n.p.bo, c.C, 0.1);
  initSpectral(c, n.p, n.s, seed + 1);
  n.p.g = g;
  n.s.runMean.assign(c.N, 0.0);
  n.s.runVar.assign(c.N, 1.0);
  fill(n.batch.x, c.B * c.D, 1.0);
  for (int b = 0; b < c.B; ++b)
    n.batch.y.push_back(static_cast<int>(rng() % c.C));
  if (dropout) {
    std::bernoulli_distribution keep(0.8);
    for (Vec *m : {&n.batch.maskX, &n.batch.maskS}) {
      m->resize(c.B * c.N);
      for (double &x : *m)
        x = keep(rng) ? 1.0 / 0.8 : 0.0;
    }
  }
  return n;
}

double maxRelDiff(const Vec &a, const Vec &b) {
  double scale = 1e-300, worst = 0;
  for (size_t k = 0; k < a.size(); ++k)
    scale = std::max(scale, std::abs(a[k]));
  for (size_t k = 0; k < a.size(); ++k)
    worst = std::max(worst, std::abs(a[k] - b[k]));
  return worst / scale;
}

// Section 2 by hand: no feedback (g = 0), one sample (BN gives c = beta),
// V = 2, c = 1.5, T = 5. IF: u = 1.5, 3 (spike), 2.5 (spike), 2 (spike, >=),
// 1.5: spikes 0 1 1 1 0. LIF 0.95: 1.5; 2.925 (spike); 2.37875 (spike);
// 1.8598 (no); 3.26681 (spike): spikes 0 1 1 0 1.
TEST(IDEReference, SimulationByHand) {
  Config c;
  c.B = 1, c.D = 1, c.N = 1, c.C = 2, c.T = 5;
  Params p;
  p.F = {0.3}, p.bF = {0.0}, p.gamma = {1.0}, p.beta = {1.5};
  p.Wraw = {1.0}, p.g = 0.0, p.Wo = {1.0, -1.0}, p.bo = {0.0, 0.0};
  State s{{1.0}, {1.0}, {0.0}, {1.0}};
  Batch b{{0.7}, {0}, {}, {}};
  c.integrate = true;
  Result r = step(c, p, s, b);
  EXPECT_EQ(r.spikes, (Vec{0, 1, 1, 1, 0}));
  EXPECT_DOUBLE_EQ(r.a[0], 0.6);
  c.integrate = false;
  r = step(c, p, s, b);
  EXPECT_EQ(r.spikes, (Vec{0, 1, 1, 0, 1}));
  double lam = 0.95, denom = 1 + lam + lam * lam + lam * lam * lam +
                               lam * lam * lam * lam;
  EXPECT_NEAR(r.a[0], (lam * lam * lam + lam * lam + 1) / denom, 1e-15);
}

// Section 5.1: Broyden and the plain iteration agree with a dense solve;
// the official "iter" solves (2I - J^T) beta = g instead.
TEST(IDEReference, SolversAgainstDenseSolve) {
  for (bool dropout : {false, true})
    for (bool integrate : {false, true}) {
      Net n = makeNet(11 + dropout * 2 + integrate, dropout);
      n.cfg.integrate = integrate;
      n.cfg.solver = Solver::Exact;
      Result exact = step(n.cfg, n.p, n.s, n.batch);
      ASSERT_LT(exact.residual, 1e-12);
      n.cfg.solver = Solver::Broyden;
      Result broyden = step(n.cfg, n.p, n.s, n.batch);
      EXPECT_LT(maxRelDiff(exact.beta, broyden.beta), 1e-7)
          << "dropout " << dropout << " IF " << integrate;
      EXPECT_LE(broyden.iterations, 30);
      EXPECT_GT(broyden.iterations, 1);
      n.cfg.solver = Solver::FixedPoint;
      Result fixed = step(n.cfg, n.p, n.s, n.batch);
      EXPECT_LT(maxRelDiff(exact.beta, fixed.beta), 1e-10);
      n.cfg.solver = Solver::OfficialIter;
      Result iter = step(n.cfg, n.p, n.s, n.batch);
      // 2 x - J^T x = g at the official result; not the IDE solution.
      Vec jt = jacobianTransposeTimes(n.cfg, iter.Weff, n.batch.maskS,
                                      iter.d, iter.beta);
      double worst = 0;
      for (size_t k = 0; k < jt.size(); ++k)
        worst = std::max(worst, std::abs(2 * iter.beta[k] - jt[k] -
                                          iter.gradA[k]));
      EXPECT_LT(worst, 1e-12);
      EXPECT_GT(maxRelDiff(exact.beta, iter.beta), 0.05);
    }
}

// Every parameter gradient against central differences of the loss, in the
// consistency mode (the readout sees the exact fixed point a*, J at a*):
// there the implicit gradient is the true gradient.
TEST(IDEReference, GradientsAgainstFiniteDifferences) {
  for (bool dropout : {false, true})
    for (double g : {0.8, 1.6}) { // g > 1: clamped, dL/dg = 0
      Net n = makeNet(23 + dropout, dropout, g);
      n.cfg.atFixedPoint = true;
      n.cfg.solver = Solver::Exact;
      // u, v as after this step's power iteration, then frozen.
      n.s = step(n.cfg, n.p, n.s, n.batch).next;
      n.cfg.powerIteration = false;
      Result r = step(n.cfg, n.p, n.s, n.batch);
      struct Field {
        const char *name;
        Vec Params::*member;
      };
      const double h = 1e-6;
      auto lossAt = [&](const Params &q) {
        return step(n.cfg, q, n.s, n.batch).loss;
      };
      for (Field f : {Field{"F", &Params::F}, Field{"bF", &Params::bF},
                      Field{"gamma", &Params::gamma},
                      Field{"beta", &Params::beta}, Field{"Wraw", &Params::Wraw},
                      Field{"Wo", &Params::Wo}, Field{"bo", &Params::bo}}) {
        const Vec &grad = r.grad.*(f.member);
        for (size_t k = 0; k < grad.size(); ++k) {
          Params plus = n.p, minus = n.p;
          (plus.*(f.member))[k] += h;
          (minus.*(f.member))[k] -= h;
          double fd = (lossAt(plus) - lossAt(minus)) / (2 * h);
          EXPECT_NEAR(grad[k], fd, 1e-6 + 1e-5 * std::abs(fd))
              << f.name << "[" << k << "] dropout " << dropout << " g " << g;
        }
      }
      Params plus = n.p, minus = n.p;
      plus.g += h;
      minus.g -= h;
      double fd = (lossAt(plus) - lossAt(minus)) / (2 * h);
      EXPECT_NEAR(r.grad.g, fd, 1e-6 + 1e-5 * std::abs(fd)) << "g " << g;
      if (g > 1)
        EXPECT_EQ(r.grad.g, 0.0);
      // BN removes the mean: dL/db_F is 0 up to rounding.
      for (double v : r.grad.bF)
        EXPECT_NEAR(v, 0.0, 1e-12);
    }
}

// Section 8: the running statistics move twice per step in the official
// code: from 0, running mean = 0.19 x the batch mean.
TEST(IDEReference, RunningStatisticsTwice) {
  Net n = makeNet(5, false);
  Result r = step(n.cfg, n.p, n.s, n.batch);
  for (int i = 0; i < n.cfg.N; ++i) {
    double mean = n.p.bF[i];
    for (int b = 0; b < n.cfg.B; ++b)
      for (int k = 0; k < n.cfg.D; ++k)
        mean += n.p.F[i * n.cfg.D + k] * n.batch.x[b * n.cfg.D + k] / n.cfg.B;
    EXPECT_NEAR(r.next.runMean[i], 0.19 * mean, 1e-14);
  }
  n.cfg.bnTwice = false;
  Result once = step(n.cfg, n.p, n.s, n.batch);
  for (int i = 0; i < n.cfg.N; ++i)
    EXPECT_NEAR(once.next.runMean[i], r.next.runMean[i] / 1.9, 1e-14);
}

// Section 5.1's fragile corner: a sample whose every neuron is saturated
// (d = 0) converges at once; the guarded update keeps the rest finite.
TEST(IDEReference, BroydenGuardOnATrivialSample) {
  Net n = makeNet(31, false);
  n.cfg.solver = Solver::Broyden;
  // Sample 0's input: huge, every neuron saturated (p > 1).
  for (int k = 0; k < n.cfg.D; ++k)
    n.batch.x[k] = 50.0;
  n.p.gamma.assign(n.cfg.N, 1.0);
  Result r = step(n.cfg, n.p, n.s, n.batch);
  n.cfg.solver = Solver::Exact;
  Result exact = step(n.cfg, n.p, n.s, n.batch);
  for (double v : r.beta)
    EXPECT_TRUE(std::isfinite(v));
  EXPECT_LT(maxRelDiff(exact.beta, r.beta), 1e-7);
}

// Section 7: g starts as the spectral norm of the initial weight.
TEST(IDEReference, SpectralInitialisation) {
  Net n = makeNet(41, false);
  Params p = n.p;
  State s;
  initSpectral(n.cfg, p, s, 99);
  // The largest singular value by a long power iteration.
  int N = n.cfg.N;
  Vec u(N, 1.0), v(N);
  double sigma = 0;
  for (int it = 0; it < 2000; ++it) {
    for (int j = 0; j < N; ++j) {
      v[j] = 0;
      for (int i = 0; i < N; ++i)
        v[j] += p.Wraw[i * N + j] * u[i];
    }
    double nv = 0;
    for (double x : v)
      nv += x * x;
    for (double &x : v)
      x /= std::sqrt(nv);
    double nu = 0;
    for (int i = 0; i < N; ++i) {
      u[i] = 0;
      for (int j = 0; j < N; ++j)
        u[i] += p.Wraw[i * N + j] * v[j];
      nu += u[i] * u[i];
    }
    sigma = std::sqrt(nu);
    for (double &x : u)
      x /= sigma;
  }
  EXPECT_NEAR(p.g, sigma, 0.1 * sigma); // 10 iterations: close, not exact
  EXPECT_LE(p.g, sigma * (1 + 1e-12));
  double nu = 0;
  for (double x : s.u)
    nu += x * x;
  EXPECT_NEAR(nu, 1.0, 1e-12);
}

/// tests/unit/Inputs/ide_golden.txt: `name count values...` per line.
std::map<std::string, Vec> readGolden() {
  std::ifstream in(SNNC_SOURCE_DIR "/tests/unit/Inputs/ide_golden.txt");
  std::map<std::string, Vec> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#')
      continue;
    std::istringstream ls(line);
    std::string name;
    size_t count = 0;
    ls >> name >> count;
    Vec v(count);
    for (double &x : v)
      ls >> x;
    out[name] = v;
  }
  return out;
}

// One step against PyTorch's autograd of the official formulation
// (bench/baselines/ide_pytorch.py --golden, float64): the simulation, f,
// the loss, beta (exact solve) and every gradient, which PyTorch takes
// through BN, the masks and the reparametrisation by itself; and Broyden's
// iterate and step count against the baseline's Broyden.
TEST(IDEReference, GoldenStepFromPyTorch) {
  std::map<std::string, Vec> gold = readGolden();
  ASSERT_FALSE(gold.empty()) << "tests/unit/Inputs/ide_golden.txt";
  const Vec &shape = gold["shape"];
  Config c;
  c.B = static_cast<int>(shape[0]), c.D = static_cast<int>(shape[1]);
  c.N = static_cast<int>(shape[2]), c.C = static_cast<int>(shape[3]);
  c.T = static_cast<int>(shape[4]);
  c.vth = gold["vth"][0];
  c.leak = gold["leak"][0];
  c.solver = Solver::Exact;
  Params p{gold["F"],    gold["bF"], gold["gamma"], gold["beta"],
           gold["Wraw"], gold["g"][0], gold["Wo"],  gold["bo"]};
  State s{gold["u0"], gold["v0"], Vec(c.N, 0.0), Vec(c.N, 1.0)};
  Batch b{gold["x"], {}, gold["maskX"], gold["maskS"]};
  for (double y : gold["y"])
    b.y.push_back(static_cast<int>(y));
  Result r = step(c, p, s, b);
  auto expectClose = [&](const char *name, const Vec &mine, double tol) {
    const Vec &theirs = gold[name];
    ASSERT_EQ(mine.size(), theirs.size()) << name;
    EXPECT_LT(maxRelDiff(theirs, mine), tol) << name;
  };
  expectClose("out_u", r.next.u, 1e-12);
  expectClose("out_v", r.next.v, 1e-12);
  expectClose("out_Weff", r.Weff, 1e-12);
  expectClose("out_c", r.c, 1e-12);
  expectClose("out_a", r.a, 1e-12);
  expectClose("out_fa", r.fa, 1e-12);
  expectClose("out_logits", r.logits, 1e-12);
  EXPECT_NEAR(r.loss, gold["out_loss"][0], 1e-12);
  expectClose("out_gradA", r.gradA, 1e-12);
  expectClose("out_beta", r.beta, 1e-10);
  expectClose("out_runMean", r.next.runMean, 1e-12);
  expectClose("out_runVar", r.next.runVar, 1e-12);
  expectClose("grad_F", r.grad.F, 1e-10);
  expectClose("grad_gamma", r.grad.gamma, 1e-10);
  expectClose("grad_beta", r.grad.beta, 1e-10);
  expectClose("grad_Wraw", r.grad.Wraw, 1e-10);
  EXPECT_NEAR(r.grad.g, gold["grad_g"][0], 1e-10);
  expectClose("grad_Wo", r.grad.Wo, 1e-12);
  expectClose("grad_bo", r.grad.bo, 1e-12);
  for (double v : gold["grad_bF"]) // 0 up to rounding, in both
    EXPECT_NEAR(v, 0.0, 1e-12);
  c.solver = Solver::Broyden;
  Result rb = step(c, p, s, b);
  expectClose("out_beta_broyden", rb.beta, 1e-8);
  EXPECT_EQ(rb.iterations, static_cast<int>(gold["out_broyden_steps"][0]));
}

} // namespace
