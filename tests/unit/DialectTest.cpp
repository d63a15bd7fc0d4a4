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

TEST_F(SNNDialectTest, BuiltNeuronVerifiesAndRejectsBadTau) {
  OpBuilder b(&ctx);
  auto loc = b.getUnknownLoc();
  auto module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(module.getBody());
  auto t = tensor({5, 2, 3});
  auto fn = func::FuncOp::create(b, loc, "f", b.getFunctionType({t}, {t}));
  b.setInsertionPointToEnd(fn.addEntryBlock());
  auto lif = snn::NeuronOp::create(
      b, loc, t, t, fn.getArgument(0),
      snn::NeuronAttr::getLIF(&ctx, 5.0f, 1.0f));
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
  // tau_m = 1 is a memoryless neuron (leak 0); below 1 is refused.
  EXPECT_EQ(snn::NeuronAttr::getLIF(&ctx, 1.0f, 1.0f).getLeak(), 0.0f);
  auto bad = snn::NeuronAttr::getChecked(
      [&] { return emitError(loc); }, &ctx, snn::NeuronKind::lif,
      llvm::APFloat(0.5f), llvm::APFloat(1.0f), snn::ResetKind::zero);
  EXPECT_FALSE(bad);
  EXPECT_NE(message.find("'tau_m' must be finite and >= 1"), std::string::npos)
      << message;
  // IF has no leak.
  auto integrate = snn::NeuronAttr::get(&ctx, snn::NeuronKind::integrate, 7.0f,
                                        1.0f, snn::ResetKind::subtract);
  EXPECT_EQ(integrate.getLeak(), 1.0f);
  EXPECT_EQ(integrate.getTauM().convertToFloat(), 0.0f);
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
      %d = snn.na_backward %e, %u, %u, %s {neuron = #snn.neuron<lif>} : tensor<5x2x3xf32>
      return %d : tensor<5x2x3xf32>
    })mlir",
                                            &ctx);
  ASSERT_TRUE(module);
  snn::NABackwardOp na;
  module->walk([&](snn::NABackwardOp op) { na = op; });
  ASSERT_TRUE(na);
  // #snn.neuron's omitted parameters take their defaults.
  EXPECT_EQ(na.getNeuron(), snn::NeuronAttr::getLIF(&ctx, 5.0f, 1.0f));
  EXPECT_EQ(na.getSelection(), "sns");
  EXPECT_FLOAT_EQ(na.getClip().convertToFloat(), 10.0f);
  EXPECT_FLOAT_EQ(na.getTauS().convertToFloat(), 2.0f);
}

} // namespace
