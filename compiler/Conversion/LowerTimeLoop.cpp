//===- LowerTimeLoop.cpp - snn.time_loop -> scf.for -------------------------===//
#include "compiler/Conversion/Passes.h"

#include "mlir/IR/IRMapping.h"

namespace mlir::snn {
#define GEN_PASS_DEF_LOWERTIMELOOPPASS
#include "compiler/Conversion/Passes.h.inc"
} // namespace mlir::snn

using namespace mlir;
using namespace mlir::snn;

namespace {

/// Offsets, sizes and strides of step `t` of a `[T, ...]` tensor.
struct StepSlice {
  SmallVector<OpFoldResult> offsets, sizes, strides;
  StepSlice(OpBuilder &b, RankedTensorType type, Value t) {
    offsets.push_back(t);
    sizes.push_back(b.getIndexAttr(1));
    strides.push_back(b.getIndexAttr(1));
    for (int64_t d : type.getShape().drop_front()) {
      offsets.push_back(b.getIndexAttr(0));
      sizes.push_back(b.getIndexAttr(d));
      strides.push_back(b.getIndexAttr(1));
    }
  }
};

void lowerLoop(TimeLoopOp loop) {
  OpBuilder b(loop);
  Location loc = loop.getLoc();
  int64_t steps = loop.getNumTimeSteps();
  size_t nOut = loop.getOutputs().size();
  SmallVector<Value> iterInit;
  for (Type t : loop.getResultTypes()) {
    auto rt = cast<RankedTensorType>(t);
    iterInit.push_back(
        tensor::EmptyOp::create(b, loc, rt.getShape(), rt.getElementType()));
  }
  llvm::append_range(iterInit, loop.getInits());

  Value c0 = arith::ConstantIndexOp::create(b, loc, 0);
  Value c1 = arith::ConstantIndexOp::create(b, loc, 1);
  Value cT = arith::ConstantIndexOp::create(b, loc, steps);
  Value cLast = arith::ConstantIndexOp::create(b, loc, steps - 1);
  Block &body = loop.getBody().front();
  auto forOp = scf::ForOp::create(
      b, loc, c0, cT, c1, iterInit,
      [&](OpBuilder &fb, Location fl, Value i, ValueRange iter) {
        Value t = loop.getReverse() ? arith::SubIOp::create(fb, fl, cLast, i)
                                    : i;
        IRMapping map;
        map.map(body.getArgument(0), t);
        for (auto [k, in] : llvm::enumerate(loop.getInputs())) {
          auto type = cast<RankedTensorType>(in.getType());
          StepSlice sl(fb, type, t);
          auto stepType = RankedTensorType::get(type.getShape().drop_front(),
                                                type.getElementType());
          map.map(body.getArgument(1 + k),
                  tensor::ExtractSliceOp::create(fb, fl, stepType, in,
                                                 sl.offsets, sl.sizes,
                                                 sl.strides));
        }
        size_t nIn = loop.getInputs().size();
        for (size_t k = 0; k < loop.getInits().size(); ++k)
          map.map(body.getArgument(1 + nIn + k), iter[nOut + k]);
        for (Operation &op : body.without_terminator())
          fb.clone(op, map);
        auto yield = cast<YieldOp>(body.getTerminator());
        SmallVector<Value> next;
        for (size_t k = 0; k < nOut; ++k) {
          auto type = cast<RankedTensorType>(iter[k].getType());
          StepSlice sl(fb, type, t);
          next.push_back(tensor::InsertSliceOp::create(
              fb, fl, map.lookupOrDefault(yield.getValues()[k]), iter[k], sl.offsets,
              sl.sizes, sl.strides));
        }
        for (Value v : yield.getValues().drop_front(nOut))
          next.push_back(map.lookupOrDefault(v));
        scf::YieldOp::create(fb, fl, next);
      });
  loop.replaceAllUsesWith(forOp.getResults().take_front(nOut));
  loop.erase();
}

struct LowerTimeLoopPass
    : mlir::snn::impl::LowerTimeLoopPassBase<LowerTimeLoopPass> {
  void runOnOperation() override {
    SmallVector<TimeLoopOp> loops;
    getOperation().walk([&](TimeLoopOp op) { loops.push_back(op); });
    for (TimeLoopOp op : loops)
      lowerLoop(op);
  }
};

} // namespace
