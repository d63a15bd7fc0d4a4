//===- ConvLoweringTest.cpp - snn.conv2d_grad_input through GEMM + col2im ---===//
//
// The CUDA side of a trainer lowers the gradient through a convolution to
// one GEMM per image into the gradient of the im2col matrix
// (snnrt_conv2d_grad_cols) and a generated col2im gather loop nest
// (snn-to-runtime-calls with `#snn.target<conv_grad_input = gemm>`). The same
// lowering runs here on the CPU (oneDNN for the GEMM, the loop nest
// JIT-compiled) against the plain loops of tests/reference, for strides,
// paddings, non-square kernels and 1x1 kernels (tests/unit/ConvCases.h,
// with the tolerance).
//
//===----------------------------------------------------------------------===//
#include "tests/reference/NAReference.h"
#include "tests/unit/ConvCases.h"
#include "tests/unit/JitHarness.h"

#include <gtest/gtest.h>

#include <random>
#include <sstream>

namespace {

using snnc::test::Arg;
using snnc::test::JitModule;
using snnref::Conv;
using snnref::Vec;

std::string tensor(std::initializer_list<int> dims) {
  std::ostringstream s;
  s << "tensor<";
  for (int d : dims)
    s << d << "x";
  s << "f32>";
  return s.str();
}

void check(const Conv &g, int T, int B, const char *mode) {
  SCOPED_TRACE(std::string(mode) + ": " + snnc::test::describe(g));
  std::string d = tensor({T, B, g.o, g.oh(), g.ow()});
  std::string w = tensor({g.o, g.c, g.kh, g.kw});
  std::string r = tensor({T, B, g.c, g.h, g.w});
  std::ostringstream m;
  m << "module attributes {snn.target = #snn.target<conv_grad_input = "
    << mode << ">} {\n"
    << "func.func @g(%d: " << d << ", %w: " << w << ") -> " << r << " {\n"
    << "  %r = snn.conv2d_grad_input %d, %w {strides = array<i64: "
    << g.stride << ", " << g.stride << ">, padding = array<i64: " << g.pad
    << ", " << g.pad << ">} : " << d << ", " << w << " -> " << r << "\n"
    << "  return %r : " << r << "\n}\n}\n";
  std::string error;
  auto jit = JitModule::compile(m.str(), false, error);
  ASSERT_TRUE(jit) << error << m.str();
  int images = T * B;
  std::mt19937 rng(images * 131 + g.c * 17 + g.stride * 5 + g.pad);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  Vec delta(size_t(images) * g.o * g.oh() * g.ow()), wv(size_t(g.o) * g.c * g.kh * g.kw);
  for (float &x : delta)
    x = u(rng);
  for (float &x : wv)
    x = u(rng);
  Vec got(size_t(images) * g.c * g.h * g.w, 123.0f);
  jit->call("g",
            {Arg::buffer(delta.data(), {T, B, g.o, g.oh(), g.ow()}),
             Arg::buffer(wv.data(), {g.o, g.c, g.kh, g.kw}),
             Arg::buffer(got.data(), {T, B, g.c, g.h, g.w})},
            false);
  Vec want = snnref::conv2dGradInput(g, images, delta, wv);
  EXPECT_EQ(snnc::test::convMismatches(got, want), 0) << "of " << want.size();
}

TEST(ConvGradInputByGemm, MatchesReference) {
  for (const Conv &g : snnc::test::kConvGeometries)
    check(g, 3, 2, "gemm");
}

// The default lowering (one snnrt_conv2d_grad_input call) on the same cases.
TEST(ConvGradInputByGemm, LibraryCallMatchesReference) {
  for (const Conv &g : snnc::test::kConvGeometries)
    check(g, 3, 2, "library");
}

} // namespace
