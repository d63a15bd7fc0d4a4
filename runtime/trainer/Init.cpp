//===- Init.cpp - initial values of the parameters ---------------------------===//
#include "Init.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace snnrt {

namespace {

/// Kaiming initialization (NA_SPEC section 5): normal for dense [O, I],
/// uniform for conv [O, C, KH, KW], gain sqrt(2).
std::vector<float> kaiming(const TensorDesc &t, std::mt19937_64 &rng) {
  int64_t fanIn = 1;
  for (size_t i = 1; i < t.shape.size(); ++i)
    fanIn *= t.shape[i];
  std::vector<float> w(t.numElements());
  if (t.shape.size() == 2) {
    std::normal_distribution<float> dist(0.0f, std::sqrt(2.0f / fanIn));
    for (float &x : w)
      x = dist(rng);
  } else {
    float bound = std::sqrt(6.0f / fanIn);
    std::uniform_real_distribution<float> dist(-bound, bound);
    for (float &x : w)
      x = dist(rng);
  }
  return w;
}

void normalise(double *x, int64_t n) {
  double sq = 0;
  for (int64_t i = 0; i < n; ++i)
    sq += x[i] * x[i];
  double scale = 1.0 / std::max(std::sqrt(sq), 1e-12);
  for (int64_t i = 0; i < n; ++i)
    x[i] *= scale;
}

std::vector<double> randomUnit(int64_t n, std::mt19937_64 &rng) {
  std::normal_distribution<double> dist(0.0, 1.0);
  std::vector<double> v(n);
  for (double &x : v)
    x = dist(rng);
  normalise(v.data(), n);
  return v;
}

} // namespace

std::vector<float>
initialValue(const TensorDesc &t, std::mt19937_64 &rng,
             const std::function<InitializedParam(const std::string &)> &earlier) {
  const std::string &s = t.initScheme;
  const int64_t n = t.numElements();
  const int64_t rows = t.shape.empty() ? 1 : t.shape[0];
  const int64_t cols = rows ? n / rows : 0;
  auto bad = [&](const std::string &why) -> std::runtime_error {
    return std::runtime_error("parameter '" + t.name + "': init scheme '" + s +
                              "' " + why);
  };
  if (s.empty())
    return kaiming(t, rng);
  std::vector<float> out(n);
  if (s == "unit_rows") {
    std::uniform_real_distribution<double> dist(-1.0, 1.0);
    std::vector<double> row(cols);
    for (int64_t r = 0; r < rows; ++r) {
      for (double &x : row)
        x = dist(rng);
      normalise(row.data(), cols);
      for (int64_t c = 0; c < cols; ++c)
        out[r * cols + c] = static_cast<float>(row[c]);
    }
    return out;
  }
  if (s == "unit_dim1") {
    // A transposed convolution's kernel [C_in, C_out, K, K]: uniform(-1, 1),
    // then each output channel's slice [:, o] scaled to unit L2 norm (the
    // official SNNConvTranspose, IDE_SPEC section 9).
    if (t.shape.size() < 2 || t.shape[1] < 1)
      throw bad("needs a tensor of rank >= 2");
    std::uniform_real_distribution<double> dist(-1.0, 1.0);
    std::vector<double> v(n);
    for (double &x : v)
      x = dist(rng);
    const int64_t outs = t.shape[1], inner = cols / outs;
    for (int64_t o = 0; o < outs; ++o) {
      double sq = 0;
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t k = 0; k < inner; ++k)
          sq += v[r * cols + o * inner + k] * v[r * cols + o * inner + k];
      double scale = sq > 0 ? 1.0 / std::sqrt(sq) : 0.0;
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t k = 0; k < inner; ++k)
          v[r * cols + o * inner + k] *= scale;
    }
    for (int64_t i = 0; i < n; ++i)
      out[i] = static_cast<float>(v[i]);
    return out;
  }
  if (s.rfind("uniform:", 0) == 0) {
    char *end = nullptr;
    double bound = std::strtod(s.c_str() + 8, &end);
    if (end == s.c_str() + 8 || *end || !(bound > 0) || !std::isfinite(bound))
      throw bad("needs a positive bound");
    std::uniform_real_distribution<double> dist(-bound, bound);
    for (float &x : out)
      x = static_cast<float>(dist(rng));
    return out;
  }
  if (s == "random_unit") {
    std::vector<double> v = randomUnit(n, rng);
    for (int64_t i = 0; i < n; ++i)
      out[i] = static_cast<float>(v[i]);
    return out;
  }
  if (s.rfind("spectral_norm:", 0) == 0) {
    InitializedParam w = earlier(s.substr(14));
    if (!w.desc || !w.value || w.value->empty())
      throw bad("names no parameter initialised before it");
    if (n != 1)
      throw bad("is for a one-value parameter");
    // W as [R, C] (a kernel [O, I, K, K] as [O, I*K*K], as PyTorch's
    // spectral_norm reshapes it); v := normalise(W^T u), u := normalise(W v).
    const std::vector<float> &W = *w.value;
    const int64_t R = w.desc->shape.empty() ? 1 : w.desc->shape[0];
    const int64_t C = static_cast<int64_t>(W.size()) / R;
    std::vector<double> u = randomUnit(R, rng), v = randomUnit(C, rng);
    // out = W x (rows) or W^T x (columns) of the row-major [R, C] matrix.
    auto product = [&](const std::vector<double> &x, std::vector<double> &y,
                       bool transposed) {
      std::fill(y.begin(), y.end(), 0.0);
      for (int64_t r = 0; r < R; ++r)
        for (int64_t c = 0; c < C; ++c) {
          if (transposed)
            y[c] += W[r * C + c] * x[r];
          else
            y[r] += W[r * C + c] * x[c];
        }
    };
    for (int it = 0; it < 10; ++it) {
      product(u, v, /*transposed=*/true);
      normalise(v.data(), C);
      product(v, u, /*transposed=*/false);
      normalise(u.data(), R);
    }
    double sigma = 0;
    for (int64_t r = 0; r < R; ++r)
      for (int64_t c = 0; c < C; ++c)
        sigma += u[r] * W[r * C + c] * v[c];
    out[0] = static_cast<float>(sigma);
    return out;
  }
  throw bad("is unknown (unit_rows, unit_dim1, uniform:B, random_unit, "
            "spectral_norm:W)");
}

} // namespace snnrt
