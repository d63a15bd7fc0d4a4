//===- FuseTimeLoop.cpp - time recurrences -> snn.time_loop ----------------===//
//
// Rewrites each time recurrence (NA_SPEC section 1 and eq. (7)) into an
// snn.time_loop whose body computes one [B, ...] step with elementwise arith
// ops, fusing an snn.neuron with the snn.psc of its spikes. The neuron's
// dynamics come from compiler/Neurons (charge, fire, reset); the rest is
// written in the order that the tests/ reference uses:
//   a = ds * a + s * (1/tau_s);  e = g + ds * e_next
//
//===----------------------------------------------------------------------===//
#include "compiler/Transforms/Passes.h"

#include "compiler/Neurons/NeuronModel.h"

#include "mlir/Dialect/Math/IR/Math.h"

namespace mlir::snn {
#define GEN_PASS_DEF_FUSETIMELOOPPASS
#include "compiler/Transforms/Passes.h.inc"
} // namespace mlir::snn

using namespace mlir;
using namespace mlir::snn;

namespace {

RankedTensorType stepType(Type timeMajor) {
  auto t = cast<RankedTensorType>(timeMajor);
  return RankedTensorType::get(t.getShape().drop_front(), t.getElementType());
}

/// Elementwise arith on one step's tensors.
struct StepBuilder {
  OpBuilder &b;
  Location loc;
  RankedTensorType type;
  Value splat(float v) {
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(type, b.getF32FloatAttr(v)));
  }
  Value add(Value x, Value y) { return arith::AddFOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulFOp::create(b, loc, x, y); }
  /// a = ds * a + x * (1/tau_s)
  Value psc(Value aPrev, Value x, float tauS) {
    return add(mul(splat(1.0f - 1.0f / tauS), aPrev), mul(x, splat(1.0f / tauS)));
  }
};

/// Builds `snn.time_loop` with the given inputs/inits and result types; the
/// callback fills the body and returns the yielded values.
TimeLoopOp buildLoop(
    OpBuilder &b, Location loc, ValueRange inputs, ValueRange inits,
    TypeRange resultTypes, bool reverse,
    function_ref<SmallVector<Value>(OpBuilder &, ValueRange slices,
                                    ValueRange state)>
        body,
    StringRef kernel = "") {
  auto loop = TimeLoopOp::create(b, loc, resultTypes, inputs, inits,
                                 reverse ? b.getUnitAttr() : UnitAttr());
  // What the loop computes, for the kernel names of the lowering
  // (snn-lower-time-loop, snn-name-gpu-kernels).
  if (!kernel.empty())
    loop->setAttr("snn.kernel", b.getStringAttr(kernel));
  Block *block = new Block();
  loop.getBody().push_back(block);
  block->addArgument(b.getIndexType(), loc);
  for (Value in : inputs)
    block->addArgument(stepType(in.getType()), loc);
  for (Value init : inits)
    block->addArgument(init.getType(), loc);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(block);
  auto args = block->getArguments();
  SmallVector<Value> yielded =
      body(b, args.slice(1, inputs.size()), args.drop_front(1 + inputs.size()));
  YieldOp::create(b, loc, yielded);
  return loop;
}

Value zeros(OpBuilder &b, Location loc, RankedTensorType t) {
  return arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(t, b.getF32FloatAttr(0.0f)));
}

/// A layer of neurons, and the PSC of its spikes when there is one: one loop.
void fuseNeuron(NeuronOp neuron) {
  OpBuilder b(neuron);
  Location loc = neuron.getLoc();
  auto type = neuron.getType(0);
  auto step = stepType(type);
  PSCOp psc;
  for (Operation *user : neuron.getSpikes().getUsers())
    if (auto p = dyn_cast<PSCOp>(user)) {
      psc = p;
      break;
    }
  float tauS = psc ? psc.getTauS().convertToFloat() : 2.0f;
  Value z = zeros(b, loc, step);
  SmallVector<Value> inits{z};
  SmallVector<Type> results{type, type};
  if (psc) {
    inits.push_back(z);
    results.push_back(type);
  }
  auto loop = buildLoop(
      b, loc, neuron.getInput(), inits, results, /*reverse=*/false,
      [&](OpBuilder &bb, ValueRange in, ValueRange state) {
        StepBuilder s{bb, loc, step};
        NeuronModel model(neuron.getModel(), bb, loc, step);
        Value u = model.charge(bb, loc, state[0], in[0]);
        Value fire = model.fires(bb, loc, u);
        Value spikes =
            arith::SelectOp::create(bb, loc, fire, model.one, model.zero);
        Value r = model.reset(bb, loc, u, fire);
        if (!psc)
          return SmallVector<Value>{u, spikes, r};
        Value a = s.psc(state[1], spikes, tauS);
        return SmallVector<Value>{u, spikes, a, r, a};
      });
  neuron.getPotential().replaceAllUsesWith(loop.getResult(0));
  neuron.getSpikes().replaceAllUsesWith(loop.getResult(1));
  if (psc) {
    psc.getResult().replaceAllUsesWith(loop.getResult(2));
    psc.erase();
  }
  neuron.erase();
}

/// a[t] = ds a[t-1] + x[t] / tau_s on its own (PSC, event encoding), or with
/// a constant x (current encoding).
void lowerKernel(Operation *op, Value input, float tauS, bool constantInput) {
  OpBuilder b(op);
  Location loc = op->getLoc();
  auto type = cast<RankedTensorType>(op->getResult(0).getType());
  auto step = stepType(type);
  SmallVector<Value> inputs;
  if (!constantInput)
    inputs.push_back(input);
  auto loop = buildLoop(b, loc, inputs, zeros(b, loc, step), type,
                        /*reverse=*/false,
                        [&](OpBuilder &bb, ValueRange in, ValueRange state) {
                          StepBuilder s{bb, loc, step};
                          Value a = s.psc(state[0],
                                          constantInput ? input : in[0], tauS);
                          return SmallVector<Value>{a, a};
                        });
  op->getResult(0).replaceAllUsesWith(loop.getResult(0));
  op->erase();
}

