//===- NAReference.h - NA_SPEC.md written plainly ------------------*- C++ -*-===//
//
// An independent reference of NA_SPEC.md for the numeric tests: simple loops
// over std::vector, float32, the operation order the spec states, and no code
// shared with the compiler or the runtime. The SNS backward follows the spec
// literally (it re-simulates the whole window for every p and subtracts the
// two PSC trajectories; no rejoin shortcut).
//
// Layout: time-major, x[t * n + i] for t < T and i < n (n = batch * features).
//
//===----------------------------------------------------------------------===//
#ifndef SNNC_TESTS_REFERENCE_NAREFERENCE_H
#define SNNC_TESTS_REFERENCE_NAREFERENCE_H

#include <cstdint>
#include <vector>

namespace snnref {

using Vec = std::vector<float>;

/// A layer's neuron (NA_SPEC sections 1 and 8) and its PSC: LIF (leak
/// 1 - 1/tau_m) or IF (`integrate`: no leak), reset to zero or by
/// subtraction.
struct Neuron {
  float tauM = 5.0f, tauS = 2.0f, theta = 1.0f, clip = 10.0f;
  bool integrate = false; // IF: u = r + c
  bool subtract = false;  // reset by subtraction: r = u - theta after a spike
};

/// STBP's surrogate of ds/du (NA_SPEC sections 6 and 8).
struct Surrogate {
  bool sigmoid = false;
  float width = 1.0f;                      // rect: (|u - theta| < w/2) / w
  float scale = 5.0f, temperature = 3.0f;  // sigmoid: scale * sig'(u - theta)
  bool detachReset = false;                // no gradient through dR/ds
};

/// Section 1: a[t] = (1 - 1/tau_s) a[t-1] + x * (1/tau_s), x repeated.
Vec encodeCurrent(float tauS, int T, int n, const Vec &x);
/// Section 1: the PSC kernel on spikes.
Vec psc(float tauS, int T, int n, const Vec &s);
/// Sections 1 and 8: u (pre-reset) and s of the neurons driven by c.
void lif(const Neuron &p, int T, int n, const Vec &c, Vec &u, Vec &s);
/// Eq. (7): e[T-1] = g[T-1], e[t] = g[t] + (1 - 1/tau_s) e[t+1].
Vec errorScan(float tauS, int T, int n, const Vec &g);
/// Section 3, literally: delta = dL/dc of a LIF layer under SNS. With
/// window w > 0 (windowed SNS) the chain effect is re-simulated for w steps
/// after the flip only; later spikes are taken to be the original ones.
Vec naBackwardSNS(const Neuron &p, int T, int n, const Vec &e, const Vec &c,
                  const Vec &u, const Vec &s, int window = 0);

/// Section 9, literally: normalized SNS from the raw output error g (not
/// e): every flip's chain re-simulated to T, da = a' - a, delta[p] =
/// sgn(theta - u[p]) (g . da) / |da| / (|theta - u[p]| + 1).
Vec naBackwardNormalizedSNS(const Neuron &p, int T, int n, const Vec &g,
                            const Vec &c, const Vec &u, const Vec &s);

/// Section 4, eq. (15), literally: the T single flips and T-1 double flips
/// (p and p+1) of each neuron, o_k = eps_k / |eps_k|, f_k by eq. (17), and
/// the least-squares solution of O grad = f (normal equations, dense, in
/// double precision).
Vec naBackwardPairs(const Neuron &p, int T, int n, const Vec &e, const Vec &c,
                    const Vec &u, const Vec &s);

/// STBP (Wu et al.): BPTT of the neuron layer and its PSC through membrane
/// and reset, the spike derivative replaced by the surrogate. g = dL/da of
/// the PSC output; returns dL/dc.
Vec stbpBackward(const Neuron &p, const Surrogate &h, int T, int n,
                 const Vec &g, const Vec &u, const Vec &s);

/// c[m, o] = sum_i W[o, i] a[m, i]  (m < rows = T * B).
Vec dense(int rows, int in, int out, const Vec &a, const Vec &w);
/// Eq. (9): g[m, i] = sum_o W[o, i] delta[m, o].
Vec denseGradInput(int rows, int in, int out, const Vec &delta, const Vec &w);
/// Eq. (10): dW[o, i] = sum_m a[m, i] delta[m, o].
Vec denseGradWeight(int rows, int in, int out, const Vec &a, const Vec &delta);
/// c[m, o, p] += bias[o] for rows m, channels o and positions p (in place).
void addBias(int rows, int channels, int positions, Vec &c, const Vec &bias);
/// db[o] = sum over rows m and positions p of delta[m, o, p].
Vec biasGrad(int rows, int channels, int positions, const Vec &delta);

/// One convolution geometry: images [n, c, h, w], weights [o, c, kh, kw].
struct Conv {
  int c, h, w, o, kh, kw, stride, pad;
  int oh() const { return (h + 2 * pad - kh) / stride + 1; }
  int ow() const { return (w + 2 * pad - kw) / stride + 1; }
};
/// out[n, o, y, x] = sum_{c,ky,kx} W[o, c, ky, kx] in[n, c, y*s+ky-p, x*s+kx-p]
Vec conv2d(const Conv &g, int images, const Vec &in, const Vec &w);
/// Eq. (9) through a convolution: the adjoint of conv2d in its input.
Vec conv2dGradInput(const Conv &g, int images, const Vec &delta, const Vec &w);
/// Eq. (10) for a convolution.
Vec conv2dGradWeight(const Conv &g, int images, const Vec &in, const Vec &delta);
/// Sum pooling of [n, c, h, w] by k x k windows (stride k), times scale.
Vec sumPool(int images, int c, int h, int w, int k, float scale, const Vec &in);
/// Its adjoint: every window position receives scale * g.
Vec sumPoolGrad(int images, int c, int h, int w, int k, float scale,
                const Vec &g);

/// Section 2: d[t, b, k] = (labels[b] == k).
Vec targetSpikes(int T, int batch, int classes, const std::vector<int32_t> &l);
/// Section 2: Van Rossum loss; g = a - (sigma * d).
float vanRossum(float tauS, int T, int n, const Vec &a, const Vec &d, Vec &g);

/// The optimizer of a train step: torch.optim.AdamW (the default), Adam
/// or SGD (dampening 0).
struct AdamW {
  enum Kind { AdamWKind, AdamKind, SGDKind } kind = AdamWKind;
  float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f, weightDecay = 0.01f;
  float momentum = 0.0f; // SGD
  bool nesterov = false; // SGD
};
/// torch.optim.AdamW at 1-based `step`, in place.
void adamw(const AdamW &o, int64_t step, float lr, Vec &p, const Vec &g, Vec &m,
           Vec &v);
/// The update `o.kind` names (adamw, Adam: g + wd p, SGD: m is the momentum
/// buffer, v untouched), in place.
void update(const AdamW &o, int64_t step, float lr, Vec &p, const Vec &g,
            Vec &m, Vec &v);

/// One NA training step of an MLP (dense + LIF + PSC layers, current input,
/// Van Rossum loss, AdamW), as NA_SPEC sections 1-3 and 5 describe it.
struct MLPStep {
  int T = 5, batch = 2;
  std::vector<int> sizes; // input, hidden..., classes
  Neuron neuron;
  bool biases = false; // every dense layer has a bias (ONNX Gemm's C)
  AdamW opt;
  // In: weights [out, in] per layer (each followed by its bias [out] with
  // biases), m, v, step, lr, x [B, in], labels [B].
  // Out: updated weights, m, v; loss; output spikes [T, B, classes]; and,
  // for margin checks, every layer's potentials.
  float run(std::vector<Vec> &w, std::vector<Vec> &m, std::vector<Vec> &v,
            int64_t step, float lr, const Vec &x,
            const std::vector<int32_t> &labels, Vec &outSpikes,
            std::vector<Vec> *potentials = nullptr) const;
};

/// One NA training step of a small CNN: current input [B, C, H, W] ->
/// conv (padding) -> LIF -> PSC -> sum pool (k = 2, scale 1.1) -> flatten
/// -> dense -> LIF -> PSC, Van Rossum loss, AdamW. w = {conv, dense}.
struct CNNStep {
  int T = 5, batch = 2, classes = 5;
  Conv conv{1, 8, 8, 4, 3, 3, 1, 1};
  Neuron neuron;
  bool biases = false; // w = {conv, conv bias, dense, dense bias}
  AdamW opt;
  float run(std::vector<Vec> &w, std::vector<Vec> &m, std::vector<Vec> &v,
            int64_t step, float lr, const Vec &x,
            const std::vector<int32_t> &labels, Vec &outSpikes,
            std::vector<Vec> *potentials = nullptr) const;
};

} // namespace snnref

#endif
