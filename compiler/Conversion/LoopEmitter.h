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

/// scf.for over the neurons [n0, n1) of a block (the CPU form's innermost
/// loop, the one that vectorizes); `f` gets neuron n and its index n - n0
/// in the block's own buffers.
inline void forBlockNeurons(ScalarBuilder &s, Value n0, Value n1,
                            function_ref<void(ScalarBuilder &, Value, Value)> f) {
  forRange(s, n0, n1, [&](ScalarBuilder &w, Value n) {
    f(w, n, arith::SubIOp::create(w.b, w.loc, n, n0));
  });
}

using BodyFn = function_ref<void(ScalarBuilder &, ValueRange)>;

/// scf.parallel over [0, ubs[i]) with the body at its insertion point.
inline void parallelFor(OpBuilder &b, Location loc, ArrayRef<int64_t> ubs,
                 BodyFn body) {
  SmallVector<Value> lbs, ups, steps;
  for (int64_t u : ubs) {
    lbs.push_back(arith::ConstantIndexOp::create(b, loc, 0));
    ups.push_back(arith::ConstantIndexOp::create(b, loc, u));
    steps.push_back(arith::ConstantIndexOp::create(b, loc, 1));
  }
  scf::ParallelOp::create(b, loc, lbs, ups, steps,
                          [&](OpBuilder &pb, Location pl, ValueRange ivs) {
                            ScalarBuilder s{pb, pl};
                            body(s, ivs);
                          });
}

/// Sequential scf.for over [0, ub) carrying f32 accumulators.
inline SmallVector<Value>
sumFor(OpBuilder &b, Location loc, int64_t ub, ValueRange init,
       function_ref<SmallVector<Value>(ScalarBuilder &, Value, ValueRange)>
           body) {
  Value c0 = arith::ConstantIndexOp::create(b, loc, 0);
  Value cu = arith::ConstantIndexOp::create(b, loc, ub);
  Value c1 = arith::ConstantIndexOp::create(b, loc, 1);
  auto loop = scf::ForOp::create(
      b, loc, c0, cu, c1, init,
      [&](OpBuilder &fb, Location fl, Value i, ValueRange acc) {
        ScalarBuilder s{fb, fl};
        scf::YieldOp::create(fb, fl, body(s, i, acc));
      });
  return SmallVector<Value>(loop.getResults());
}

/// splitmix64 of (key, i): a counter-based uniform in [0, 1).
inline Value uniform(ScalarBuilder &s, Value key, Value i,
                     int64_t stream = 0) {
  auto c = [&](uint64_t v) {
    return arith::ConstantIntOp::create(s.b, s.loc, s.b.getI64Type(),
                                        static_cast<int64_t>(v));
  };
  auto xorShift = [&](Value z, int64_t sh) {
    return arith::XOrIOp::create(
        s.b, s.loc, z, arith::ShRUIOp::create(s.b, s.loc, z, c(sh)));
  };
  Value idx = arith::IndexCastUIOp::create(s.b, s.loc, s.b.getI64Type(), i);
  // Streams start 2^40 counters apart (more than any mask has elements).
  if (stream != 0)
    idx = arith::AddIOp::create(s.b, s.loc, idx, c(uint64_t(stream) << 40));
  Value z = arith::AddIOp::create(
      s.b, s.loc, arith::MulIOp::create(s.b, s.loc, key, c(0x9E3779B97F4A7C15ull)),
      idx);
  z = arith::MulIOp::create(s.b, s.loc, xorShift(z, 30), c(0xBF58476D1CE4E5B9ull));
  z = arith::MulIOp::create(s.b, s.loc, xorShift(z, 27), c(0x94D049BB133111EBull));
  z = xorShift(z, 31);
  Value top = arith::ShRUIOp::create(s.b, s.loc, z, c(40));
  Value f = arith::UIToFPOp::create(s.b, s.loc, s.b.getF32Type(), top);
  return s.mul(f, s.f(1.0f / 16777216.0f));
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
