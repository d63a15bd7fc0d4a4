//===- NeuronModel.cpp - a neuron's per-step dynamics, written once --------===//
//
// The arithmetic is in the order of the tests/ reference (no FMA is formed:
// separate mulf and addf), so that spike decisions agree bit for bit.
//
//===----------------------------------------------------------------------===//
#include "compiler/Neurons/NeuronModel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
using namespace mlir::snn;

namespace {
Value constant(OpBuilder &b, Location loc, Type type, float v) {
  if (auto t = dyn_cast<RankedTensorType>(type))
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(t, b.getF32FloatAttr(v)));
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
}
} // namespace

NeuronModel::NeuronModel(NeuronAttr attr, OpBuilder &b, Location loc,
                         Type type)
    : model(attr) {
  threshold = constant(b, loc, type, attr.getThresholdValue());
  zero = constant(b, loc, type, 0.0f);
  one = constant(b, loc, type, 1.0f);
  if (attr.getKind() != NeuronKind::integrate)
    leak = constant(b, loc, type, attr.getLeak());
}

Value NeuronModel::charge(OpBuilder &b, Location loc, Value rPrev,
                          Value c) const {
  Value carried = leak ? arith::MulFOp::create(b, loc, leak, rPrev) : rPrev;
  return arith::AddFOp::create(b, loc, carried, c);
}

Value NeuronModel::fires(OpBuilder &b, Location loc, Value u) const {
  return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGE, u,
                               threshold);
}

Value NeuronModel::reset(OpBuilder &b, Location loc, Value u,
                         Value fires) const {
  switch (model.getReset()) {
  case ResetKind::zero:
    return arith::SelectOp::create(b, loc, fires, zero, u);
  case ResetKind::subtract:
    return arith::SelectOp::create(
        b, loc, fires, arith::SubFOp::create(b, loc, u, threshold), u);
  }
  llvm_unreachable("unknown reset");
}

Value NeuronModel::backward(OpBuilder &b, Location loc, Value dLdsPSC,
                            Value dr, Value u, Value s, Value h,
                            bool detachReset) const {
  bool zeroReset = model.getReset() == ResetKind::zero;
  // dR/ds: -u (zero), -theta (subtract).
  Value dLds = dLdsPSC;
  if (!detachReset)
    dLds = arith::SubFOp::create(
        b, loc, dLdsPSC,
        arith::MulFOp::create(b, loc, dr, zeroReset ? u : threshold));
  // dR/du: 1 - s (zero), 1 (subtract).
  Value through = zeroReset
                      ? arith::MulFOp::create(
                            b, loc, dr, arith::SubFOp::create(b, loc, one, s))
                      : dr;
  return arith::AddFOp::create(b, loc, arith::MulFOp::create(b, loc, dLds, h),
                               through);
}

Value NeuronModel::chargeGrad(OpBuilder &b, Location loc, Value du) const {
  return leak ? arith::MulFOp::create(b, loc, leak, du) : du;
}
