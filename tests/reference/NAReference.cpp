//===- NAReference.cpp - NA_SPEC.md written plainly -------------------------===//
#include "tests/reference/NAReference.h"

#include <algorithm>
#include <cmath>
#include <functional>

namespace snnref {

Vec encodeCurrent(float tauS, int T, int n, const Vec &x) {
  Vec a(static_cast<size_t>(T) * n);
  float decay = 1.0f - 1.0f / tauS, inv = 1.0f / tauS;
  for (int i = 0; i < n; ++i) {
    float prev = 0.0f;
    for (int t = 0; t < T; ++t) {
      prev = decay * prev + x[i] * inv;
      a[t * n + i] = prev;
    }
  }
  return a;
}

Vec psc(float tauS, int T, int n, const Vec &s) {
  Vec a(s.size());
  float decay = 1.0f - 1.0f / tauS, inv = 1.0f / tauS;
  for (int i = 0; i < n; ++i) {
    float prev = 0.0f;
    for (int t = 0; t < T; ++t) {
      prev = decay * prev + s[t * n + i] * inv;
      a[t * n + i] = prev;
    }
  }
  return a;
}

namespace {
/// Section 8: u[t] = k r[t-1] + c[t], k = 1 - 1/tau_m (LIF) or 1 (IF).
float charge(const Neuron &p, float r, float c) {
  if (p.integrate)
    return r + c;
  float decay = 1.0f - 1.0f / p.tauM;
  return decay * r + c;
}
/// Section 8: r[t] = u (1 - s) (zero) or u - theta s (subtraction).
float carried(const Neuron &p, float u, bool spike) {
  if (!spike)
    return u;
  return p.subtract ? u - p.theta : 0.0f;
}
} // namespace

void lif(const Neuron &p, int T, int n, const Vec &c, Vec &u, Vec &s) {
  u.assign(c.size(), 0.0f);
  s.assign(c.size(), 0.0f);
  for (int i = 0; i < n; ++i) {
    float r = 0.0f;
    for (int t = 0; t < T; ++t) {
      float ut = charge(p, r, c[t * n + i]);
      float st = ut >= p.theta ? 1.0f : 0.0f;
      u[t * n + i] = ut;
      s[t * n + i] = st;
      r = carried(p, ut, st > 0.0f);
    }
  }
}

Vec errorScan(float tauS, int T, int n, const Vec &g) {
  Vec e(g.size());
  float decay = 1.0f - 1.0f / tauS;
  for (int i = 0; i < n; ++i) {
    e[(T - 1) * n + i] = g[(T - 1) * n + i];
    for (int t = T - 2; t >= 0; --t)
      e[t * n + i] = g[t * n + i] + decay * e[(t + 1) * n + i];
  }
  return e;
}

namespace {
/// Sections 3 and 8, steps 1-2, for neuron i: the original PSC trajectory
/// `a` and, for every flip at q, `perturbed(q, ap)` with the PSC trajectory
/// a' of the flipped spike train (ap[t] for t >= q), the chain effect
/// re-simulated on the same input for `window` steps after q (0: to T).
void forEachFlip(const Neuron &p, int T, int n, int i, const Vec &c,
                 const Vec &s, int window, std::vector<float> &a,
                 const std::function<void(int, const std::vector<float> &)>
                     &perturbed) {
  float ds = 1.0f - 1.0f / p.tauS, inv = 1.0f / p.tauS;
  std::vector<float> sp(T), ap(T);
  a.assign(T, 0.0f);
  float prev = 0.0f;
  for (int t = 0; t < T; ++t) {
    prev = ds * prev + s[t * n + i] * inv;
    a[t] = prev;
  }
  for (int q = 0; q < T; ++q) {
    // Step 1: flip the firing status at q with the least perturbation
    // (section 8: the same carried potential for both reset rules).
    bool spiked = s[q * n + i] > 0.5f;
    for (int t = 0; t < T; ++t)
      sp[t] = s[t * n + i];
    sp[q] = spiked ? 0.0f : 1.0f;
    float r = spiked ? p.theta : 0.0f;
    // Step 2: re-run the recurrence for t > q on the same input.
    for (int t = q + 1; t < T; ++t) {
      if (window > 0 && t > q + window)
        break; // past the window: the original spikes (sp[t] = s[t])
      float ut = charge(p, r, c[t * n + i]);
      sp[t] = ut >= p.theta ? 1.0f : 0.0f;
      r = carried(p, ut, sp[t] > 0.0f);
    }
    float aprev = q > 0 ? a[q - 1] : 0.0f;
    for (int t = q; t < T; ++t) {
      aprev = ds * aprev + sp[t] * inv;
      ap[t] = aprev;
    }
    perturbed(q, ap);
  }
}
} // namespace

Vec naBackwardSNS(const Neuron &p, int T, int n, const Vec &e, const Vec &c,
                  const Vec &u, const Vec &s, int window) {
  Vec delta(e.size());
  std::vector<float> a;
  for (int i = 0; i < n; ++i)
    forEachFlip(p, T, n, i, c, s, window, a,
                [&](int q, const std::vector<float> &ap) {
                  // Steps 3-5: eq. (13) and the scaling of eq. (17).
                  float dL = 0.0f;
                  for (int t = q; t < T; ++t)
                    dL += e[t * n + i] * (ap[t] - a[t]);
                  float d = p.theta - u[q * n + i];
                  float scale =
                      std::min(std::max(1.0f / (d * d * d), -p.clip), p.clip);
                  delta[q * n + i] = dL * scale;
                });
  return delta;
}

Vec naBackwardNormalizedSNS(const Neuron &p, int T, int n, const Vec &g,
                            const Vec &c, const Vec &u, const Vec &s) {
  Vec delta(g.size());
  std::vector<float> a;
  for (int i = 0; i < n; ++i)
    forEachFlip(p, T, n, i, c, s, 0, a,
                [&](int q, const std::vector<float> &ap) {
                  // Section 9: g . da / |da| / (|theta - u| + 1), signed.
                  double gd = 0.0, dd = 0.0;
                  for (int t = q; t < T; ++t) {
                    double da = static_cast<double>(ap[t]) - a[t];
                    gd += g[t * n + i] * da;
                    dd += da * da;
                  }
                  double d = p.theta - u[q * n + i];
                  double sign = d > 0 ? 1.0 : d < 0 ? -1.0 : 0.0;
                  delta[q * n + i] = static_cast<float>(
                      sign * gd / std::sqrt(dd) / (std::fabs(d) + 1.0));
                });
  return delta;
}

namespace {
/// Flips the firing status at the steps in `flips` (on the trajectory
/// perturbed by the earlier flips), re-simulates everything else with the
/// same input, and returns e . (a' - a) and eps (eps[t] = theta - u'[t] at
/// a flipped step, 0 elsewhere: Algorithm 2).
float perturb(const Neuron &p, int T, int n, int i, const Vec &e, const Vec &c,
              const Vec &s, const std::vector<int> &flips,
              std::vector<double> &eps) {
  float ds = 1.0f - 1.0f / p.tauS;
  float inv = 1.0f / p.tauS;
  eps.assign(T, 0.0);
  float r = 0.0f, a = 0.0f, ap = 0.0f, dL = 0.0f;
  for (int t = 0; t < T; ++t) {
    float ut = charge(p, r, c[t * n + i]);
    bool fires = ut >= p.theta;
    float st;
    if (std::find(flips.begin(), flips.end(), t) != flips.end()) {
      eps[t] = p.theta - ut;
      st = fires ? 0.0f : 1.0f;   // the least perturbation flips the status
      r = fires ? p.theta : 0.0f; // just below threshold, or fired
    } else {
      st = fires ? 1.0f : 0.0f;
      r = carried(p, ut, fires);
    }
    a = ds * a + s[t * n + i] * inv;
    ap = ds * ap + st * inv;
    dL += e[t * n + i] * (ap - a);
  }
  return dL;
}
} // namespace

Vec naBackwardPairs(const Neuron &p, int T, int n, const Vec &e, const Vec &c,
                    const Vec &u, const Vec &s) {
  (void)u;
  Vec grad(e.size());
  for (int i = 0; i < n; ++i) {
    std::vector<std::vector<double>> rows;
    std::vector<double> f;
    std::vector<double> eps;
    for (int q = 0; q < T; ++q) {
      double dL = perturb(p, T, n, i, e, c, s, {q}, eps);
      double norm = std::fabs(eps[q]);
      double scale = std::min<double>(
          std::max<double>(1.0 / (norm * norm * norm), -p.clip), p.clip);
      std::vector<double> o(T, 0.0);
      o[q] = eps[q] < 0 ? -1.0 : 1.0; // |eps| = 0: o = e_q, like SNS
      rows.push_back(o);
      f.push_back(dL * scale);
    }
    for (int q = 0; q + 1 < T; ++q) {
      double dL = perturb(p, T, n, i, e, c, s, {q, q + 1}, eps);
      double norm = std::sqrt(eps[q] * eps[q] + eps[q + 1] * eps[q + 1]);
      if (norm == 0.0)
        continue;
      double scale = std::min<double>(
          std::max<double>(1.0 / (norm * norm * norm), -p.clip), p.clip);
      std::vector<double> o(T, 0.0);
      o[q] = eps[q] / norm;
      o[q + 1] = eps[q + 1] / norm;
      rows.push_back(o);
      f.push_back(dL * scale);
    }
    // Normal equations A x = y, A = O^T O, y = O^T f; Gaussian elimination
    // with partial pivoting.
    std::vector<std::vector<double>> A(T, std::vector<double>(T + 1, 0.0));
    for (size_t k = 0; k < rows.size(); ++k)
      for (int a = 0; a < T; ++a) {
        for (int bcol = 0; bcol < T; ++bcol)
          A[a][bcol] += rows[k][a] * rows[k][bcol];
        A[a][T] += rows[k][a] * f[k];
      }
    for (int col = 0; col < T; ++col) {
      int pivot = col;
      for (int r = col + 1; r < T; ++r)
        if (std::fabs(A[r][col]) > std::fabs(A[pivot][col]))
          pivot = r;
      std::swap(A[col], A[pivot]);
      for (int r = 0; r < T; ++r) {
        if (r == col)
          continue;
        double m = A[r][col] / A[col][col];
        for (int k = col; k <= T; ++k)
          A[r][k] -= m * A[col][k];
      }
    }
    for (int t = 0; t < T; ++t)
      grad[t * n + i] = static_cast<float>(A[t][T] / A[t][t]);
  }
  return grad;
}

Vec stbpBackward(const Neuron &p, const Surrogate &h, int T, int n,
                 const Vec &g, const Vec &u, const Vec &s) {
  Vec e = errorScan(p.tauS, T, n, g), delta(g.size());
  float k = p.integrate ? 1.0f : 1.0f - 1.0f / p.tauM;
  for (int i = 0; i < n; ++i) {
    float dr = 0.0f; // dL/dr[t]: r[t] feeds u[t+1] = k r[t] + c[t+1]
    for (int t = T - 1; t >= 0; --t) {
      float ut = u[t * n + i], st = s[t * n + i];
      // a = ds a + s / tau_s; r = R(u, s):
      //   zero:        R = u (1 - s),     dR/du = 1 - s, dR/ds = -u
      //   subtraction: R = u - theta s,   dR/du = 1,     dR/ds = -theta
      float dRdu = p.subtract ? 1.0f : 1.0f - st;
      float dRds = p.subtract ? -p.theta : -ut;
      float dS = e[t * n + i] * (1.0f / p.tauS);
      if (!h.detachReset)
        dS = dS + dr * dRds;
      float x = ut - p.theta, hu;
      if (h.sigmoid) {
        double sig = 1.0 / (1.0 + std::exp(-static_cast<double>(x) / h.temperature));
        hu = static_cast<float>(h.scale * sig * (1.0 - sig) / h.temperature);
      } else {
        hu = std::fabs(x) < h.width / 2 ? 1.0f / h.width : 0.0f;
      }
      float du = dS * hu + dr * dRdu;
      delta[t * n + i] = du;
      dr = k * du;
    }
  }
  return delta;
}

void addBias(int rows, int channels, int positions, Vec &c, const Vec &bias) {
  for (int m = 0; m < rows; ++m)
    for (int o = 0; o < channels; ++o)
      for (int q = 0; q < positions; ++q)
        c[(static_cast<size_t>(m) * channels + o) * positions + q] += bias[o];
}

Vec biasGrad(int rows, int channels, int positions, const Vec &delta) {
  Vec db(channels);
  for (int o = 0; o < channels; ++o) {
    double acc = 0.0;
    for (int m = 0; m < rows; ++m)
      for (int q = 0; q < positions; ++q)
        acc += delta[(static_cast<size_t>(m) * channels + o) * positions + q];
    db[o] = static_cast<float>(acc);
  }
  return db;
}

Vec dense(int rows, int in, int out, const Vec &a, const Vec &w) {
  Vec c(static_cast<size_t>(rows) * out);
  for (int m = 0; m < rows; ++m)
    for (int o = 0; o < out; ++o) {
      double acc = 0.0;
      for (int i = 0; i < in; ++i)
        acc += static_cast<double>(w[o * in + i]) * a[m * in + i];
      c[m * out + o] = static_cast<float>(acc);
    }
  return c;
}

Vec denseGradInput(int rows, int in, int out, const Vec &delta, const Vec &w) {
  Vec g(static_cast<size_t>(rows) * in);
  for (int m = 0; m < rows; ++m)
    for (int i = 0; i < in; ++i) {
      double acc = 0.0;
      for (int o = 0; o < out; ++o)
        acc += static_cast<double>(w[o * in + i]) * delta[m * out + o];
      g[m * in + i] = static_cast<float>(acc);
    }
  return g;
}

Vec denseGradWeight(int rows, int in, int out, const Vec &a, const Vec &delta) {
  Vec dw(static_cast<size_t>(out) * in);
  for (int o = 0; o < out; ++o)
    for (int i = 0; i < in; ++i) {
      double acc = 0.0;
      for (int m = 0; m < rows; ++m)
        acc += static_cast<double>(a[m * in + i]) * delta[m * out + o];
      dw[o * in + i] = static_cast<float>(acc);
    }
  return dw;
}

Vec conv2d(const Conv &g, int images, const Vec &in, const Vec &w) {
  Vec out(static_cast<size_t>(images) * g.o * g.oh() * g.ow());
  for (int n = 0; n < images; ++n)
    for (int o = 0; o < g.o; ++o)
      for (int y = 0; y < g.oh(); ++y)
        for (int x = 0; x < g.ow(); ++x) {
          double acc = 0.0;
          for (int c = 0; c < g.c; ++c)
            for (int ky = 0; ky < g.kh; ++ky)
              for (int kx = 0; kx < g.kw; ++kx) {
                int iy = y * g.stride + ky - g.pad, ix = x * g.stride + kx - g.pad;
                if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w)
                  continue;
                acc += static_cast<double>(w[((o * g.c + c) * g.kh + ky) * g.kw + kx]) *
                       in[((n * g.c + c) * g.h + iy) * g.w + ix];
              }
          out[((n * g.o + o) * g.oh() + y) * g.ow() + x] = static_cast<float>(acc);
        }
  return out;
}

