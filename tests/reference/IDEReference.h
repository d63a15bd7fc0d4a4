//===- IDEReference.h - IDE_SPEC.md written plainly ----------------*- C++ -*-===//
//
// An independent reference of IDE_SPEC.md (Xiao et al. 2021, the official
// code's semantics) for the numeric tests of the IDE method: the
// single-layer fully connected feedback module (F400's structure) with its
// input connection F + BatchNorm + dropout, the spectral-norm
// reparametrised feedback W, the readout and cross-entropy; one training
// step in float64, simple loops over std::vector, the operation order of
// the spec, no code shared with the compiler or the runtime.
//
// Layout: row-major; per-sample vectors are [B, N] (x[b * N + i]), spikes
// [T, B, N], weights [out, in].
//
//===----------------------------------------------------------------------===//
#ifndef SNNC_TESTS_REFERENCE_IDEREFERENCE_H
#define SNNC_TESTS_REFERENCE_IDEREFERENCE_H

#include <cstdint>
#include <vector>

namespace snnref::ide {

using Vec = std::vector<double>;

/// Section 5.1: how (I - J)^T beta = g is solved.
enum class Solver {
  Exact,        // a dense solve per sample (testing)
  FixedPoint,   // beta := g + J^T beta until the update is below `tolerance`
  Broyden,      // the official solver, with the denominator guard
  OfficialIter, // N-MNIST's damped "iter": 30 x x := (x + G(x)) / 2
};

struct Config {
  int B = 2, D = 3, N = 4, C = 3, T = 5;
  double vth = 2.0;
  double leak = 0.95;     // LIF: leak after reset (section 2)
  bool integrate = false; // IF: no leak
  Solver solver = Solver::Broyden;
  int maxIterations = 30;          // Broyden, OfficialIter; FixedPoint: 10x
  double tolerance = 1e-12;        // FixedPoint: on max |update|
  double broydenEps = 2e-10;       // eps = broydenEps * sqrt(B N)
  double bnEps = 1e-5, bnMomentum = 0.1;
  /// The official code updates the running statistics twice per step (its
  /// restore is a no-op, section 8); false: once.
  bool bnTwice = true;
  /// Power iteration: one step from the state's u (section 7); false: the
  /// state's u, v are used as they are (finite-difference tests freeze them).
  bool powerIteration = true;
  /// false: no reparametrisation, W_eff = Wraw (g, u, v unused; grad.Wraw
  /// is dL/dW_eff): the feedback module alone, e.g. a convolution's dense
  /// equivalent.
  bool spectralNorm = true;
  /// Consistency mode for finite differences: the readout sees the exact
  /// fixed point a* of f (iterated to convergence) instead of the
  /// simulated a_T, and J is taken at a*. Then the IDE gradient is the
  /// exact gradient of the loss.
  bool atFixedPoint = false;
  bool training = true;
};

struct Params {
  Vec F, bF;          // input connection [N, D], [N]
  Vec gamma, beta;    // BatchNorm [N]
  Vec Wraw;           // feedback weight_w [N, N]
  double g = 1.0;     // feedback weight_g
  Vec Wo, bo;         // readout [C, N], [C]
};

struct State {
  Vec u, v;             // power-iteration vectors [N]
  Vec runMean, runVar;  // BatchNorm running statistics [N]
};

struct Batch {
  Vec x;                  // [B, D]
  std::vector<int> y;     // [B]
  Vec maskX, maskS;       // dropout masks [B, N] (0 or 1/(1-p)); empty: 1
};

struct Result {
  Vec c;                 // the input current [B, N]
  Vec Weff;              // clamp(g) Wraw / sigma [N, N]
  double sigma = 0;
  Vec spikes;            // [T, B, N]
  Vec a;                 // the simulated rates a_T (or a* in consistency mode)
  Vec fa;                // f(a)
  Vec d;                 // the clamp's pass-through mask [B, N]
  Vec logits;            // [B, C]
  double loss = 0;       // cross-entropy, mean over the batch
  Vec gradA;             // dL/da [B, N]
  Vec beta;              // the solver's solution [B, N]
  int iterations = 0;    // solver steps (G evaluations after the first)
  double residual = 0;   // batch-wide ||G(beta)|| (Frobenius)
  Params grad;           // dL/d every parameter
  State next;            // u, v, running statistics after the step
};

/// One step: training (forward, backward) or, with !training, evaluation
/// (running statistics, no dropout, no backward; the power iteration runs
/// in both, as in the official code).
Result step(const Config &cfg, const Params &p, const State &s,
            const Batch &batch);

/// J^T x per sample at (W_eff, mask_s, d): (J^T x)_j = sum_i d_i m_i W_ij x_i / V.
Vec jacobianTransposeTimes(const Config &cfg, const Vec &Weff, const Vec &maskS,
                           const Vec &d, const Vec &x);

/// Section 7's initialisation of the reparametrisation from Wraw: g by 10
/// power iterations from fresh random vectors, u, v other random unit
/// vectors (deterministic from `seed`).
void initSpectral(const Config &cfg, Params &p, State &s, uint64_t seed);

} // namespace snnref::ide

#endif
