//===- IDERingReference.h - IDE_SPEC's multi-layer module, plainly -*- C++ -*-===//
//
// An independent reference of IDE_SPEC.md sections 1.2, 2, 4, 5 and 8 for
// the multi-layer feedback module (CIFARNet-F's and AlexNet-F's structure,
// small): L convolutional layers in a ring, BatchNorm inside it (running
// statistics in the simulation, batch statistics in f), the transposed
// convolution as the feedback, dropout masks given, a readout and the
// cross-entropy; one training step in float64, plain loops, no code shared
// with the compiler or the runtime. f's Jacobian and its parameter
// derivatives are central finite differences of f itself (f is smooth
// away from the clamp's corners), not a hand-derived backward pass, and
// the linear system is solved densely: the reference shares no derivation
// with the compiled VJP.
//
// Layout: row-major; activations [B, C, H, W] flattened per sample.
//
//===----------------------------------------------------------------------===//
#ifndef SNNC_TESTS_REFERENCE_IDERINGREFERENCE_H
#define SNNC_TESTS_REFERENCE_IDERINGREFERENCE_H

#include <array>
#include <vector>

namespace snnref::ring {

using Vec = std::vector<double>;

struct Config {
  int B = 2, T = 5, classes = 3;
  std::array<int, 3> image{2, 4, 4};  // layer 0: [C, H, W]
  std::vector<int> channels{3, 2};    // layers 1 .. L-1
  std::vector<int> kernels{3, 3};     // connection l: K x K, padding (K-1)/2
  std::vector<int> strides{1, 2};
  int feedbackKernel = 3;             // stride: the product of `strides`
  double vth = 2.0, leak = 1.0;       // leak 1: IF
  double bnEps = 1e-5, bnMomentum = 0.1;
  /// The Jacobian J of the linear system (sections 8, 10.4). Eval: f with
  /// BN on the running statistics the simulation used, at a_T; Official:
  /// at f(a_T) with BN on the statistics f has moved; Train: f with
  /// training-mode BN at a_T (batch-coupled).
  enum class Jacobian { Eval, Official, Train } jacobian = Jacobian::Eval;
  /// Central-difference step.
  double h = 1e-6;
};

struct Params {
  Vec inputBias;              // c = x + inputBias (per element of layer 0)
  Vec feedback;               // [C_{L-1}, C_0, K, K] (ConvTranspose layout)
  std::vector<Vec> weight;    // connection l: [C_l, C_{l-1}, K, K]
  std::vector<Vec> bias, gamma, beta;
  Vec readout, readoutBias;   // [classes, N_{L-1}], [classes]
};

struct Stats {
  std::vector<Vec> mean, var; // per connection
};

struct Result {
  Vec rates;                  // [B, N_{L-1}]
  Vec logits;                 // [B, classes]
  double loss = 0;
  Vec beta;                   // the solved cotangent
  Params grad;
  Stats next;                 // running statistics after the step
};

/// masks[0] is the feedback's [B, N_0], masks[l] connection l's [B, N_l].
Result step(const Config &cfg, const Params &p, const Stats &s, const Vec &x,
            const std::vector<int> &labels, const std::vector<Vec> &masks);

} // namespace snnref::ring

#endif