Vec conv2dGradInput(const Conv &g, int images, const Vec &delta, const Vec &w) {
  std::vector<double> acc(static_cast<size_t>(images) * g.c * g.h * g.w, 0.0);
  for (int n = 0; n < images; ++n)
    for (int o = 0; o < g.o; ++o)
      for (int y = 0; y < g.oh(); ++y)
        for (int x = 0; x < g.ow(); ++x)
          for (int c = 0; c < g.c; ++c)
            for (int ky = 0; ky < g.kh; ++ky)
              for (int kx = 0; kx < g.kw; ++kx) {
                int iy = y * g.stride + ky - g.pad, ix = x * g.stride + kx - g.pad;
                if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w)
                  continue;
                acc[((n * g.c + c) * g.h + iy) * g.w + ix] +=
                    static_cast<double>(w[((o * g.c + c) * g.kh + ky) * g.kw + kx]) *
                    delta[((n * g.o + o) * g.oh() + y) * g.ow() + x];
              }
  return Vec(acc.begin(), acc.end());
}

Vec conv2dGradWeight(const Conv &g, int images, const Vec &in, const Vec &delta) {
  std::vector<double> acc(static_cast<size_t>(g.o) * g.c * g.kh * g.kw, 0.0);
  for (int n = 0; n < images; ++n)
    for (int o = 0; o < g.o; ++o)
      for (int y = 0; y < g.oh(); ++y)
        for (int x = 0; x < g.ow(); ++x)
          for (int c = 0; c < g.c; ++c)
            for (int ky = 0; ky < g.kh; ++ky)
              for (int kx = 0; kx < g.kw; ++kx) {
                int iy = y * g.stride + ky - g.pad, ix = x * g.stride + kx - g.pad;
                if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w)
                  continue;
                acc[((o * g.c + c) * g.kh + ky) * g.kw + kx] +=
                    static_cast<double>(in[((n * g.c + c) * g.h + iy) * g.w + ix]) *
                    delta[((n * g.o + o) * g.oh() + y) * g.ow() + x];
              }
  return Vec(acc.begin(), acc.end());
}

