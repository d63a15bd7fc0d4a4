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
/// arith and math on same-shaped step tensors (what snn-fuse-time-loop produces) and
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
    // Elementwise arith and math (a surrogate's exp) become scalar ops.
    MLIRContext *ctx = loop->getContext();
    if ((op.getDialect() != ctx->getLoadedDialect("arith") &&
         op.getDialect() != ctx->getLoadedDialect("math")) ||
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

/// The buffers of a time loop lowered to scalar code on `[T, N]` views.
struct NeuronLoopBuffers {
  SmallVector<Value> inputs, outputs, outputBufs, initBufs;
  DenseMap<Value, Value> captured; // captured tensor -> [N] view
};

NeuronLoopBuffers prepareBuffers(OpBuilder &b, Location loc, TimeLoopOp loop) {
  NeuronLoopBuffers bufs;
  auto flatIn = [&](Value tensor, int64_t from) {
    return collapseTail(b, loc, bufferOf(b, loc, tensor), from);
  };
  for (Value in : loop.getInputs())
    bufs.inputs.push_back(flatIn(in, 1));
  // An output nobody reads (the spikes of a layer whose NA kernel
  // recomputes them from the potential) gets no buffer and no stores.
  for (OpResult r : loop->getResults()) {
    if (r.use_empty()) {
      bufs.outputBufs.push_back({});
      bufs.outputs.push_back({});
      continue;
    }
    Value buf = allocFor(b, loc, r.getType());
    bufs.outputBufs.push_back(buf);
    bufs.outputs.push_back(collapseTail(b, loc, buf, 1));
  }
  // Captured tensors (current inputs) and non-splat inits as [N] buffers.
  Block &body = loop.getBody().front();
  llvm::SetVector<Value> outside;
  for (Operation &op : body)
    for (Value v : op.getOperands())
      if (v.getParentBlock() != &body && isa<RankedTensorType>(v.getType()) &&
          !splatValue(v))
        outside.insert(v);
  for (Value v : outside)
    bufs.captured[v] = flatIn(v, 0);
  for (Value init : loop.getInits())
    bufs.initBufs.push_back(splatValue(init) ? Value() : flatIn(init, 0));
  return bufs;
}

/// The initial state of neuron n, as scalars.
SmallVector<Value> initialState(ScalarBuilder &p, TimeLoopOp loop,
                                const NeuronLoopBuffers &bufs, Value n) {
  SmallVector<Value> init;
  for (auto [k, v] : llvm::enumerate(loop.getInits())) {
    if (Attribute a = splatValue(v))
      init.push_back(arith::ConstantOp::create(p.b, p.loc, cast<TypedAttr>(a)));
    else
      init.push_back(p.load(bufs.initBufs[k], n));
  }
  return init;
}

/// Step index t of iteration i (reversed for a reverse loop).
Value stepIndex(ScalarBuilder &f, TimeLoopOp loop, Value i) {
  if (!loop.getReverse())
    return i;
  return arith::SubIOp::create(f.b, f.loc, f.idx(loop.getNumTimeSteps() - 1),
                               i);
}

/// The loop body for neuron n at step t as scalar ops: stores the outputs
/// at [t, n] and returns the next state.
SmallVector<Value> emitStep(ScalarBuilder &f, TimeLoopOp loop,
                            const NeuronLoopBuffers &bufs, Value t, Value n,
                            ValueRange state) {
  Block &body = loop.getBody().front();
  size_t nIn = bufs.inputs.size(), nOut = bufs.outputs.size();
  IRMapping map;
  map.map(body.getArgument(0), t);
  for (size_t k = 0; k < nIn; ++k)
    map.map(body.getArgument(1 + k), f.load(bufs.inputs[k], {t, n}));
  for (size_t k = 0; k < state.size(); ++k)
    map.map(body.getArgument(1 + nIn + k), state[k]);
  auto scalar = [&](Value v) -> Value {
    if (Value m = map.lookupOrNull(v))
      return m;
    if (Attribute a = splatValue(v))
      return arith::ConstantOp::create(f.b, f.loc, cast<TypedAttr>(a));
    return f.load(bufs.captured.lookup(v), n);
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
    OperationState st(f.loc, op.getName(), operands, types, op.getAttrs());
    Operation *c = f.b.create(st);
    map.map(op.getResults(), c->getResults());
  }
  auto yield = cast<YieldOp>(body.getTerminator());
  for (size_t k = 0; k < nOut; ++k)
    if (bufs.outputs[k])
      f.store(scalar(yield.getValues()[k]), bufs.outputs[k], {t, n});
  SmallVector<Value> next;
  for (Value v : yield.getValues().drop_front(nOut))
    next.push_back(scalar(v));
  return next;
}

/// One neuron per parallel iteration (the GPU form, `snn.neuron_block = 1`),
/// sequential over time inside, the state in registers (scf.for iteration
/// arguments).
scf::ParallelOp emitPerNeuron(OpBuilder &b, Location loc, TimeLoopOp loop,
                              const NeuronLoopBuffers &bufs, int64_t neurons) {
  ScalarBuilder s{b, loc};
  Value c0 = s.idx(0), c1 = s.idx(1);
  return scf::ParallelOp::create(
      b, loc, ValueRange{c0}, ValueRange{s.idx(neurons)}, ValueRange{c1},
      [&](OpBuilder &pb, Location pl, ValueRange ivs) {
        Value n = ivs[0];
        ScalarBuilder p{pb, pl};
        scf::ForOp::create(
            pb, pl, c0, s.idx(loop.getNumTimeSteps()), c1,
            initialState(p, loop, bufs, n),
            [&](OpBuilder &fb, Location fl, Value i, ValueRange state) {
              ScalarBuilder f{fb, fl};
              scf::YieldOp::create(
                  fb, fl,
                  emitStep(f, loop, bufs, stepIndex(f, loop, i), n, state));
            });
      });
}

/// Blocks of `block` neurons per parallel iteration (the CPU form): for
/// each step, a loop over the block's neurons, innermost so that it
/// vectorizes, with the state between steps in the block's own stack
/// buffers (scf.parallel is an allocation scope), which stay in the core's
/// cache instead of being written back as [N] arrays.
scf::ParallelOp emitBlocked(OpBuilder &b, Location loc, TimeLoopOp loop,
                            const NeuronLoopBuffers &bufs, int64_t neurons,
                            int64_t block) {
  ScalarBuilder s{b, loc};
  Value c0 = s.idx(0), c1 = s.idx(1), cN = s.idx(neurons);
  Value cBlock = s.idx(block);
  int64_t width = std::min(block, neurons);
  auto par = scf::ParallelOp::create(
      b, loc, ValueRange{c0}, ValueRange{s.idx((neurons + block - 1) / block)},
      ValueRange{c1}, [&](OpBuilder &pb, Location pl, ValueRange ivs) {
        ScalarBuilder p{pb, pl};
        Value n0 = p.imul(ivs[0], cBlock);
        Value n1 = arith::MinUIOp::create(pb, pl, p.iadd(n0, cBlock), cN);
        SmallVector<Value> stateBufs;
        for (Value init : loop.getInits())
          stateBufs.push_back(memref::AllocaOp::create(
              pb, pl,
              MemRefType::get({width},
                              cast<ShapedType>(init.getType()).getElementType())));
        forBlockNeurons(p, n0, n1, [&](ScalarBuilder &q, Value n, Value j) {
          for (auto [buf, v] : llvm::zip(stateBufs, initialState(q, loop, bufs, n)))
            q.store(v, buf, j);
        });
        forRange(p, c0, p.idx(loop.getNumTimeSteps()),
                 [&](ScalarBuilder &q, Value i) {
                   Value t = stepIndex(q, loop, i);
                   forBlockNeurons(q, n0, n1, [&](ScalarBuilder &w, Value n, Value j) {
                     SmallVector<Value> state;
                     for (Value buf : stateBufs)
                       state.push_back(w.load(buf, j));
                     for (auto [buf, v] : llvm::zip(
                              stateBufs, emitStep(w, loop, bufs, t, n, state)))
                       w.store(v, buf, j);
                   });
                 });
      });
  return par;
}

/// One scalar loop nest: parallel over the N neurons of a step (one per
/// iteration, or in blocks; see snn.neuron_block), sequential over time.
void lowerToNeuronLoops(TimeLoopOp loop, RankedTensorType step) {
  OpBuilder b(loop);
  Location loc = loop.getLoc();
  int64_t neurons = step.getNumElements();
  NeuronLoopBuffers bufs = prepareBuffers(b, loc, loop);
  int64_t block = neuronBlock(loop);
  scf::ParallelOp par =
      block > 1 ? emitBlocked(b, loc, loop, bufs, neurons, block)
                : emitPerNeuron(b, loc, loop, bufs, neurons);
  // The fusion names what a loop computes (psc_error_scan, stbp_backward);
  // an unnamed one is a forward time loop or a reverse one.
  StringAttr kernel = loop->getAttrOfType<StringAttr>("snn.kernel");
  par->setAttr("snn.kernel",
               kernel ? kernel
                      : b.getStringAttr(loop.getReverse() ? "reverse_time_loop"
                                                          : "time_loop"));
  for (auto [k, r] : llvm::enumerate(loop.getResults()))
    if (bufs.outputBufs[k])
      r.replaceAllUsesWith(tensorOf(b, loc, r.getType(), bufs.outputBufs[k]));
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
