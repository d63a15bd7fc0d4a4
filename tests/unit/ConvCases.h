//===- ConvCases.h - convolution geometries the unit tests share --*- C++ -*-===//
//
// The geometries that RuntimeTest and ConvLoweringTest run each convolution
// through (the MNIST CNN's two, strides 1-3, paddings 0-2, non-square and
// 1x1 kernels; with AVX-512, the 15- and 4-channel ones run the weight
// gradient padded to 16 channels), and their tolerance against tests/reference (float32 GEMM
// against double accumulation): |x - r| <= 1e-4 + 1e-4 |r|.
//
//===----------------------------------------------------------------------===//
#ifndef SNNC_TESTS_UNIT_CONVCASES_H
#define SNNC_TESTS_UNIT_CONVCASES_H

#include "tests/reference/NAReference.h"

#include <cmath>
#include <string>

namespace snnc::test {

//                                   c   h   w   o  kh kw stride pad
inline const snnref::Conv kConvGeometries[] = {{1, 28, 28, 15, 5, 5, 1, 0},  // MNIST CNN conv1
                                               {15, 12, 12, 40, 5, 5, 1, 0}, // MNIST CNN conv2
                                               {2, 9, 9, 3, 3, 3, 2, 1},
                                               {3, 7, 10, 4, 3, 2, 1, 2},
                                               {2, 11, 8, 3, 5, 5, 3, 2},
                                               {4, 5, 5, 2, 1, 1, 2, 0},
                                               // 20 channels, not a multiple of 16 (AVX-512 unpadded)
                                               {20, 9, 9, 6, 3, 3, 2, 1}};

/// Elements of `got` outside the tolerance around `want`.
inline int convMismatches(const snnref::Vec &got, const snnref::Vec &want) {
  int bad = 0;
  for (size_t i = 0; i < want.size(); ++i)
    bad += !(std::fabs(got[i] - want[i]) <= 1e-4f + 1e-4f * std::fabs(want[i]));
  return bad;
}

/// "c15 12x12 o40 k5x5 s1 p0", for test traces.
inline std::string describe(const snnref::Conv &g) {
  return "c" + std::to_string(g.c) + " " + std::to_string(g.h) + "x" +
         std::to_string(g.w) + " o" + std::to_string(g.o) + " k" +
         std::to_string(g.kh) + "x" + std::to_string(g.kw) + " s" +
         std::to_string(g.stride) + " p" + std::to_string(g.pad);
}

} // namespace snnc::test

#endif