Vec sumPool(int images, int c, int h, int w, int k, float scale, const Vec &in) {
  int oh = h / k, ow = w / k;
  Vec out(static_cast<size_t>(images) * c * oh * ow);
  for (int n = 0; n < images * c; ++n)
    for (int y = 0; y < oh; ++y)
      for (int x = 0; x < ow; ++x) {
        float sum = 0.0f;
        for (int ky = 0; ky < k; ++ky)
          for (int kx = 0; kx < k; ++kx)
            sum += in[(n * h + y * k + ky) * w + x * k + kx];
        out[(n * oh + y) * ow + x] = sum * scale;
      }
  return out;
}

Vec sumPoolGrad(int images, int c, int h, int w, int k, float scale,
                const Vec &g) {
  int oh = h / k, ow = w / k;
  Vec out(static_cast<size_t>(images) * c * h * w, 0.0f);
  for (int n = 0; n < images * c; ++n)
    for (int y = 0; y < oh * k; ++y)
      for (int x = 0; x < ow * k; ++x)
        out[(n * h + y) * w + x] = g[(n * oh + y / k) * ow + x / k] * scale;
  return out;
}

Vec targetSpikes(int T, int batch, int classes, const std::vector<int32_t> &l) {
  Vec d(static_cast<size_t>(T) * batch * classes, 0.0f);
  for (int t = 0; t < T; ++t)
    for (int b = 0; b < batch; ++b)
      if (l[b] >= 0 && l[b] < classes)
        d[(t * batch + b) * classes + l[b]] = 1.0f;
  return d;
}

