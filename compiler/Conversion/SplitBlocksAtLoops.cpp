//===- SplitBlocksAtLoops.cpp - one block per top-level loop ---------------===//
//
// In every block, after each operation with regions (the scf loops and
// branches that convert-scf-to-cf splits at) and each call, the rest of the block moves
// to a new block reached by cf.br; the last such operation first, so that
// every split moves only the operations up to the next one.
//
//===----------------------------------------------------------------------===//
#include "compiler/Conversion/Passes.h"

#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::snn {
#define GEN_PASS_DEF_SPLITBLOCKSATLOOPSPASS
#include "compiler/Conversion/Passes.h.inc"
} // namespace mlir::snn

using namespace mlir;
using namespace mlir::snn;

namespace {

/// Blocks with fewer such operations stay as they are (nothing to gain).
constexpr size_t kMinLoops = 8;

void splitAfterRegionOps(Block &block) {
  SmallVector<Operation *> at;
  for (Operation &op : block.without_terminator())
    if (op.getNumRegions() > 0 || isa<func::CallOp>(op))
      at.push_back(&op);
  if (at.size() < kMinLoops)
    return;
  for (Operation *op : llvm::reverse(at)) {
    Block *rest = block.splitBlock(op->getNextNode());
    OpBuilder b = OpBuilder::atBlockEnd(&block);
    cf::BranchOp::create(b, op->getLoc(), rest);
  }
}

struct SplitBlocksAtLoopsPass
    : mlir::snn::impl::SplitBlocksAtLoopsPassBase<SplitBlocksAtLoopsPass> {
  void runOnOperation() override {
    func::FuncOp f = getOperation();
    if (f.isExternal())
      return;
    // Only the function's own blocks: the loops' bodies are short.
    SmallVector<Block *> blocks;
    for (Block &b : f.getBody())
      blocks.push_back(&b);
    for (Block *b : blocks)
      splitAfterRegionOps(*b);
  }
};

} // namespace
