//===- LowerTimeLoop.cpp - snn.time_loop -> scf.for -------------------------===//
#include "compiler/Conversion/LoopEmitter.h"
#include "compiler/Conversion/Passes.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/SetVector.h"

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

/// The step shape all body values share, when the body is elementwise
/// arith on same-shaped step tensors (what snn-fuse-time-loop produces) and
/// every init and captured tensor is a splat constant or has that shape.
std::optional<RankedTensorType> elementwiseStepType(TimeLoopOp loop) {
  auto stepOf = [](Type t) {
    auto r = cast<RankedTensorType>(t);
    return RankedTensorType::get(r.getShape().drop_front(), r.getElementType());
  };
  RankedTensorType step = stepOf(loop.getOutputs().front().getType());
  auto sameShape = [&](Type t) {
    auto r = dyn_cast<RankedTensorType>(t);
    return r && r.getShape() == step.getShape();
  };
  Block &body = loop.getBody().front();
  for (Operation &op : body.without_terminator()) {
    if (op.getDialect() != loop->getContext()->getLoadedDialect("arith") ||
        op.getNumRegions() != 0)
      return std::nullopt;
    if (!isa<arith::ConstantOp>(op) &&
        !op.hasTrait<OpTrait::Elementwise>())
      return std::nullopt;
    for (Value v : op.getResults())
      if (!sameShape(v.getType()))
        return std::nullopt;
    for (Value v : op.getOperands())
      if (!sameShape(v.getType()))
        return std::nullopt;
  }
  for (Value v : loop.getInits())
    if (!sameShape(v.getType()))
      return std::nullopt;
  return step;
}

/// A splat constant's scalar, or null.
Attribute splatValue(Value v) {
  DenseElementsAttr attr;
  if (matchPattern(v, m_Constant(&attr)) && attr.isSplat())
    return attr.getSplatValue<Attribute>();
  return nullptr;
}

/// One scalar loop nest: parallel over the N neurons of a step, sequential
/// over time inside, the state in registers (scf.for iteration arguments).
void lowerToNeuronLoops(TimeLoopOp loop, RankedTensorType step) {
  OpBuilder b(loop);
  Location loc = loop.getLoc();
  int64_t steps = loop.getNumTimeSteps();
  int64_t neurons = step.getNumElements();
  ScalarBuilder s{b, loc};
  auto flatIn = [&](Value tensor, int64_t from) {
    return collapseTail(b, loc, bufferOf(b, loc, tensor), from);
  };
  SmallVector<Value> inputs, outputs, outputBufs;
  for (Value in : loop.getInputs())
    inputs.push_back(flatIn(in, 1));
  for (Type t : loop.getResultTypes()) {
    Value buf = allocFor(b, loc, t);
    outputBufs.push_back(buf);
    outputs.push_back(collapseTail(b, loc, buf, 1));
  }
  // Captured tensors (current inputs) and non-splat inits as [N] buffers.
  Block &body = loop.getBody().front();
  llvm::SetVector<Value> outside;
  for (Operation &op : body)
    for (Value v : op.getOperands())
      if (v.getParentBlock() != &body && isa<RankedTensorType>(v.getType()) &&
          !splatValue(v))
        outside.insert(v);
  DenseMap<Value, Value> captured;
  for (Value v : outside)
    captured[v] = flatIn(v, 0);
  SmallVector<Value> initBufs;
  for (Value init : loop.getInits())
    initBufs.push_back(splatValue(init) ? Value() : flatIn(init, 0));

  Value c0 = s.idx(0), c1 = s.idx(1), cT = s.idx(steps), cLast = s.idx(steps - 1);
  size_t nOut = outputs.size(), nIn = inputs.size();
  auto par = scf::ParallelOp::create(
      b, loc, ValueRange{c0}, ValueRange{s.idx(neurons)}, ValueRange{c1},
      [&](OpBuilder &pb, Location pl, ValueRange ivs) {
        Value n = ivs[0];
        ScalarBuilder p{pb, pl};
        SmallVector<Value> init;
        for (auto [k, v] : llvm::enumerate(loop.getInits())) {
          if (Attribute a = splatValue(v))
            init.push_back(arith::ConstantOp::create(pb, pl, cast<TypedAttr>(a)));
          else
            init.push_back(p.load(initBufs[k], n));
        }
        scf::ForOp::create(
            pb, pl, c0, cT, c1, init,
            [&](OpBuilder &fb, Location fl, Value i, ValueRange state) {
              ScalarBuilder f{fb, fl};
              Value t = loop.getReverse()
                            ? arith::SubIOp::create(fb, fl, cLast, i)
                            : i;
              IRMapping map;
              map.map(body.getArgument(0), t);
              for (size_t k = 0; k < nIn; ++k)
                map.map(body.getArgument(1 + k), f.load(inputs[k], {t, n}));
              for (size_t k = 0; k < state.size(); ++k)
                map.map(body.getArgument(1 + nIn + k), state[k]);
              auto scalar = [&](Value v) -> Value {
                if (Value m = map.lookupOrNull(v))
                  return m;
                if (Attribute a = splatValue(v))
                  return arith::ConstantOp::create(fb, fl, cast<TypedAttr>(a));
                return f.load(captured.lookup(v), n);
              };
              for (Operation &op : body.without_terminator()) {
                if (isa<arith::ConstantOp>(op))
                  continue; // splats become scalar constants on use
                SmallVector<Value> operands;
                for (Value v : op.getOperands())
                  operands.push_back(scalar(v));
                SmallVector<Type> types;
                for (Value r : op.getResults())
                  types.push_back(cast<ShapedType>(r.getType()).getElementType());
                OperationState st(fl, op.getName(), operands, types,
                                  op.getAttrs());
                Operation *c = fb.create(st);
                map.map(op.getResults(), c->getResults());
              }
              auto yield = cast<YieldOp>(body.getTerminator());
              for (size_t k = 0; k < nOut; ++k)
                f.store(scalar(yield.getValues()[k]), outputs[k], {t, n});
              SmallVector<Value> next;
              for (Value v : yield.getValues().drop_front(nOut))
                next.push_back(scalar(v));
              scf::YieldOp::create(fb, fl, next);
            });
      });
  par->setAttr("snn.kernel", b.getStringAttr(loop.getReverse() ? "stbp_backward" : "time_loop"));
  for (auto [k, r] : llvm::enumerate(loop.getResults()))
    r.replaceAllUsesWith(tensorOf(b, loc, r.getType(), outputBufs[k]));
  loop.erase();
}

void lowerLoop(TimeLoopOp loop) {
  if (auto step = elementwiseStepType(loop))
    return lowerToNeuronLoops(loop, *step);
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