float vanRossum(float tauS, int T, int n, const Vec &a, const Vec &d, Vec &g) {
  Vec sd = psc(tauS, T, n, d);
  g.resize(a.size());
  double loss = 0.0;
  for (size_t k = 0; k < a.size(); ++k) {
    g[k] = a[k] - sd[k];
    loss += 0.5 * static_cast<double>(g[k]) * g[k];
  }
  return static_cast<float>(loss);
}

void adamw(const AdamW &o, int64_t step, float lr, Vec &p, const Vec &g, Vec &m,
           Vec &v) {
  double bc1 = 1.0 - std::pow(static_cast<double>(o.beta1), step);
  double bc2 = 1.0 - std::pow(static_cast<double>(o.beta2), step);
  for (size_t k = 0; k < p.size(); ++k) {
    p[k] *= 1.0f - lr * o.weightDecay;
    m[k] = o.beta1 * m[k] + (1.0f - o.beta1) * g[k];
    v[k] = o.beta2 * v[k] + (1.0f - o.beta2) * g[k] * g[k];
    double denom = std::sqrt(static_cast<double>(v[k])) / std::sqrt(bc2) + o.eps;
    p[k] -= static_cast<float>(lr / bc1 * (m[k] / denom));
  }
}

void update(const AdamW &o, int64_t step, float lr, Vec &p, const Vec &g,
            Vec &m, Vec &v) {
  if (o.kind == AdamW::AdamWKind)
    return adamw(o, step, lr, p, g, m, v);
  if (o.kind == AdamW::AdamKind) {
    // torch.optim.Adam: L2 decay added to the gradient, no decoupled decay.
    Vec gl(g.size());
    for (size_t k = 0; k < g.size(); ++k)
      gl[k] = g[k] + o.weightDecay * p[k];
    AdamW plain = o;
    plain.weightDecay = 0.0f;
    return adamw(plain, step, lr, p, gl, m, v);
  }
  // torch.optim.SGD, dampening 0: buf = mu buf + g (buf = g at step 1).
  for (size_t k = 0; k < p.size(); ++k) {
    float gk = g[k] + o.weightDecay * p[k];
    float d = gk;
    if (o.momentum != 0.0f) {
      m[k] = step == 1 ? gk : o.momentum * m[k] + gk;
      d = o.nesterov ? gk + o.momentum * m[k] : m[k];
    }
    p[k] = p[k] - lr * d;
  }
}