void lowerErrorScan(PSCErrorScanOp scan) {
  OpBuilder b(scan);
  Location loc = scan.getLoc();
  auto step = stepType(scan.getType());
  float ds = 1.0f - 1.0f / scan.getTauS().convertToFloat();
  auto loop = buildLoop(b, loc, scan.getGrad(), zeros(b, loc, step),
                        scan.getType(), /*reverse=*/true,
                        [&](OpBuilder &bb, ValueRange in, ValueRange state) {
                          StepBuilder s{bb, loc, step};
                          Value e = s.add(in[0], s.mul(s.splat(ds), state[0]));
                          return SmallVector<Value>{e, e};
                        },
                        "psc_error_scan");
  scan.getResult().replaceAllUsesWith(loop.getResult(0));
  scan.erase();
}

/// The surrogate h(u) of ds/du (snn.stbp_backward).
Value surrogate(StepBuilder &s, STBPBackwardOp op, Value u, Value theta) {
  OpBuilder &b = s.b;
  Location loc = s.loc;
  Value off = arith::SubFOp::create(b, loc, u, theta);
  if (op.getSurrogate() == Surrogate::sigmoid) {
    // scale * sig(x) (1 - sig(x)) / temperature, sig(x) = 1/(1 + exp(-x/k)).
    float k = op.getTemperature().convertToFloat();
    Value e = math::ExpOp::create(
        b, loc, s.mul(arith::NegFOp::create(b, loc, off), s.splat(1.0f / k)));
    Value sig = arith::DivFOp::create(b, loc, s.splat(1.0f), s.add(s.splat(1.0f), e));
    Value slope = s.mul(sig, arith::SubFOp::create(b, loc, s.splat(1.0f), sig));
    return s.mul(slope, s.splat(op.getScale().convertToFloat() / k));
  }
  float width = op.getWidth().convertToFloat();
  Value below = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, off,
                                      s.splat(width / 2));
  Value above = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, off,
                                      s.splat(-width / 2));
  Value inside = arith::AndIOp::create(b, loc, below, above);
  return arith::SelectOp::create(b, loc, inside, s.splat(1.0f / width),
                                 s.splat(0.0f));
}

/// STBP (snn.stbp_backward): the eq. (7) scan and the BPTT recurrence of
/// the neuron in one reverse loop; state (e, dL/dr).
void lowerSTBP(STBPBackwardOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  auto step = stepType(op.getType());
  float ds = 1.0f - 1.0f / op.getTauS().convertToFloat();
  float invTauS = 1.0f / op.getTauS().convertToFloat();
  bool detach = op.getDetachReset();
  Value z = zeros(b, loc, step);
  auto loop = buildLoop(
      b, loc, ValueRange{op.getGrad(), op.getPotential(), op.getSpikes()},
      ValueRange{z, z}, op.getType(), /*reverse=*/true,
      [&](OpBuilder &bb, ValueRange in, ValueRange state) {
        StepBuilder s{bb, loc, step};
        NeuronModel model(op.getNeuron(), bb, loc, step);
        Value g = in[0], u = in[1], spk = in[2], eNext = state[0], dr = state[1];
        Value e = s.add(g, s.mul(s.splat(ds), eNext));
        Value h = surrogate(s, op, u, model.threshold);
        Value du = model.backward(bb, loc, s.mul(e, s.splat(invTauS)), dr, u,
                                  spk, h, detach);
        return SmallVector<Value>{du, e, model.chargeGrad(bb, loc, du)};
      },
      "stbp_backward");
  op.getResult().replaceAllUsesWith(loop.getResult(0));
  op.erase();
}

struct FuseTimeLoopPass
    : mlir::snn::impl::FuseTimeLoopPassBase<FuseTimeLoopPass> {
  void runOnOperation() override {
    SmallVector<Operation *> ops;
    getOperation().walk([&](Operation *op) {
      if (isa<NeuronOp, PSCOp, EncodeCurrentOp, EncodeEventsOp, PSCErrorScanOp,
              STBPBackwardOp>(op))
        ops.push_back(op);
    });
    DenseSet<Operation *> erased;
    for (Operation *op : ops) {
      if (erased.contains(op))
        continue;
      if (auto neuron = dyn_cast<NeuronOp>(op)) {
        for (Operation *user : neuron.getSpikes().getUsers())
          if (isa<PSCOp>(user)) {
            erased.insert(user);
            break;
          }
        fuseNeuron(neuron);
      } else if (auto psc = dyn_cast<PSCOp>(op)) {
        lowerKernel(op, psc.getInput(), psc.getTauS().convertToFloat(), false);
      } else if (auto ev = dyn_cast<EncodeEventsOp>(op)) {
        lowerKernel(op, ev.getInput(), ev.getTauS().convertToFloat(), false);
      } else if (auto cur = dyn_cast<EncodeCurrentOp>(op)) {
        lowerKernel(op, cur.getInput(), cur.getTauS().convertToFloat(), true);
      } else if (auto stbp = dyn_cast<STBPBackwardOp>(op)) {
        lowerSTBP(stbp);
      } else {
        lowerErrorScan(cast<PSCErrorScanOp>(op));
      }
    }
  }
};

} // namespace
