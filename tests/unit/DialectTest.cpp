//===- DialectTest.cpp - snn dialect API tests ------------------------------===//
#include "dialects/SNN/IR/SNNOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

using namespace mlir;

namespace {

class SNNDialectTest : public ::testing::Test {
protected:
  SNNDialectTest() {
    ctx.loadDialect<snn::SNNDialect, func::FuncDialect>();
  }
  RankedTensorType tensor(ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, Float32Type::get(&ctx));
  }
  MLIRContext ctx;
};

TEST_F(SNNDialectTest, ConvOutputSize) {
  EXPECT_EQ(snn::convOutputSize(28, 5, 1, 0), 24);
  EXPECT_EQ(snn::convOutputSize(32, 3, 1, 1), 32);
  EXPECT_EQ(snn::convOutputSize(28, 5, 2, 2), 14);
  EXPECT_EQ(snn::convOutputSize(ShapedType::kDynamic, 5, 1, 0),
            ShapedType::kDynamic);
}

TEST_F(SNNDialectTest, BuiltLIFVerifiesAndRejectsBadTau) {
  OpBuilder b(&ctx);
  auto loc = b.getUnknownLoc();
  auto module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(module.getBody());
  auto t = tensor({5, 2, 3});
  auto fn = func::FuncOp::create(b, loc, "f", b.getFunctionType({t}, {t}));
  b.setInsertionPointToEnd(fn.addEntryBlock());
  auto lif = snn::LIFOp::create(b, loc, t, t, fn.getArgument(0),
                                b.getF32FloatAttr(5.0f),
                                b.getF32FloatAttr(1.0f));
  func::ReturnOp::create(b, loc, lif.getSpikes());
  EXPECT_TRUE(succeeded(verify(module)));

  // The interface sees the time axis; LIF runs forward in time.
  auto rec = cast<snn::TimeRecurrentOp>(lif.getOperation());
  EXPECT_EQ(rec.getNumTimeSteps(), 5);
  EXPECT_FALSE(rec.isReverseInTime());

  std::string message;
  ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &d) {
    message = d.str();
    return success();
  });
  lif.setTauMAttr(b.getF32FloatAttr(1.0f));
  EXPECT_TRUE(failed(verify(module)));
  EXPECT_NE(message.find("'tau_m' must be > 1"), std::string::npos) << message;
  module->destroy();
}

TEST_F(SNNDialectTest, ErrorScanRunsBackwardInTime) {
  auto module = parseSourceString<ModuleOp>(R"mlir(
    func.func @f(%g: tensor<7x2x3xf32>) -> tensor<7x2x3xf32> {
      %e = snn.psc_error_scan %g {tau_s = 3.0 : f32} : tensor<7x2x3xf32>
      return %e : tensor<7x2x3xf32>
    })mlir",
                                            &ctx);
  ASSERT_TRUE(module);
  snn::PSCErrorScanOp scan;
  module->walk([&](snn::PSCErrorScanOp op) { scan = op; });
  ASSERT_TRUE(scan);
  auto rec = cast<snn::TimeRecurrentOp>(scan.getOperation());
  EXPECT_TRUE(rec.isReverseInTime());
  EXPECT_EQ(rec.getNumTimeSteps(), 7);
}

TEST_F(SNNDialectTest, NABackwardDefaultsToSNS) {
  auto module = parseSourceString<ModuleOp>(R"mlir(
    func.func @f(%e: tensor<5x2x3xf32>, %u: tensor<5x2x3xf32>, %s: tensor<5x2x3xf32>) -> tensor<5x2x3xf32> {
      %d = snn.na_backward %e, %u, %u, %s : tensor<5x2x3xf32>
      return %d : tensor<5x2x3xf32>
    })mlir",
                                            &ctx);
  ASSERT_TRUE(module);
  snn::NABackwardOp na;
  module->walk([&](snn::NABackwardOp op) { na = op; });
  ASSERT_TRUE(na);
  EXPECT_EQ(na.getSelection(), "sns");
  EXPECT_FLOAT_EQ(na.getClip().convertToFloat(), 10.0f);
  EXPECT_FLOAT_EQ(na.getTauM().convertToFloat(), 5.0f);
  EXPECT_FLOAT_EQ(na.getTauS().convertToFloat(), 2.0f);
  EXPECT_FLOAT_EQ(na.getThreshold().convertToFloat(), 1.0f);
}

} // namespace
