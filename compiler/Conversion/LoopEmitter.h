//===- LoopEmitter.h - scalar loop code on buffers -----------------*- C++ -*-===//
//
// Helpers shared by the passes that lower snn ops on tensors to loops on
// buffers (snn-to-loops, neighborhood strategies): each op reads its operands
// through bufferization.to_buffer, writes a fresh memref.alloc, and hands it
// back as a tensor with bufferization.to_tensor, so that one-shot
// bufferization sees ordinary tensor values.
//
//===----------------------------------------------------------------------===//
#ifndef SNNC_COMPILER_CONVERSION_LOOPEMITTER_H
#define SNNC_COMPILER_CONVERSION_LOOPEMITTER_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "dialects/SNN/IR/SNNOps.h"

namespace mlir::snn {

/// Neurons per parallel iteration of the per-neuron kernels: the module's
/// #snn.target neuron_block (256 by default: the inner loop over a block's
/// neurons vectorizes on the CPU; the GPU pipeline sets 1).
inline int64_t neuronBlock(Operation *op) {
  return TargetAttr::of(op).getNeuronBlock();
}

/// Scalar f32/index arithmetic and memory access at one insertion point.
struct ScalarBuilder {
  OpBuilder &b;
  Location loc;
  Value f(float v) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
  }
  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value add(Value x, Value y) { return arith::AddFOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubFOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulFOp::create(b, loc, x, y); }
  Value div(Value x, Value y) { return arith::DivFOp::create(b, loc, x, y); }
  Value iadd(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value imul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value cmp(arith::CmpFPredicate p, Value x, Value y) {
    return arith::CmpFOp::create(b, loc, p, x, y);
  }
  Value ge(Value x, Value y) { return cmp(arith::CmpFPredicate::OGE, x, y); }
  Value gt(Value x, Value y) { return cmp(arith::CmpFPredicate::OGT, x, y); }
  Value eq(Value x, Value y) { return cmp(arith::CmpFPredicate::OEQ, x, y); }
  Value le(Value x, Value y) { return cmp(arith::CmpFPredicate::OLE, x, y); }
  Value icmp(arith::CmpIPredicate p, Value x, Value y) {
    return arith::CmpIOp::create(b, loc, p, x, y);
  }
  Value sel(Value c, Value x, Value y) {
    return arith::SelectOp::create(b, loc, c, x, y);
  }
  Value load(Value m, ValueRange i) {
    return memref::LoadOp::create(b, loc, m, i);
  }
  void store(Value v, Value m, ValueRange i) {
    memref::StoreOp::create(b, loc, v, m, i);
  }
};

/// scf.for over [lo, hi) step 1 without iteration arguments; `f` emits the
/// body for index i.
inline void forRange(ScalarBuilder &s, Value lo, Value hi,
                     function_ref<void(ScalarBuilder &, Value)> f) {
  scf::ForOp::create(s.b, s.loc, lo, hi, s.idx(1), ValueRange{},
                     [&](OpBuilder &fb, Location fl, Value i, ValueRange) {
                       ScalarBuilder q{fb, fl};
                       f(q, i);
                       scf::YieldOp::create(fb, fl);
                     });
}

/// A buffer viewed with dimensions [from, rank) collapsed into one:
/// `[d0, ..., d(from-1), N]`.
inline Value collapseTail(OpBuilder &b, Location loc, Value m, int64_t from) {
  auto t = cast<MemRefType>(m.getType());
  if (t.getRank() == from + 1)
    return m;
  SmallVector<ReassociationIndices> reassoc;
  for (int64_t i = 0; i < from; ++i)
    reassoc.push_back({i});
  ReassociationIndices tail;
  for (int64_t i = from; i < t.getRank(); ++i)
    tail.push_back(i);
  reassoc.push_back(tail);
  return memref::CollapseShapeOp::create(b, loc, m, reassoc);
}

/// The identity-layout buffer of a tensor (read only).
inline Value bufferOf(OpBuilder &b, Location loc, Value tensor) {
  auto t = cast<RankedTensorType>(tensor.getType());
  return bufferization::ToBufferOp::create(
      b, loc, MemRefType::get(t.getShape(), t.getElementType()), tensor,
      /*read_only=*/true);
}

/// A fresh buffer for a result of tensor type `t`.
inline Value allocFor(OpBuilder &b, Location loc, Type t) {
  auto rt = cast<RankedTensorType>(t);
  return memref::AllocOp::create(
      b, loc, MemRefType::get(rt.getShape(), rt.getElementType()));
}

/// The tensor that a freshly written buffer holds.
inline Value tensorOf(OpBuilder &b, Location loc, Type t, Value buffer) {
  return bufferization::ToTensorOp::create(b, loc, t, buffer,
                                           /*restrict=*/true,
                                           /*writable=*/true);
}

} // namespace mlir::snn

#endif
