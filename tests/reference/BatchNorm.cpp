//===- BatchNorm.cpp - batch normalization written plainly ----------------===//
#include "BatchNorm.h"

#include <cmath>

namespace snnref {

namespace {
size_t at(const BatchNormShape &s, int n, int c, int p) {
  return (static_cast<size_t>(n) * s.C + c) * s.P + p;
}

void statistics(const BatchNormShape &s, const std::vector<double> &x, int c,
                double &mean, double &var) {
  double count = static_cast<double>(s.N) * s.P;
  mean = 0;
  for (int n = 0; n < s.N; ++n)
    for (int p = 0; p < s.P; ++p)
      mean += x[at(s, n, c, p)];
  mean /= count;
  var = 0;
  for (int n = 0; n < s.N; ++n)
    for (int p = 0; p < s.P; ++p)
      var += (x[at(s, n, c, p)] - mean) * (x[at(s, n, c, p)] - mean);
  var /= count;
}
} // namespace

void batchNormForward(const BatchNormShape &s, const std::vector<double> &x,
                      const std::vector<double> &gamma,
                      const std::vector<double> &beta,
                      std::vector<double> &runMean, std::vector<double> &runVar,
                      double eps, double momentum, int updates, bool training,
                      std::vector<double> &y) {
  y.assign(x.size(), 0.0);
  double count = static_cast<double>(s.N) * s.P;
  for (int c = 0; c < s.C; ++c) {
    double mean = runMean[c], var = runVar[c];
    if (training) {
      statistics(s, x, c, mean, var);
      for (int k = 0; k < updates; ++k) {
        runMean[c] = (1 - momentum) * runMean[c] + momentum * mean;
        runVar[c] = (1 - momentum) * runVar[c] +
                    momentum * var * count / (count > 1 ? count - 1 : 1);
      }
    }
    for (int n = 0; n < s.N; ++n)
      for (int p = 0; p < s.P; ++p)
        y[at(s, n, c, p)] =
            gamma[c] * (x[at(s, n, c, p)] - mean) / std::sqrt(var + eps) +
            beta[c];
  }
}

void batchNormBackward(const BatchNormShape &s, const std::vector<double> &x,
                       const std::vector<double> &gamma,
                       const std::vector<double> &dy, double eps,
                       std::vector<double> &dx, std::vector<double> &dgamma,
                       std::vector<double> &dbeta) {
  dx.assign(x.size(), 0.0);
  dgamma.assign(s.C, 0.0);
  dbeta.assign(s.C, 0.0);
  double count = static_cast<double>(s.N) * s.P;
  for (int c = 0; c < s.C; ++c) {
    double mean, var;
    statistics(s, x, c, mean, var);
    double inv = 1.0 / std::sqrt(var + eps);
    // y = gamma xh + beta, xh = (x - mean) inv: through xh, mean and var.
    double sumDxh = 0, sumDxhXh = 0;
    for (int n = 0; n < s.N; ++n)
      for (int p = 0; p < s.P; ++p) {
        size_t k = at(s, n, c, p);
        double xh = (x[k] - mean) * inv;
        dgamma[c] += dy[k] * xh;
        dbeta[c] += dy[k];
        sumDxh += dy[k] * gamma[c];
        sumDxhXh += dy[k] * gamma[c] * xh;
      }
    for (int n = 0; n < s.N; ++n)
      for (int p = 0; p < s.P; ++p) {
        size_t k = at(s, n, c, p);
        double xh = (x[k] - mean) * inv;
        dx[k] = inv * (dy[k] * gamma[c] - sumDxh / count -
                       xh * sumDxhXh / count);
      }
  }
}

} // namespace snnref
