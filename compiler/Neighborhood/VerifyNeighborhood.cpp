//===- VerifyNeighborhood.cpp - nothing left for the slot to lower ---------===//
#include "compiler/Neighborhood/Passes.h"

namespace mlir::snn {
#define GEN_PASS_DEF_VERIFYNEIGHBORHOODPASS
#include "compiler/Neighborhood/Passes.h.inc"
} // namespace mlir::snn

using namespace mlir;

namespace {
struct VerifyNeighborhoodPass
    : mlir::snn::impl::VerifyNeighborhoodPassBase<VerifyNeighborhoodPass> {
  void runOnOperation() override {
    WalkResult r = getOperation().walk([](snn::NABackwardOp op) {
      op.emitOpError() << "neighborhood strategy '" << op.getSelection()
                       << "' is not in the neighborhood-selection slot: no "
                          "pass lowered this op (built in: sns; load others "
                          "with --load-pass-plugin)";
      return WalkResult::interrupt();
    });
    if (r.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace
