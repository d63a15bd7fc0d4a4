//===- SNS.cpp - Simple Neighborhood Selection (NA_SPEC section 3) ---------===//
//
// Lowers snn.na_backward {selection = "sns"} to one loop nest per neuron,
// parallel over neurons (scf.parallel over N = B * features):
//
//   e[t] = g[t] + ds e[t+1]           (fused eq. (7) scan, when possible)
//   E[t] = e[t] + ds E[t+1], E[T] = 0 (the tail of the exact shortcut)
//   for p: flip at p, re-simulate with the same c[t] while not rejoined,
//          dL_p = sum e[t] (a'[t] - a[t]) (+ diff * ds * E[t0+1] once
//          rejoined), delta[p] = dL_p * clip(1 / (theta - u[p])^3, -b, b).
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
  k.forEachNeuron([&](ScalarBuilder &s, Value n) {
    // One perturbation per time step p.
    scf::ForOp::create(
        s.b, s.loc, k.c0, k.cT, k.c1, ValueRange{},
        [&](OpBuilder &pb, Location pl, Value p, ValueRange) {
          ScalarBuilder q{pb, pl};
          PerturbationKernel::Flip f = k.flip(q, n, p);
          Value t0 = arith::AddIOp::create(pb, pl, p, k.c1);
          // The chain effect is followed up to (excluding) tStop.
          Value tStop = k.cT;
          if (options.window > 0)
            tStop = arith::MinUIOp::create(
                pb, pl, k.cT, arith::AddIOp::create(pb, pl, t0, q.idx(options.window)));
          Value dL = k.chain(q, n, t0, tStop, f.r, f.diff, f.dL, f.joined);
          // Eq. (17) with d = theta - u[p] (signed): O = I in eq. (15).
          q.store(q.mul(dL, k.scale(q, f.eps)), k.delta, {p, n});
          scf::YieldOp::create(pb, pl);
        });
  });
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
