//===- SinkIntoLaunches.cpp - constants and index math into gpu.launch -----===//
//
// What upstream's gpu-launch-sink-index-computations does (the same ops, the
// same order: constants, memref.dim, arith.select and arith.cmpi whose
// operands are sunk too or already used by the launch), with the uses
// replaced by one walk of each launch's body. Upstream replaces them with
// replaceAllUsesInRegionWith, which visits every use of the value in the
// function: a constant shared by every launch of a deep network's step made
// that quadratic (8.3 s of a 400-layer MLP's compile).
//
//===----------------------------------------------------------------------===//
#include "compiler/Conversion/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::snn {
#define GEN_PASS_DEF_SINKINTOLAUNCHESPASS
#include "compiler/Conversion/Passes.h.inc"
} // namespace mlir::snn

using namespace mlir;

namespace {

bool isIndexComputation(Operation *op) {
  return matchPattern(op, m_Constant()) ||
         isa<memref::DimOp, arith::SelectOp, arith::CmpIOp>(op);
}

/// Adds `op` to `sunk` (after what it needs) if it and its operands' defining
/// ops can all be sunk, or the launch uses those operands already.
bool collect(Operation *op, const llvm::SetVector<Value> &used,
             llvm::SetVector<Operation *> &sunk,
             llvm::SmallPtrSetImpl<Value> &available) {
  if (sunk.count(op))
    return true;
  if (!isIndexComputation(op))
    return false;
  for (Value operand : op->getOperands()) {
    if (available.count(operand))
      continue;
    Operation *def = operand.getDefiningOp();
    if ((!def || !collect(def, used, sunk, available)) && !used.count(operand))
      return false;
  }
  sunk.insert(op);
  for (Value result : op->getResults())
    available.insert(result);
  return true;
}

void sinkInto(gpu::LaunchOp launch) {
  Region &body = launch.getBody();
  llvm::SetVector<Value> used;
  getUsedValuesDefinedAbove(body, used);
  llvm::SetVector<Operation *> sunk;
  llvm::SmallPtrSet<Value, 8> available;
  for (Value v : used)
    if (Operation *def = v.getDefiningOp())
      collect(def, used, sunk, available);
  if (sunk.empty())
    return;
  IRMapping map;
  OpBuilder b(body);
  llvm::SmallPtrSet<Operation *, 8> clones;
  for (Operation *op : sunk)
    clones.insert(b.clone(*op, map));
  body.walk([&](Operation *op) {
    if (clones.count(op))
      return;
    for (OpOperand &operand : op->getOpOperands())
      if (Value to = map.lookupOrNull(operand.get()))
        operand.set(to);
  });
}

struct SinkIntoLaunchesPass
    : mlir::snn::impl::SinkIntoLaunchesPassBase<SinkIntoLaunchesPass> {
  void runOnOperation() override {
    getOperation()->walk([](gpu::LaunchOp launch) { sinkInto(launch); });
  }
};

} // namespace
