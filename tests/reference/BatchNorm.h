//===- BatchNorm.h - batch normalization written plainly ------------*- C++ -*-===//
//
// ONNX BatchNormalization on time-major activations [T, B, C, positions]
// (statistics per channel over T, B and the positions), with PyTorch's
// running-statistics convention, and its backward: float64 loops for the
// numeric tests, no code shared with the compiler.
//
//===----------------------------------------------------------------------===//
#ifndef SNNC_TESTS_REFERENCE_BATCHNORM_H
#define SNNC_TESTS_REFERENCE_BATCHNORM_H

#include <vector>

namespace snnref {

struct BatchNormShape {
  int N = 1; // T * B
  int C = 1; // channels
  int P = 1; // positions per channel (H * W; 1 for dense layers)
};

/// y = gamma (x - mean) / sqrt(var + eps) + beta. Training: the batch's
/// mean and biased variance, and the running statistics move `updates`
/// times (r := (1 - momentum) r + momentum s, unbiased variance); else the
/// running statistics normalize and stay.
void batchNormForward(const BatchNormShape &s, const std::vector<double> &x,
                      const std::vector<double> &gamma,
                      const std::vector<double> &beta,
                      std::vector<double> &runMean, std::vector<double> &runVar,
                      double eps, double momentum, int updates, bool training,
                      std::vector<double> &y);

/// The training-mode backward: dx, dgamma, dbeta from dy.
void batchNormBackward(const BatchNormShape &s, const std::vector<double> &x,
                       const std::vector<double> &gamma,
                       const std::vector<double> &dy, double eps,
                       std::vector<double> &dx, std::vector<double> &dgamma,
                       std::vector<double> &dbeta);

} // namespace snnref

#endif
