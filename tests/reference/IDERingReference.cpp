//===- IDERingReference.cpp - IDE_SPEC's multi-layer module, plainly ------===//
#include "IDERingReference.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>

namespace snnref::ring {
namespace {

struct Shape {
  int c, h, w;
  int n() const { return c * h * w; }
};

std::vector<Shape> shapes(const Config &cfg) {
  std::vector<Shape> s{{cfg.image[0], cfg.image[1], cfg.image[2]}};
  for (size_t l = 0; l < cfg.channels.size(); ++l) {
    int k = cfg.kernels[l], p = (k - 1) / 2, st = cfg.strides[l];
    const Shape &prev = s.back();
    s.push_back({cfg.channels[l], (prev.h + 2 * p - k) / st + 1,
                 (prev.w + 2 * p - k) / st + 1});
  }
  return s;
}

/// out[b, o, y, x] = sum w[o, i, ky, kx] in[b, i, y s + ky - p, x s + kx - p].
Vec conv(const Vec &in, const Shape &si, const Vec &w, const Shape &so, int k,
         int s, int B) {
  int p = (k - 1) / 2;
  Vec out(static_cast<size_t>(B) * so.n(), 0.0);
  for (int b = 0; b < B; ++b)
    for (int o = 0; o < so.c; ++o)
      for (int y = 0; y < so.h; ++y)
        for (int x = 0; x < so.w; ++x) {
          double acc = 0;
          for (int i = 0; i < si.c; ++i)
            for (int ky = 0; ky < k; ++ky)
              for (int kx = 0; kx < k; ++kx) {
                int yy = y * s + ky - p, xx = x * s + kx - p;
                if (yy < 0 || yy >= si.h || xx < 0 || xx >= si.w)
                  continue;
                acc += w[((o * si.c + i) * k + ky) * k + kx] *
                       in[b * si.n() + (i * si.h + yy) * si.w + xx];
              }
          out[b * so.n() + (o * so.h + y) * so.w + x] = acc;
        }
  return out;
}

/// PyTorch's ConvTranspose2d (weight [C_in, C_out, K, K], stride s,
/// padding p, the output size given): every input element scatters its
/// kernel: out[b, c, y s - p + ky, x s - p + kx] += w[i, c, ky, kx] in[b, i, y, x].
Vec convTranspose(const Vec &in, const Shape &si, const Vec &w, const Shape &so,
                  int k, int s, int B) {
  int p = (k - 1) / 2;
  Vec out(static_cast<size_t>(B) * so.n(), 0.0);
  for (int b = 0; b < B; ++b)
    for (int i = 0; i < si.c; ++i)
      for (int y = 0; y < si.h; ++y)
        for (int x = 0; x < si.w; ++x) {
          double v = in[b * si.n() + (i * si.h + y) * si.w + x];
          for (int c = 0; c < so.c; ++c)
            for (int ky = 0; ky < k; ++ky)
              for (int kx = 0; kx < k; ++kx) {
                int yy = y * s - p + ky, xx = x * s - p + kx;
                if (yy < 0 || yy >= so.h || xx < 0 || xx >= so.w)
                  continue;
                out[b * so.n() + (c * so.h + yy) * so.w + xx] +=
                    w[((i * so.c + c) * k + ky) * k + kx] * v;
              }
        }
  return out;
}

double clamp01(double v) { return std::min(1.0, std::max(0.0, v)); }

/// Per channel over the batch and positions: the mean and the biased
/// variance.
void moments(const Vec &v, const Shape &s, int B, Vec &mean, Vec &var) {
  mean.assign(s.c, 0.0);
  var.assign(s.c, 0.0);
  int hw = s.h * s.w;
  for (int c = 0; c < s.c; ++c) {
    double sum = 0;
    for (int b = 0; b < B; ++b)
      for (int q = 0; q < hw; ++q)
        sum += v[b * s.n() + c * hw + q];
    mean[c] = sum / (B * hw);
    double sq = 0;
    for (int b = 0; b < B; ++b)
      for (int q = 0; q < hw; ++q) {
        double d = v[b * s.n() + c * hw + q] - mean[c];
        sq += d * d;
      }
    var[c] = sq / (B * hw);
  }
}

/// y = gamma (v - mean) / sqrt(var + eps) + beta, per channel.
Vec normalize(const Vec &v, const Shape &s, int B, const Vec &mean,
              const Vec &var, const Vec &gamma, const Vec &beta, double eps) {
  Vec out(v.size());
  int hw = s.h * s.w;
  for (int b = 0; b < B; ++b)
    for (int c = 0; c < s.c; ++c)
      for (int q = 0; q < hw; ++q) {
        size_t i = b * s.n() + c * hw + q;
        out[i] = gamma[c] * (v[i] - mean[c]) / std::sqrt(var[c] + eps) + beta[c];
      }
  return out;
}

Vec addChannelBias(Vec v, const Shape &s, int B, const Vec &bias) {
  int hw = s.h * s.w;
  for (int b = 0; b < B; ++b)
    for (int c = 0; c < s.c; ++c)
      for (int q = 0; q < hw; ++q)
        v[b * s.n() + c * hw + q] += bias[c];
  return v;
}

int totalStride(const Config &cfg) {
  int s = 1;
  for (int v : cfg.strides)
    s *= v;
  return s;
}

/// f (IDE_SPEC section 4) at z, BN with the batch's statistics (`stats`
/// null; their values are returned in batchMean, batchVar) or on `stats`.
Vec equilibriumMap(const Config &cfg, const std::vector<Shape> &sh,
                   const Params &p, const Vec &c, const Vec &z,
                   const std::vector<Vec> &masks, const Stats *stats,
                   Stats *batch = nullptr) {
  const int B = cfg.B, L = static_cast<int>(sh.size());
  Vec t = convTranspose(z, sh[L - 1], p.feedback, sh[0], cfg.feedbackKernel,
                        totalStride(cfg), B);
  Vec a(t.size());
  for (size_t i = 0; i < a.size(); ++i)
    a[i] = clamp01((masks[0][i] * t[i] + c[i]) / cfg.vth);
  if (batch) {
    batch->mean.clear();
    batch->var.clear();
  }
  for (int l = 1; l < L; ++l) {
    Vec pre = addChannelBias(conv(a, sh[l - 1], p.weight[l - 1], sh[l],
                                  cfg.kernels[l - 1], cfg.strides[l - 1], B),
                             sh[l], B, p.bias[l - 1]);
    Vec mean, var;
    if (stats) {
      mean = stats->mean[l - 1];
      var = stats->var[l - 1];
    } else {
      moments(pre, sh[l], B, mean, var);
    }
    if (batch) {
      batch->mean.push_back(mean);
      batch->var.push_back(var);
    }
    Vec y = normalize(pre, sh[l], B, mean, var, p.gamma[l - 1], p.beta[l - 1],
                      cfg.bnEps);
    a.assign(y.size(), 0.0);
    for (size_t i = 0; i < y.size(); ++i)
      a[i] = clamp01(masks[l][i] * y[i] / cfg.vth);
  }
  return a;
}

/// Solves A x = r (n x n, row-major) by Gaussian elimination with partial
/// pivoting.
Vec solveDense(std::vector<double> A, Vec r, int n) {
  for (int col = 0; col < n; ++col) {
    int piv = col;
    for (int i = col + 1; i < n; ++i)
      if (std::abs(A[i * n + col]) > std::abs(A[piv * n + col]))
        piv = i;
    if (std::abs(A[piv * n + col]) < 1e-300) {
      std::fprintf(stderr, "IDERingReference: singular system\n");
      std::abort();
    }
    if (piv != col) {
      for (int j = 0; j < n; ++j)
        std::swap(A[col * n + j], A[piv * n + j]);
      std::swap(r[col], r[piv]);
    }
    for (int i = col + 1; i < n; ++i) {
      double f = A[i * n + col] / A[col * n + col];
      for (int j = col; j < n; ++j)
        A[i * n + j] -= f * A[col * n + j];
      r[i] -= f * r[col];
    }
  }
  Vec x(n);
  for (int i = n - 1; i >= 0; --i) {
    double acc = r[i];
    for (int j = i + 1; j < n; ++j)
      acc -= A[i * n + j] * x[j];
    x[i] = acc / A[i * n + i];
  }
  return x;
}

/// beta . d f / d v for every element of `v` (a parameter or the input
/// current), by central differences of `eval` (f as a function of v).
Vec directional(Vec &v, const Vec &beta, double h,
                const std::function<Vec()> &eval) {
  Vec g(v.size(), 0.0);
  for (size_t k = 0; k < v.size(); ++k) {
    double keep = v[k];
    v[k] = keep + h;
    Vec up = eval();
    v[k] = keep - h;
    Vec down = eval();
    v[k] = keep;
    double acc = 0;
    for (size_t i = 0; i < beta.size(); ++i)
      acc += beta[i] * (up[i] - down[i]) / (2 * h);
    g[k] = acc;
  }
  return g;
}

} // namespace

Result step(const Config &cfg, const Params &p, const Stats &s, const Vec &x,
            const std::vector<int> &labels, const std::vector<Vec> &masks) {
  const std::vector<Shape> sh = shapes(cfg);
  const int B = cfg.B, L = static_cast<int>(sh.size());
  const int N0 = sh[0].n(), NL = sh[L - 1].n();
  Result r;
  Vec c(static_cast<size_t>(B) * N0);
  for (int b = 0; b < B; ++b)
    for (int i = 0; i < N0; ++i)
      c[b * N0 + i] = x[b * N0 + i] + p.inputBias[i];

  // Section 2: the simulation, BN on the running statistics; the feedback
  // of the last layer's spikes of the step before into layer 0.
  std::vector<Vec> u(L), spk(L);
  for (int l = 0; l < L; ++l) {
    u[l].assign(static_cast<size_t>(B) * sh[l].n(), 0.0);
    spk[l].assign(u[l].size(), 0.0);
  }
  Vec acc(static_cast<size_t>(B) * NL, 0.0);
  auto fire = [&](Vec &uu, Vec &ss) {
    for (size_t i = 0; i < uu.size(); ++i) {
      ss[i] = uu[i] >= cfg.vth ? 1.0 : 0.0;
      uu[i] = cfg.leak * (uu[i] - cfg.vth * ss[i]);
    }
  };
  for (int t = 0; t < cfg.T; ++t) {
    Vec fb(u[0].size(), 0.0);
    if (t > 0)
      fb = convTranspose(spk[L - 1], sh[L - 1], p.feedback, sh[0],
                         cfg.feedbackKernel, totalStride(cfg), B);
    for (size_t i = 0; i < u[0].size(); ++i)
      u[0][i] += c[i] + masks[0][i] * fb[i];
    fire(u[0], spk[0]);
    for (int l = 1; l < L; ++l) {
      Vec y = normalize(addChannelBias(conv(spk[l - 1], sh[l - 1], p.weight[l - 1],
                                            sh[l], cfg.kernels[l - 1],
                                            cfg.strides[l - 1], B),
                                       sh[l], B, p.bias[l - 1]),
                        sh[l], B, s.mean[l - 1], s.var[l - 1], p.gamma[l - 1],
                        p.beta[l - 1], cfg.bnEps);
      for (size_t i = 0; i < u[l].size(); ++i)
        u[l][i] += masks[l][i] * y[i];
      fire(u[l], spk[l]);
    }
    for (size_t i = 0; i < acc.size(); ++i)
      acc[i] = cfg.leak * acc[i] + spk[L - 1][i];
  }
  double denom = 0;
  for (int k = 0; k < cfg.T; ++k)
    denom += std::pow(cfg.leak, k);
  r.rates.resize(acc.size());
  for (size_t i = 0; i < acc.size(); ++i)
    r.rates[i] = acc[i] / denom;

  // Readout and the mean cross-entropy; g = dL/da.
  const int K = cfg.classes;
  r.logits.assign(static_cast<size_t>(B) * K, 0.0);
  Vec gLogits(r.logits.size());
  for (int b = 0; b < B; ++b) {
    for (int k = 0; k < K; ++k) {
      double v = p.readoutBias[k];
      for (int i = 0; i < NL; ++i)
        v += p.readout[k * NL + i] * r.rates[b * NL + i];
      r.logits[b * K + k] = v;
    }
    double mx = r.logits[b * K];
    for (int k = 1; k < K; ++k)
      mx = std::max(mx, r.logits[b * K + k]);
    double z = 0;
    for (int k = 0; k < K; ++k)
      z += std::exp(r.logits[b * K + k] - mx);
    r.loss += (std::log(z) + mx - r.logits[b * K + labels[b]]) / B;
    for (int k = 0; k < K; ++k)
      gLogits[b * K + k] =
          (std::exp(r.logits[b * K + k] - mx) / z - (k == labels[b])) / B;
  }
  Vec gA(static_cast<size_t>(B) * NL, 0.0);
  r.grad.readout.assign(p.readout.size(), 0.0);
  r.grad.readoutBias.assign(K, 0.0);
  for (int b = 0; b < B; ++b)
    for (int k = 0; k < K; ++k) {
      double g = gLogits[b * K + k];
      r.grad.readoutBias[k] += g;
      for (int i = 0; i < NL; ++i) {
        r.grad.readout[k * NL + i] += g * r.rates[b * NL + i];
        gA[b * NL + i] += g * p.readout[k * NL + i];
      }
    }

  // Section 8: f at the rates (training-mode BN) moves the running
  // statistics once.
  Stats batch;
  Vec fa = equilibriumMap(cfg, sh, p, c, r.rates, masks, nullptr, &batch);
  r.next = s;
  for (int l = 1; l < L; ++l) {
    double n = static_cast<double>(B) * sh[l].h * sh[l].w;
    for (int ch = 0; ch < sh[l].c; ++ch) {
      r.next.mean[l - 1][ch] = (1 - cfg.bnMomentum) * s.mean[l - 1][ch] +
                               cfg.bnMomentum * batch.mean[l - 1][ch];
      r.next.var[l - 1][ch] = (1 - cfg.bnMomentum) * s.var[l - 1][ch] +
                              cfg.bnMomentum * batch.var[l - 1][ch] * n / (n - 1);
    }
  }

  // Section 5: J by central differences of f (of all B * N_{L-1} inputs:
  // training-mode BN couples the samples), then (I - J^T) beta = g densely.
  const int n = B * NL;
  using J = Config::Jacobian;
  Vec at = cfg.jacobian == J::Official ? fa : r.rates;
  const Stats *jacStats = cfg.jacobian == J::Official ? &r.next
                          : cfg.jacobian == J::Eval   ? &s
                                                      : nullptr;
  std::vector<double> A(static_cast<size_t>(n) * n, 0.0);
  for (int j = 0; j < n; ++j) {
    Vec z = at;
    z[j] = at[j] + cfg.h;
    Vec up = equilibriumMap(cfg, sh, p, c, z, masks, jacStats);
    z[j] = at[j] - cfg.h;
    Vec down = equilibriumMap(cfg, sh, p, c, z, masks, jacStats);
    for (int i = 0; i < n; ++i) {
      double J = (up[i] - down[i]) / (2 * cfg.h); // d f_i / d z_j
      A[j * n + i] = (i == j ? 1.0 : 0.0) - J;     // (I - J^T)[j][i]
    }
  }
  r.beta = solveDense(A, gA, n);

  // The VJP of f at the rates (training-mode BN) with cotangent beta, by
  // central differences in every parameter and in the input current.
  Params q = p;
  Vec cc = c;
  auto f = [&] { return equilibriumMap(cfg, sh, q, cc, r.rates, masks, nullptr); };
  Vec gc = directional(cc, r.beta, cfg.h, f);
  r.grad.inputBias.assign(N0, 0.0);
  for (int b = 0; b < B; ++b)
    for (int i = 0; i < N0; ++i)
      r.grad.inputBias[i] += gc[b * N0 + i];
  r.grad.feedback = directional(q.feedback, r.beta, cfg.h, f);
  for (int l = 1; l < L; ++l) {
    r.grad.weight.push_back(directional(q.weight[l - 1], r.beta, cfg.h, f));
    r.grad.bias.push_back(directional(q.bias[l - 1], r.beta, cfg.h, f));
    r.grad.gamma.push_back(directional(q.gamma[l - 1], r.beta, cfg.h, f));
    r.grad.beta.push_back(directional(q.beta[l - 1], r.beta, cfg.h, f));
  }
  return r;
}

} // namespace snnref::ring
