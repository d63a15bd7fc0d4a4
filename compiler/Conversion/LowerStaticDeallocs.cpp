//===- LowerStaticDeallocs.cpp - owned, distinct allocations -> dealloc ----===//
//
// bufferization.dealloc (%a, %b, ...) if (%true, %true, ...) with no
// retained values, every memref a distinct memref.alloc / memref.alloca
// result: one memref.dealloc per memref.alloc, and the op's (unused)
// "updated conditions" results are gone.
//
//===----------------------------------------------------------------------===//
#include "compiler/Conversion/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/SmallPtrSet.h"

namespace mlir::snn {
#define GEN_PASS_DEF_LOWERSTATICDEALLOCSPASS
#include "compiler/Conversion/Passes.h.inc"
} // namespace mlir::snn

using namespace mlir;
using namespace mlir::snn;

namespace {

/// Whether `op` frees only distinct allocations it owns for sure.
bool isStatic(bufferization::DeallocOp op) {
  if (!op.getRetained().empty() || !op.getUpdatedConditions().use_empty())
    return false;
  for (Value c : op.getConditions())
    if (!matchPattern(c, m_One()))
      return false;
  llvm::SmallPtrSet<Operation *, 16> seen;
  for (Value m : op.getMemrefs()) {
    Operation *def = m.getDefiningOp();
    if (!def || !isa<memref::AllocOp, memref::AllocaOp>(def) ||
        !seen.insert(def).second)
      return false;
  }
  return true;
}

struct LowerStaticDeallocsPass
    : mlir::snn::impl::LowerStaticDeallocsPassBase<LowerStaticDeallocsPass> {
  void runOnOperation() override {
    SmallVector<bufferization::DeallocOp> ops;
    getOperation().walk([&](bufferization::DeallocOp op) {
      if (isStatic(op))
        ops.push_back(op);
    });
    for (bufferization::DeallocOp op : ops) {
      OpBuilder b(op);
      for (Value m : op.getMemrefs())
        if (isa<memref::AllocOp>(m.getDefiningOp()))
          memref::DeallocOp::create(b, op.getLoc(), m);
      op.erase();
    }
  }
};

} // namespace
