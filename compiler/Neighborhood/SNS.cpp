//===- SNS.cpp - Simple Neighborhood Selection (NA_SPEC section 3) ---------===//
//
// Lowers snn.na_backward {selection = "sns"} to one loop nest, parallel
// over blocks of neurons, with the neurons of a block innermost so that the
// per-step work vectorizes (PerturbationKernel::emitBlockedSNS); with
// `snn.neuron_block = 1` (GPU) one neuron per iteration, the chains of a
// group of flips in registers and stopped on rejoining (emitGroupedSNS;
// one chain at a time with emitPerNeuronSNS when the group is 1):
//
//   e[t] = g[t] + ds e[t+1]           (fused eq. (7) scan, when possible)
//   E[t] = e[t] + ds E[t+1], E[T] = 0 (the tail of the exact shortcut)
//   for p: flip at p, re-simulate with the same c[t]; a neuron whose
//          trajectory rejoins gets dL_p += diff * ds * E[t+1] and is masked
//          from then on; delta[p] = dL_p * clip(1 / (theta - u[p])^3, -b, b).
//
//===----------------------------------------------------------------------===//
#include "compiler/Neighborhood/Passes.h"
#include "compiler/Neighborhood/Strategy.h"
#include "compiler/Neighborhood/Perturbation.h"

namespace mlir::snn {
#define GEN_PASS_DEF_NEIGHBORHOODSNSPASS
#include "compiler/Neighborhood/Passes.h.inc"
} // namespace mlir::snn

using namespace mlir;
using namespace mlir::snn;

LogicalResult mlir::snn::emitSNSKernel(NABackwardOp op,
                                       const SNSKernelOptions &options) {
  FailureOr<PerturbationKernel> kernel = PerturbationKernel::create(op);
  if (failed(kernel))
    return failure();
  PerturbationKernel &k = *kernel;
  int64_t group = k.chainsInRegisters() ? k.steps : k.chainGroup();
  if (k.neuronBlock() != 1)
    k.emitBlockedSNS(options.window);
  else if (group > 1)
    k.emitGroupedSNS(options.window, group);
  else
    k.emitPerNeuronSNS(options.window);
  k.finish();
  return success();
}

void mlir::snn::addStrategyDependencies(DialectRegistry &registry) {
  registry.insert<arith::ArithDialect, scf::SCFDialect, memref::MemRefDialect,
                  bufferization::BufferizationDialect>();
}

LogicalResult
mlir::snn::lowerSelection(Operation *root, StringRef name,
                          function_ref<LogicalResult(NABackwardOp)> lower) {
  SmallVector<NABackwardOp> ops;
  root->walk([&](NABackwardOp op) {
    if (op.getSelection() == name)
      ops.push_back(op);
  });
  for (NABackwardOp op : ops)
    if (failed(lower(op)))
      return failure();
  return success();
}

namespace {

struct NeighborhoodSNSPass
    : mlir::snn::impl::NeighborhoodSNSPassBase<NeighborhoodSNSPass> {
  using NeighborhoodSNSPassBase::NeighborhoodSNSPassBase;
  void runOnOperation() override {
    SNSKernelOptions options;
    options.window = window;
    if (failed(lowerSelection(getOperation(), selection, [&](NABackwardOp op) {
          return emitSNSKernel(op, options);
        })))
      signalPassFailure();
  }
};

} // namespace
