//===- AdaptiveWindow.cpp - an example neighborhood-selection plugin ------===//
//
// Windowed SNS whose window scales with the time window of each layer:
// w = max(1, ceil(fraction * T)). Lowers the snn.na_backward ops whose
// selection is "adaptive-window" with snnc's SNS kernel.
//
//   snn-opt --load-pass-plugin=libAdaptiveWindow.so \
//           --snn-neighborhood-adaptive-window="fraction=0.25" model.mlir
//   snnc --load-pass-plugin=libAdaptiveWindow.so --selection=adaptive-window \
//        --neighborhood=snn-neighborhood-adaptive-window model.onnxtxt -o trainer
//
//===----------------------------------------------------------------------===//
#include "compiler/Neighborhood/Strategy.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Tools/Plugins/PassPlugin.h"

#include <cmath>

using namespace mlir;

namespace {

struct AdaptiveWindowPass
    : PassWrapper<AdaptiveWindowPass, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(AdaptiveWindowPass)

  AdaptiveWindowPass() = default;
  AdaptiveWindowPass(const AdaptiveWindowPass &other) : PassWrapper(other) {}

  StringRef getArgument() const final {
    return "snn-neighborhood-adaptive-window";
  }
  StringRef getDescription() const final {
    return "Windowed SNS with the window a fraction of each layer's T";
  }

  void getDependentDialects(DialectRegistry &registry) const override {
    snn::addStrategyDependencies(registry);
  }

  Option<double> fraction{*this, "fraction",
                          llvm::cl::desc("window = ceil(fraction * T)"),
                          llvm::cl::init(0.25)};

  void runOnOperation() override {
    auto lower = [&](snn::NABackwardOp op) {
      int64_t steps = op.getType().getDimSize(0);
      snn::SNSKernelOptions options;
      options.window = std::max<int64_t>(
          1, static_cast<int64_t>(std::ceil(fraction * steps)));
      return snn::emitSNSKernel(op, options);
    };
    if (failed(snn::lowerSelection(getOperation(), "adaptive-window", lower)))
      signalPassFailure();
  }
};

} // namespace

extern "C" LLVM_ATTRIBUTE_WEAK PassPluginLibraryInfo mlirGetPassPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "AdaptiveWindow", "0.1",
          [] { PassRegistration<AdaptiveWindowPass>(); }};
}
