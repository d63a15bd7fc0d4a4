//===- IDERingStepTest.cpp - the compiled ring step against the reference --===//
//
// A small multi-layer feedback module (CIFARNet-F's structure: three
// layers in a ring, 2x4x4 -> 3x4x4 (3x3, stride 1) -> 2x2x2 (3x3, stride
// 2), BN with a bias on both connections, a 3x3 stride-2 transposed
// convolution back to layer 0, dropout on every connection), an input bias
// before it, a readout and the cross-entropy, compiled by snnc's stages and
// JIT-run: loss, logits, every parameter's gradient and the running
// statistics after the step, against tests/reference/IDERingReference.h in
// float64 (f's derivatives there are finite differences of f, the solve
// dense). IF and LIF, T 5 and 30, each of the three Jacobians, each solver. The gradient is read off a step of plain
// SGD with lr 1.
//
//===----------------------------------------------------------------------===//
#include "CompiledMask.h"
#include "JitHarness.h"
#include "SGDStep.h"
#include "tests/reference/IDERingReference.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <sstream>

namespace {

using snnc::test::Arg;
using snnc::test::JitModule;
using snnc::test::normwise;
using namespace snnref::ring;

constexpr int B = 4, C0 = 2, H0 = 4, C1 = 3, C2 = 2, H2 = 2, K = 3;
constexpr int N0 = C0 * H0 * H0, N1 = C1 * H0 * H0, N2 = C2 * H2 * H2;
constexpr int Classes = 3;
constexpr float kRate = 0.2f;

using Jacobian = Config::Jacobian;

const char *nameOf(Jacobian j) {
  return j == Jacobian::Eval ? "eval" : j == Jacobian::Official ? "official" : "train";
}

std::string moduleFor(bool integrate, int steps, const char *solver,
                      int iterations, Jacobian jacobian) {
  std::ostringstream m;
  m << "func.func @forward(%bin: tensor<32xf32> {snn.param},\n"
       "  %wfb: tensor<2x2x3x3xf32> {snn.param}, %w1: tensor<3x2x3x3xf32> {snn.param},\n"
       "  %w2: tensor<2x3x3x3xf32> {snn.param}, %b1: tensor<3xf32> {snn.param},\n"
       "  %b2: tensor<2xf32> {snn.param}, %g1: tensor<3xf32> {snn.param},\n"
       "  %g2: tensor<2xf32> {snn.param}, %e1: tensor<3xf32> {snn.param},\n"
       "  %e2: tensor<2xf32> {snn.param},\n"
       "  %rm1: tensor<3xf32> {snn.param, snn.buffer}, %rm2: tensor<2xf32> {snn.param, snn.buffer},\n"
       "  %rv1: tensor<3xf32> {snn.param, snn.buffer}, %rv2: tensor<2xf32> {snn.param, snn.buffer},\n"
       "  %wo: tensor<3x8xf32> {snn.param}, %bo: tensor<3xf32> {snn.param},\n"
       "  %x: tensor<4x32xf32>, %y: tensor<4xi32>, %key: i64) -> (f32, tensor<1x4x3xf32>)\n"
       "  attributes {snn.optimizer = \"sgd\", snn.weight_decay = 0.0 : f32} {\n"
       "  %x3 = tensor.expand_shape %x [[0, 1], [2]] output_shape [1, 4, 32] : tensor<4x32xf32> into tensor<1x4x32xf32>\n"
       "  %c = snn.bias_add %x3, %bin : tensor<1x4x32xf32>, tensor<32xf32>\n"
       "  %a, %m:3, %nm:2, %nv:2 = snn.feedback_ring %c, %wfb, %key\n"
       "      weights(%w1, %w2) biases(%b1, %b2) gammas(%g1, %g2) betas(%e1, %e2)\n"
       "      means(%rm1, %rm2) vars(%rv1, %rv2)\n"
       "      {image = array<i64: 2, 4, 4>, strides = array<i64: 1, 2>, steps = "
    << steps << ", threshold = 2.0 : f32, leak = " << (integrate ? "1.0" : "0.95")
    << " : f32, rate = 0.2 : f32, stream = 1, solver = #snn<ide_solver " << solver
    << ">, max_iterations = " << iterations << ", tolerance = 1.0e-9 : f32"
    << ", jacobian = #snn<ide_jacobian " << nameOf(jacobian) << ">"
    << ", training}\n"
       "      : tensor<1x4x32xf32>, tensor<2x2x3x3xf32>, [tensor<3x2x3x3xf32>, tensor<2x3x3x3xf32>],\n"
       "        [tensor<3xf32>, tensor<2xf32>], [tensor<3xf32>, tensor<2xf32>], [tensor<3xf32>, tensor<2xf32>],\n"
       "        [tensor<3xf32>, tensor<2xf32>], [tensor<3xf32>, tensor<2xf32>]\n"
       "      -> tensor<1x4x8xf32>, [tensor<4x32xf32>, tensor<4x48xf32>, tensor<4x8xf32>],\n"
       "         [tensor<3xf32>, tensor<2xf32>], [tensor<3xf32>, tensor<2xf32>]\n"
       "  %o = snn.dense %a, %wo : tensor<1x4x8xf32>, tensor<3x8xf32> -> tensor<1x4x3xf32>\n"
       "  %ob = snn.bias_add %o, %bo : tensor<1x4x3xf32>, tensor<3xf32>\n"
       "  %loss, %gr = snn.cross_entropy_loss %ob, %y : tensor<1x4x3xf32>, tensor<4xi32>\n"
       "  return %loss, %ob : f32, tensor<1x4x3xf32>\n"
       "}\n";
  return m.str();
}

/// The step of the compiled module against the reference on 3 seeds
/// without a float32 spike flip; gradients within `tol` normwise.
void check(bool integrate, int steps, const char *solver, int iterations,
           Jacobian jacobian, double tol = 2e-4) {
  std::string error;
  auto jit = JitModule::compile(
      moduleFor(integrate, steps, solver, iterations, jacobian), true, error);
  ASSERT_TRUE(jit) << error;
  const std::vector<std::vector<int64_t>> shapes{
      {N0}, {C2, C0, K, K}, {C1, C0, K, K}, {C2, C1, K, K}, {C1}, {C2},
      {C1}, {C2}, {C1}, {C2}, {C1}, {C2}, {C1}, {C2}, {Classes, N2}, {Classes}};
  const size_t P = shapes.size();
  std::string what = std::string(integrate ? "IF" : "LIF") + " T " +
                     std::to_string(steps) + " " + solver +
                     " J " + nameOf(jacobian);
  int checked = 0, skipped = 0;
  for (unsigned seed = 1; checked < 3 && seed < 40; ++seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
    std::vector<std::vector<float>> p(P);
    for (size_t k = 0; k < P; ++k) {
      int64_t size = 1;
      for (int64_t d : shapes[k])
        size *= d;
      p[k].resize(size);
      for (float &v : p[k])
        v = uni(rng);
    }
    for (float &v : p[0]) v = 1.0f + 0.5f * v;       // currents near V / 2
    for (float &v : p[1]) v *= 0.3f;                  // a contracting feedback
    for (int k : {6, 7}) for (float &v : p[k]) v = 1.0f + 0.3f * v; // gamma
    for (int k : {8, 9}) for (float &v : p[k]) v = 1.0f + 0.5f * v; // beta
    for (int k : {10, 11}) for (float &v : p[k]) v *= 0.2f;         // means
    for (int k : {12, 13}) for (float &v : p[k]) v = 1.0f + 0.5f * v; // vars > 0
    std::vector<float> x(B * N0);
    for (float &v : x) v = uni(rng);
    std::vector<int32_t> y(B);
    for (int32_t &v : y) v = static_cast<int32_t>(rng() % Classes);
    int64_t key = 500 + seed;

    auto d = [](const std::vector<float> &v) { return Vec(v.begin(), v.end()); };
    Config cfg;
    cfg.B = B;
    cfg.T = steps;
    cfg.leak = integrate ? 1.0 : 0.95;
    cfg.jacobian = jacobian;
    Params rp;
    rp.inputBias = d(p[0]);
    rp.feedback = d(p[1]);
    rp.weight = {d(p[2]), d(p[3])};
    rp.bias = {d(p[4]), d(p[5])};
    rp.gamma = {d(p[6]), d(p[7])};
    rp.beta = {d(p[8]), d(p[9])};
    rp.readout = d(p[14]);
    rp.readoutBias = d(p[15]);
    Stats rs{{d(p[10]), d(p[11])}, {d(p[12]), d(p[13])}};
    std::vector<Vec> masks{snnc::test::compiledMask(key, 1, B * N0, kRate),
                           snnc::test::compiledMask(key, 2, B * N1, kRate),
                           snnc::test::compiledMask(key, 3, B * N2, kRate)};
    std::vector<int> labels(y.begin(), y.end());
    Vec xd = d(x);
    Result want = step(cfg, rp, rs, xd, labels, masks);

    std::vector<float> logits(B * Classes);
    snnc::test::SGDStep sgd(p, shapes,
                            {Arg::buffer(x.data(), {B, N0}), Arg::buffer(y.data(), {B}),
                             Arg::i(key)},
                            {Arg::buffer(logits.data(), {1, B, Classes})});
    auto &np = sgd.next;
    float loss = jit->call("train_step", sgd.args, true);

    // A spike that flips between float32 and float64 (u within rounding
    // of V) changes the rates: such a seed is skipped.
    if (normwise(logits, want.logits) > 1e-4) {
      ++skipped;
      continue;
    }
    EXPECT_NEAR(loss, want.loss, 1e-5 * std::max(1.0, want.loss)) << what;
    auto grad = [&](size_t k) { return sgd.grad(p, k); };
    const char *names[] = {"input bias", "feedback", "w1", "w2", "b1", "b2",
                           "gamma1", "gamma2", "beta1", "beta2"};
    const Vec *wants[] = {&want.grad.inputBias, &want.grad.feedback,
                          &want.grad.weight[0], &want.grad.weight[1],
                          &want.grad.bias[0],   &want.grad.bias[1],
                          &want.grad.gamma[0],  &want.grad.gamma[1],
                          &want.grad.beta[0],   &want.grad.beta[1]};
    for (int k = 0; k < 10; ++k) {
      if (k == 4 || k == 5) {
        // d L / d b_l is 0 up to rounding: BN removes the mean.
        for (float gb : grad(k))
          EXPECT_NEAR(gb, 0.0f, 1e-5f) << names[k] << " " << what;
        for (double gb : *wants[k])
          EXPECT_NEAR(gb, 0.0, 1e-6) << "reference " << names[k] << " " << what;
        continue;
      }
      EXPECT_LT(normwise(grad(k), *wants[k]), tol) << names[k] << " " << what;
    }
    EXPECT_LT(normwise(grad(14), want.grad.readout), 1e-4) << "readout " << what;
    EXPECT_LT(normwise(grad(15), want.grad.readoutBias), 1e-4) << what;
    // The running statistics, moved once by f at the rates.
    EXPECT_LT(normwise(np[10], want.next.mean[0]), 1e-5) << what;
    EXPECT_LT(normwise(np[11], want.next.mean[1]), 1e-5) << what;
    EXPECT_LT(normwise(np[12], want.next.var[0]), 1e-5) << what;
    EXPECT_LT(normwise(np[13], want.next.var[1]), 1e-5) << what;
    ++checked;
  }
  EXPECT_EQ(checked, 3) << "too few seeds without a float spike flip ("
                        << skipped << " skipped) " << what;
}

// J with BN on the simulation's running statistics at the rates (the
// default): the exact solve (LAPACK, per sample), IF and LIF, T 5 and 30.
TEST(IDERingStep, ExactSolveMatchesReference) {
  check(false, 5, "exact", 30, Jacobian::Eval);
  check(true, 5, "exact", 30, Jacobian::Eval);
  check(false, 30, "exact", 30, Jacobian::Eval);
  check(true, 30, "exact", 30, Jacobian::Eval);
}
// The fixed-point iteration to 1e-9.
TEST(IDERingStep, FixedPointMatchesReference) {
  check(false, 5, "fixed_point", 300, Jacobian::Eval);
  check(true, 30, "fixed_point", 300, Jacobian::Eval);
}
// Broyden, 30 steps at most (float32: within rounding of the exact solution).
TEST(IDERingStep, BroydenMatchesReference) {
  check(false, 5, "broyden", 30, Jacobian::Eval);
  check(true, 30, "broyden", 30, Jacobian::Eval);
}
// The official code's J (IDE_SPEC section 10.4): at f(a_T), BN on the
// statistics f has just moved; the gradients still through f at a_T.
TEST(IDERingStep, OfficialJacobianMatchesReference) {
  check(false, 5, "exact", 30, Jacobian::Official);
  check(false, 5, "broyden", 30, Jacobian::Official);
  check(true, 30, "fixed_point", 300, Jacobian::Official);
}
// f's own J (training-mode BN, batch-coupled): one exact system over the
// batch, and the fixed point where it contracts.
TEST(IDERingStep, TrainJacobianMatchesReference) {
  check(false, 5, "exact", 30, Jacobian::Train);
  check(true, 30, "exact", 30, Jacobian::Train);
}

} // namespace
