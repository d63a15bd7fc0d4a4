//===- Strategy.h - the API neighborhood-selection strategies build on -*- C++ -*-===//
//
// A neighborhood-selection strategy is a pass in the training pipeline's
// neighborhood slot. It consumes the `snn.na_backward` ops whose `selection`
// attribute names it and replaces each with code that computes `delta`
// (dL/dc, a tensor of the op's type). See docs/neighborhood-selection.md.
// Strategies in pass plugins include this header and call back into snnc.
//
//===----------------------------------------------------------------------===//
#ifndef SNNC_COMPILER_NEIGHBORHOOD_STRATEGY_H
#define SNNC_COMPILER_NEIGHBORHOOD_STRATEGY_H

#include "dialects/SNN/IR/SNNOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Support/LLVM.h"

namespace mlir::snn {

struct SNSKernelOptions {
  /// Follow the chain effect for at most this many steps after the flip
  /// (0: to the end of the window).
  int64_t window = 0;
};

/// Replaces `op` by the fused per-neuron SNS loop nest of NA_SPEC section 3
/// (the eq. (7) scan fused in when its producer allows).
LogicalResult emitSNSKernel(NABackwardOp op, const SNSKernelOptions &options);

/// The dialects that the kernels above create: a strategy pass adds them in
/// its getDependentDialects.
void addStrategyDependencies(DialectRegistry &registry);

/// Calls `lower` on every `snn.na_backward` under `root` whose selection is
/// `name`; fails when one of them does.
LogicalResult lowerSelection(Operation *root, StringRef name,
                             function_ref<LogicalResult(NABackwardOp)> lower);

} // namespace mlir::snn

#endif