float MLPStep::run(std::vector<Vec> &w, std::vector<Vec> &m,
                   std::vector<Vec> &v, int64_t step, float lr, const Vec &x,
                   const std::vector<int32_t> &labels, Vec &outSpikes,
                   std::vector<Vec> *potentials) const {
  size_t layers = sizes.size() - 1;
  int rows = T * batch;
  // Parameters: W per layer, or W, b per layer with biases.
  size_t per = biases ? 2 : 1;
  std::vector<Vec> acts{encodeCurrent(neuron.tauS, T, batch * sizes[0], x)};
  std::vector<Vec> cs, us, ss;
  for (size_t l = 0; l < layers; ++l) {
    cs.push_back(dense(rows, sizes[l], sizes[l + 1], acts.back(), w[per * l]));
    if (biases)
      addBias(rows, sizes[l + 1], 1, cs.back(), w[per * l + 1]);
    Vec u, s;
    lif(neuron, T, batch * sizes[l + 1], cs.back(), u, s);
    acts.push_back(psc(neuron.tauS, T, batch * sizes[l + 1], s));
    us.push_back(u);
    ss.push_back(s);
  }
  int classes = sizes.back();
  Vec g;
  float loss = vanRossum(neuron.tauS, T, batch * classes, acts.back(),
                         targetSpikes(T, batch, classes, labels), g);
  std::vector<Vec> grads(per * layers);
  for (size_t l = layers; l-- > 0;) {
    int n = batch * sizes[l + 1];
    Vec e = errorScan(neuron.tauS, T, n, g);
    Vec delta = naBackwardSNS(neuron, T, n, e, cs[l], us[l], ss[l]);
    grads[per * l] =
        denseGradWeight(rows, sizes[l], sizes[l + 1], acts[l], delta);
    if (biases)
      grads[per * l + 1] = biasGrad(rows, sizes[l + 1], 1, delta);
    if (l > 0)
      g = denseGradInput(rows, sizes[l], sizes[l + 1], delta, w[per * l]);
  }
  for (size_t k = 0; k < grads.size(); ++k)
    update(opt, step, lr, w[k], grads[k], m[k], v[k]);
  outSpikes = ss.back();
  if (potentials)
    *potentials = us;
  return loss;
}

float CNNStep::run(std::vector<Vec> &w, std::vector<Vec> &m,
                   std::vector<Vec> &v, int64_t step, float lr, const Vec &x,
                   const std::vector<int32_t> &labels, Vec &outSpikes,
                   std::vector<Vec> *potentials) const {
  int images = T * batch;
  int inSize = conv.c * conv.h * conv.w;
  int convN = batch * conv.o * conv.oh() * conv.ow();
  int ph = conv.oh() / 2, pw = conv.ow() / 2;
  int features = conv.o * ph * pw;
  Vec a0 = encodeCurrent(neuron.tauS, T, batch * inSize, x);
  size_t wc = 0, bc = 1, wd = biases ? 2 : 1, bd = 3;
  Vec c1 = conv2d(conv, images, a0, w[wc]);
  int positions = conv.oh() * conv.ow();
  if (biases)
    addBias(images, conv.o, positions, c1, w[bc]);
  Vec u1, s1;
  lif(neuron, T, convN, c1, u1, s1);
  Vec a1 = psc(neuron.tauS, T, convN, s1);
  Vec p1 = sumPool(images, conv.o, conv.oh(), conv.ow(), 2, 1.1f, a1);
  Vec c2 = dense(images, features, classes, p1, w[wd]);
  if (biases)
    addBias(images, classes, 1, c2, w[bd]);
  Vec u2, s2;
  lif(neuron, T, batch * classes, c2, u2, s2);
  Vec a2 = psc(neuron.tauS, T, batch * classes, s2);
  Vec g;
  float loss = vanRossum(neuron.tauS, T, batch * classes, a2,
                         targetSpikes(T, batch, classes, labels), g);
  Vec e2 = errorScan(neuron.tauS, T, batch * classes, g);
  Vec d2 = naBackwardSNS(neuron, T, batch * classes, e2, c2, u2, s2);
  Vec dw2 = denseGradWeight(images, features, classes, p1, d2);
  Vec gp = denseGradInput(images, features, classes, d2, w[wd]);
  Vec g1 = sumPoolGrad(images, conv.o, conv.oh(), conv.ow(), 2, 1.1f, gp);
  Vec e1 = errorScan(neuron.tauS, T, convN, g1);
  Vec d1 = naBackwardSNS(neuron, T, convN, e1, c1, u1, s1);
  Vec dw1 = conv2dGradWeight(conv, images, a0, d1);
  adamw(opt, step, lr, w[wc], dw1, m[wc], v[wc]);
  adamw(opt, step, lr, w[wd], dw2, m[wd], v[wd]);
  if (biases) {
    Vec db1 = biasGrad(images, conv.o, positions, d1);
    Vec db2 = biasGrad(images, classes, 1, d2);
    adamw(opt, step, lr, w[bc], db1, m[bc], v[bc]);
    adamw(opt, step, lr, w[bd], db2, m[bd], v[bd]);
  }
  outSpikes = s2;
  if (potentials)
    *potentials = {u1, u2};
  return loss;
}

} // namespace snnref
