//===- IDEReference.cpp - IDE_SPEC.md written plainly ----------------------===//
#include "IDEReference.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

namespace snnref::ide {

namespace {

double norm(const Vec &x) {
  double s = 0;
  for (double v : x)
    s += v * v;
  return std::sqrt(s);
}

void normalise(Vec &x) {
  double n = std::max(norm(x), 1e-12);
  for (double &v : x)
    v /= n;
}

double clamp01(double z) { return std::min(1.0, std::max(0.0, z)); }

double maskAt(const Vec &m, size_t i) { return m.empty() ? 1.0 : m[i]; }

/// Section 7: one power iteration (v := W^T u, u := W v, normalised), then
/// sigma = u^T W v and W_eff = clamp(g, -1, 1) W / sigma.
void reparametrise(const Config &cfg, const Params &p, State &s, Result &r) {
  int N = cfg.N;
  if (!cfg.spectralNorm) {
    r.sigma = 1.0;
    r.Weff = p.Wraw;
    return;
  }
  if (cfg.powerIteration) {
    Vec v(N, 0.0), u(N, 0.0);
    for (int j = 0; j < N; ++j)
      for (int i = 0; i < N; ++i)
        v[j] += p.Wraw[i * N + j] * s.u[i];
    normalise(v);
    for (int i = 0; i < N; ++i)
      for (int j = 0; j < N; ++j)
        u[i] += p.Wraw[i * N + j] * v[j];
    normalise(u);
    s.u = u;
    s.v = v;
  }
  double sigma = 0;
  for (int i = 0; i < N; ++i)
    for (int j = 0; j < N; ++j)
      sigma += s.u[i] * p.Wraw[i * N + j] * s.v[j];
  double gh = std::min(1.0, std::max(-1.0, p.g));
  r.sigma = sigma;
  r.Weff.assign(N * N, 0.0);
  for (int k = 0; k < N * N; ++k)
    r.Weff[k] = gh * p.Wraw[k] / sigma;
}

/// p = (mask_s (W a) + c) / V per sample; f = clamp01(p), d = [0 <= p <= 1].
void equilibriumMap(const Config &cfg, const Vec &Weff, const Vec &c,
                    const Vec &maskS, const Vec &a, Vec &f, Vec &d) {
  int B = cfg.B, N = cfg.N;
  f.assign(B * N, 0.0);
  d.assign(B * N, 0.0);
  for (int b = 0; b < B; ++b)
    for (int i = 0; i < N; ++i) {
      double wa = 0;
      for (int j = 0; j < N; ++j)
        wa += Weff[i * N + j] * a[b * N + j];
      double pre = (maskAt(maskS, b * N + i) * wa + c[b * N + i]) / cfg.vth;
      f[b * N + i] = clamp01(pre);
      d[b * N + i] = pre >= 0.0 && pre <= 1.0 ? 1.0 : 0.0;
    }
}

/// Section 2: T steps of IF or LIF (reset by subtraction, leak after
/// reset), feedback with one step of delay; the (weighted) average rate.
void simulate(const Config &cfg, const Vec &Weff, const Vec &c,
              const Vec &maskS, Result &r) {
  int B = cfg.B, N = cfg.N, T = cfg.T;
  double lam = cfg.integrate ? 1.0 : cfg.leak;
  r.spikes.assign(static_cast<size_t>(T) * B * N, 0.0);
  Vec u(B * N, 0.0);
  for (int t = 0; t < T; ++t) {
    for (int b = 0; b < B; ++b)
      for (int i = 0; i < N; ++i) {
        size_t k = b * N + i;
        double in = c[k];
        if (t > 0) {
          double ws = 0;
          for (int j = 0; j < N; ++j)
            ws += Weff[i * N + j] *
                  r.spikes[static_cast<size_t>(t - 1) * B * N + b * N + j];
          in += maskAt(maskS, k) * ws;
        }
        u[k] = (t == 0 ? 0.0 : u[k]) + in;
        double s = u[k] >= cfg.vth ? 1.0 : 0.0;
        r.spikes[static_cast<size_t>(t) * B * N + k] = s;
        u[k] = lam * (u[k] - cfg.vth * s);
      }
  }
  r.a.assign(B * N, 0.0);
  double denom = 0;
  for (int k = 0; k < T; ++k)
    denom += std::pow(lam, k);
  for (int t = 0; t < T; ++t)
    for (size_t k = 0; k < r.a.size(); ++k)
      r.a[k] += std::pow(lam, T - 1 - t) *
                r.spikes[static_cast<size_t>(t) * B * N + k] / denom;
}

/// Gaussian elimination with partial pivoting: A x = rhs, A [n, n].
Vec solveDense(Vec A, Vec rhs, int n) {
  for (int col = 0; col < n; ++col) {
    int piv = col;
    for (int r = col + 1; r < n; ++r)
      if (std::abs(A[r * n + col]) > std::abs(A[piv * n + col]))
        piv = r;
    if (A[piv * n + col] == 0.0)
      throw std::runtime_error("IDE reference: singular I - J^T");
    for (int k = 0; k < n; ++k)
      std::swap(A[col * n + k], A[piv * n + k]);
    std::swap(rhs[col], rhs[piv]);
    for (int r = col + 1; r < n; ++r) {
      double f = A[r * n + col] / A[col * n + col];
      for (int k = col; k < n; ++k)
        A[r * n + k] -= f * A[col * n + k];
      rhs[r] -= f * rhs[col];
    }
  }
  Vec x(n, 0.0);
  for (int r = n - 1; r >= 0; --r) {
    double s = rhs[r];
    for (int k = r + 1; k < n; ++k)
      s -= A[r * n + k] * x[k];
    x[r] = s / A[r * n + r];
  }
  return x;
}

/// Section 5.1 solvers of beta = g + J^T beta.
Vec solve(const Config &cfg, const Vec &Weff, const Vec &maskS, const Vec &d,
          const Vec &g, Result &r) {
  int B = cfg.B, N = cfg.N;
  auto JT = [&](const Vec &x) {
    return jacobianTransposeTimes(cfg, Weff, maskS, d, x);
  };
  auto G = [&](const Vec &x) { // G(x) = J^T x - x + g
    Vec y = JT(x);
    for (size_t k = 0; k < y.size(); ++k)
      y[k] += g[k] - x[k];
    return y;
  };
  Vec x;
  switch (cfg.solver) {
  case Solver::Exact: {
    x.assign(B * N, 0.0);
    for (int b = 0; b < B; ++b) {
      // A = I - J^T with J^T[j, i] = d_i m_i W_ij / V.
      Vec A(N * N, 0.0), rhs(N);
      for (int j = 0; j < N; ++j) {
        A[j * N + j] = 1.0;
        rhs[j] = g[b * N + j];
        for (int i = 0; i < N; ++i)
          A[j * N + i] -= d[b * N + i] * maskAt(maskS, b * N + i) *
                          Weff[i * N + j] / cfg.vth;
      }
      Vec xb = solveDense(A, rhs, N);
      std::copy(xb.begin(), xb.end(), x.begin() + b * N);
    }
    break;
  }
  case Solver::FixedPoint: {
    x = g;
    for (int n = 0; n < 10 * cfg.maxIterations; ++n) {
      Vec next = JT(x);
      double change = 0;
      for (size_t k = 0; k < next.size(); ++k) {
        next[k] += g[k];
        change = std::max(change, std::abs(next[k] - x[k]));
      }
      x = next;
      r.iterations = n + 1;
      if (change < cfg.tolerance)
        break;
    }
    break;
  }
  case Solver::OfficialIter: {
    x = g;
    for (int n = 0; n < cfg.maxIterations; ++n) {
      Vec gx = G(x);
      for (size_t k = 0; k < x.size(); ++k)
        x[k] = (x[k] + gx[k]) / 2.0;
    }
    r.iterations = cfg.maxIterations;
    break;
  }
  case Solver::Broyden: {
    const int M = std::min(cfg.maxIterations, 27);
    double eps = cfg.broydenEps * std::sqrt(static_cast<double>(B) * N);
    x.assign(B * N, 0.0);
    Vec gx = G(x);
    double norm0 = norm(gx);
    Vec best = x;
    double bestNorm = norm0;
    std::vector<Vec> Us, VTs; // ring of rank-one pairs, [B, N] each
    Us.assign(M, Vec(B * N, 0.0));
    VTs.assign(M, Vec(B * N, 0.0));
    int stored = 0, n = 0;
    // H y = -y + sum_k u_k (v_k . y); H^T y = -y + sum_k v_k (u_k . y),
    // per sample.
    auto apply = [&](const Vec &y, bool transpose) {
      Vec out(B * N);
      for (size_t k = 0; k < out.size(); ++k)
        out[k] = -y[k];
      for (int k = 0; k < stored; ++k)
        for (int b = 0; b < B; ++b) {
          const Vec &left = transpose ? VTs[k] : Us[k];
          const Vec &right = transpose ? Us[k] : VTs[k];
          double dot = 0;
          for (int i = 0; i < N; ++i)
            dot += right[b * N + i] * y[b * N + i];
          for (int i = 0; i < N; ++i)
            out[b * N + i] += left[b * N + i] * dot;
        }
      return out;
    };
    Vec delta(B * N);
    for (size_t k = 0; k < delta.size(); ++k)
      delta[k] = -gx[k];
    while (norm(gx) >= eps && n < cfg.maxIterations) {
      Vec x1(B * N);
      for (size_t k = 0; k < x1.size(); ++k)
        x1[k] = x[k] + delta[k];
      Vec g1 = G(x1);
      Vec dx = delta, dG(B * N);
      for (size_t k = 0; k < dG.size(); ++k)
        dG[k] = g1[k] - gx[k];
      ++n;
      double n1 = norm(g1);
      if (n1 < bestNorm) {
        bestNorm = n1;
        best = x1;
      }
      if (n1 < eps || n1 > 1e6 * norm0)
        break;
      Vec vT = apply(dx, /*transpose=*/true);
      Vec Hdg = apply(dG, /*transpose=*/false);
      Vec u(B * N, 0.0);
      for (int b = 0; b < B; ++b) {
        double denom = 0;
        for (int i = 0; i < N; ++i)
          denom += vT[b * N + i] * dG[b * N + i];
        // The guard of section 5.1: a converged sample (dx = dG = 0) or a
        // vanishing denominator gets no update.
        if (!(std::abs(denom) > 1e-30)) {
          for (int i = 0; i < N; ++i)
            vT[b * N + i] = 0.0;
          continue;
        }
        for (int i = 0; i < N; ++i)
          u[b * N + i] = (dx[b * N + i] - Hdg[b * N + i]) / denom;
      }
      int slot = (n - 1) % M;
      Us[slot] = u;
      VTs[slot] = vT;
      stored = std::min(stored + 1, M);
      Vec hg = apply(g1, /*transpose=*/false);
      for (size_t k = 0; k < delta.size(); ++k)
        delta[k] = -hg[k];
      x = x1;
      gx = g1;
    }
    r.iterations = n;
    x = best;
    break;
  }
  }
  r.residual = norm(G(x));
  return x;
}

} // namespace

Vec jacobianTransposeTimes(const Config &cfg, const Vec &Weff, const Vec &maskS,
                           const Vec &d, const Vec &x) {
  int B = cfg.B, N = cfg.N;
  Vec y(B * N, 0.0);
  for (int b = 0; b < B; ++b)
    for (int i = 0; i < N; ++i) {
      double w = d[b * N + i] * maskAt(maskS, b * N + i) * x[b * N + i] /
                 cfg.vth;
      for (int j = 0; j < N; ++j)
        y[b * N + j] += Weff[i * N + j] * w;
    }
  return y;
}

Result step(const Config &cfg, const Params &p, const State &s0,
            const Batch &batch) {
  int B = cfg.B, D = cfg.D, N = cfg.N, C = cfg.C;
  Result r;
  r.next = s0;
  reparametrise(cfg, p, r.next, r);
  Vec maskX = cfg.training ? batch.maskX : Vec();
  Vec maskS = cfg.training ? batch.maskS : Vec();

  // Section 3: c = mask_x BN(F x + b_F), once per step.
  Vec z(B * N, 0.0), zhat(B * N, 0.0), mean(N, 0.0), var(N, 0.0);
  for (int b = 0; b < B; ++b)
    for (int i = 0; i < N; ++i) {
      double acc = p.bF[i];
      for (int k = 0; k < D; ++k)
        acc += p.F[i * D + k] * batch.x[b * D + k];
      z[b * N + i] = acc;
    }
  if (cfg.training) {
    for (int i = 0; i < N; ++i) {
      for (int b = 0; b < B; ++b)
        mean[i] += z[b * N + i] / B;
      for (int b = 0; b < B; ++b)
        var[i] += (z[b * N + i] - mean[i]) * (z[b * N + i] - mean[i]) / B;
    }
    // Running statistics: momentum 0.1, unbiased variance, once per BN
    // call; the official step calls it twice (section 8).
    for (int k = 0; k < (cfg.bnTwice ? 2 : 1); ++k)
      for (int i = 0; i < N; ++i) {
        double m = cfg.bnMomentum;
        r.next.runMean[i] = (1 - m) * r.next.runMean[i] + m * mean[i];
        r.next.runVar[i] = (1 - m) * r.next.runVar[i] +
                           m * var[i] * B / std::max(B - 1, 1);
      }
  } else {
    mean = s0.runMean;
    var = s0.runVar;
  }
  r.c.assign(B * N, 0.0);
  for (int b = 0; b < B; ++b)
    for (int i = 0; i < N; ++i) {
      size_t k = b * N + i;
      zhat[k] = (z[k] - mean[i]) / std::sqrt(var[i] + cfg.bnEps);
      r.c[k] = maskAt(maskX, k) * (p.gamma[i] * zhat[k] + p.beta[i]);
    }

  simulate(cfg, r.Weff, r.c, maskS, r);
  if (cfg.atFixedPoint) {
    // a* = f(a*): f is a contraction here (||W_eff|| / V < 1).
    Vec f, d;
    for (int it = 0; it < 100000; ++it) {
      equilibriumMap(cfg, r.Weff, r.c, maskS, r.a, f, d);
      double change = 0;
      for (size_t k = 0; k < f.size(); ++k)
        change = std::max(change, std::abs(f[k] - r.a[k]));
      r.a = f;
      if (change < 1e-15)
        break;
    }
  }
  equilibriumMap(cfg, r.Weff, r.c, maskS, r.a, r.fa, r.d);

  // Section 6: o = W_o a + b_o, cross-entropy, mean over the batch.
  r.logits.assign(B * C, 0.0);
  Vec dO(B * C, 0.0);
  for (int b = 0; b < B; ++b) {
    double mx = -1e300;
    for (int k = 0; k < C; ++k) {
      double o = p.bo[k];
      for (int i = 0; i < N; ++i)
        o += p.Wo[k * N + i] * r.a[b * N + i];
      r.logits[b * C + k] = o;
      mx = std::max(mx, o);
    }
    double sum = 0;
    for (int k = 0; k < C; ++k)
      sum += std::exp(r.logits[b * C + k] - mx);
    r.loss += (std::log(sum) + mx - r.logits[b * C + batch.y[b]]) / B;
    for (int k = 0; k < C; ++k)
      dO[b * C + k] = (std::exp(r.logits[b * C + k] - mx) / sum -
                       (k == batch.y[b] ? 1.0 : 0.0)) /
                      B;
  }
  if (!cfg.training)
    return r;

  Params &gr = r.grad;
  gr.Wo.assign(C * N, 0.0);
  gr.bo.assign(C, 0.0);
  r.gradA.assign(B * N, 0.0);
  for (int b = 0; b < B; ++b)
    for (int k = 0; k < C; ++k) {
      gr.bo[k] += dO[b * C + k];
      for (int i = 0; i < N; ++i) {
        gr.Wo[k * N + i] += dO[b * C + k] * r.a[b * N + i];
        r.gradA[b * N + i] += p.Wo[k * N + i] * dO[b * C + k];
      }
    }

  // Section 5: beta = g + J^T beta at a, then one VJP of f with cotangent
  // beta: delta = beta d / V is dL/d(pre-clamp) / V.
  r.beta = solve(cfg, r.Weff, maskS, r.d, r.gradA, r);
  Vec delta(B * N);
  for (size_t k = 0; k < delta.size(); ++k)
    delta[k] = r.beta[k] * r.d[k] / cfg.vth;
  Vec GW(N * N, 0.0);
  for (int b = 0; b < B; ++b)
    for (int i = 0; i < N; ++i)
      for (int j = 0; j < N; ++j)
        GW[i * N + j] +=
            delta[b * N + i] * maskAt(maskS, b * N + i) * r.a[b * N + j];

  // Section 7: through the reparametrisation (u, v constant).
  double gh = std::min(1.0, std::max(-1.0, p.g));
  double inner = 0;
  for (int k = 0; k < N * N; ++k)
    inner += GW[k] * p.Wraw[k];
  gr.Wraw.assign(N * N, 0.0);
  for (int i = 0; i < N; ++i)
    for (int j = 0; j < N; ++j)
      gr.Wraw[i * N + j] =
          cfg.spectralNorm
              ? gh / r.sigma *
                    (GW[i * N + j] - inner / r.sigma * r.next.u[i] * r.next.v[j])
              : GW[i * N + j];
  gr.g = cfg.spectralNorm && p.g >= -1.0 && p.g <= 1.0 ? inner / r.sigma : 0.0;

  // dL/dc = delta, through the mask and training-mode BatchNorm.
  gr.gamma.assign(N, 0.0);
  gr.beta.assign(N, 0.0);
  gr.F.assign(N * D, 0.0);
  gr.bF.assign(N, 0.0);
  for (int i = 0; i < N; ++i) {
    Vec dy(B), dzhat(B);
    double meanD = 0, meanDZ = 0;
    for (int b = 0; b < B; ++b) {
      size_t k = b * N + i;
      dy[b] = delta[k] * maskAt(maskX, k);
      gr.gamma[i] += dy[b] * zhat[k];
      gr.beta[i] += dy[b];
      dzhat[b] = dy[b] * p.gamma[i];
      meanD += dzhat[b] / B;
      meanDZ += dzhat[b] * zhat[k] / B;
    }
    double inv = 1.0 / std::sqrt(var[i] + cfg.bnEps);
    for (int b = 0; b < B; ++b) {
      size_t k = b * N + i;
      double dz = inv * (dzhat[b] - meanD - zhat[k] * meanDZ);
      gr.bF[i] += dz;
      for (int q = 0; q < D; ++q)
        gr.F[i * D + q] += dz * batch.x[b * D + q];
    }
  }
  return r;
}

void initSpectral(const Config &cfg, Params &p, State &s, uint64_t seed) {
  int N = cfg.N;
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  auto randomUnit = [&] {
    Vec x(N);
    for (double &v : x)
      v = normal(rng);
    normalise(x);
    return x;
  };
  Vec u = randomUnit(), v(N);
  for (int it = 0; it < 10; ++it) {
    std::fill(v.begin(), v.end(), 0.0);
    for (int j = 0; j < N; ++j)
      for (int i = 0; i < N; ++i)
        v[j] += p.Wraw[i * N + j] * u[i];
    normalise(v);
    std::fill(u.begin(), u.end(), 0.0);
    for (int i = 0; i < N; ++i)
      for (int j = 0; j < N; ++j)
        u[i] += p.Wraw[i * N + j] * v[j];
    normalise(u);
  }
  double sigma = 0;
  for (int i = 0; i < N; ++i)
    for (int j = 0; j < N; ++j)
      sigma += u[i] * p.Wraw[i * N + j] * v[j];
  p.g = sigma;
  s.u = randomUnit();
  s.v = randomUnit();
}

} // namespace snnref::ide
