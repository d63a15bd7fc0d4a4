//===- SetTarget.cpp - the module's #snn.target -----------------------------===//
#include "compiler/Conversion/Passes.h"

namespace mlir::snn {
#define GEN_PASS_DEF_SETTARGETPASS
#include "compiler/Conversion/Passes.h.inc"
} // namespace mlir::snn

using namespace mlir;
using namespace mlir::snn;

namespace {
struct SetTargetPass : mlir::snn::impl::SetTargetPassBase<SetTargetPass> {
  using SetTargetPassBase::SetTargetPassBase;
  void runOnOperation() override {
    std::optional<ConvGradInput> mode = symbolizeConvGradInput(convGradInput);
    if (!mode) {
      getOperation().emitError() << "snn-set-target: conv-grad-input must be "
                                    "library or gemm, not '"
                                 << convGradInput << "'";
      return signalPassFailure();
    }
    auto target = TargetAttr::getChecked(
        [&] { return getOperation().emitError(); }, &getContext(),
        int64_t(neuronBlock), int64_t(chainGroup), int64_t(maxRegisterSteps),
        *mode);
    if (!target)
      return signalPassFailure();
    getOperation()->setAttr("snn.target", target);
  }
};
} // namespace
