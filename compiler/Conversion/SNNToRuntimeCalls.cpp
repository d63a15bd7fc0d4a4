//===- SNNToRuntimeCalls.cpp - synaptic layers -> snnrt calls --------------===//
//
// Dense layers are GEMMs on [T*B, features] views (eqs. 9-10 included):
//   forward      c[TB,O]  = a[TB,I] * W[O,I]^T        snnrt_matmul_nt
//   grad input   g[TB,I]  = delta[TB,O] * W[O,I]       snnrt_matmul_nn
//   grad weight  dW[O,I]  = delta[TB,O]^T * a[TB,I]    snnrt_matmul_tn
// Convolutions run per [T*B] image in snnrt_conv2d_*.
//
//===----------------------------------------------------------------------===//
#include "compiler/Conversion/LoopEmitter.h"
#include "compiler/Conversion/Passes.h"

namespace mlir::snn {
#define GEN_PASS_DEF_SNNTORUNTIMECALLSPASS
#include "compiler/Conversion/Passes.h.inc"
} // namespace mlir::snn

using namespace mlir;
using namespace mlir::snn;

namespace {

/// Declares (once) `name(memref<?x..xf32>..., i64...)` with the C interface.
func::FuncOp declareRuntime(ModuleOp module, StringRef name,
                            ArrayRef<int64_t> ranks, unsigned numInts) {
  if (auto f = module.lookupSymbol<func::FuncOp>(name))
    return f;
  OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
  SmallVector<Type> args;
  for (int64_t r : ranks)
    args.push_back(MemRefType::get(SmallVector<int64_t>(r, ShapedType::kDynamic),
                                   b.getF32Type()));
  args.append(numInts, b.getI64Type());
  auto f = func::FuncOp::create(b, module.getLoc(), name,
                                b.getFunctionType(args, {}));
  f.setPrivate();
  f->setAttr("llvm.emit_c_interface", b.getUnitAttr());
  return f;
}

/// A buffer with its leading `merge` dims merged, cast to dynamic sizes.
Value dynamicView(OpBuilder &b, Location loc, Value m, int64_t merge) {
  auto t = cast<MemRefType>(m.getType());
  if (merge > 1) {
    SmallVector<ReassociationIndices> reassoc;
    ReassociationIndices head;
    for (int64_t i = 0; i < merge; ++i)
      head.push_back(i);
    reassoc.push_back(head);
    for (int64_t i = merge; i < t.getRank(); ++i)
      reassoc.push_back({i});
    m = memref::CollapseShapeOp::create(b, loc, m, reassoc);
    t = cast<MemRefType>(m.getType());
  }
  auto dyn = MemRefType::get(
      SmallVector<int64_t>(t.getRank(), ShapedType::kDynamic), t.getElementType());
  return memref::CastOp::create(b, loc, dyn, m);
}

/// Replaces `op` (one tensor result) by a call writing a fresh buffer.
/// Operands and the result are viewed with their `merge[i]` leading dims merged.
void replaceWithCall(Operation *op, StringRef callee, ValueRange tensors,
                     ArrayRef<int64_t> merge, ArrayRef<int64_t> ints) {
  ModuleOp module = op->getParentOfType<ModuleOp>();
  OpBuilder b(op);
  Location loc = op->getLoc();
  Type resultType = op->getResult(0).getType();
  Value out = allocFor(b, loc, resultType);
  SmallVector<Value> args;
  SmallVector<int64_t> ranks;
  auto addView = [&](Value m, int64_t mg) {
    Value v = dynamicView(b, loc, m, mg);
    args.push_back(v);
    ranks.push_back(cast<MemRefType>(v.getType()).getRank());
  };
  for (auto [i, t] : llvm::enumerate(tensors))
    addView(bufferOf(b, loc, t), merge[i]);
  addView(out, merge.back());
  for (int64_t v : ints)
    args.push_back(arith::ConstantIntOp::create(b, loc, b.getI64Type(), v));
  func::FuncOp f = declareRuntime(module, callee, ranks, ints.size());
  func::CallOp::create(b, loc, f, args);
  op->getResult(0).replaceAllUsesWith(tensorOf(b, loc, resultType, out));
  op->erase();
}

SmallVector<int64_t> convInts(ArrayRef<int64_t> strides,
                              ArrayRef<int64_t> padding) {
  return {strides[0], strides[1], padding[0], padding[1]};
}

struct SNNToRuntimeCallsPass
    : mlir::snn::impl::SNNToRuntimeCallsPassBase<SNNToRuntimeCallsPass> {
  void runOnOperation() override {
    SmallVector<Operation *> ops;
    getOperation().walk([&](Operation *op) {
      if (isa<DenseOp, DenseGradInputOp, DenseGradWeightOp, Conv2dOp,
              Conv2dGradInputOp, Conv2dGradWeightOp>(op))
        ops.push_back(op);
    });
    for (Operation *op : ops) {
      if (auto d = dyn_cast<DenseOp>(op))
        replaceWithCall(op, "snnrt_matmul_nt", {d.getInput(), d.getWeight()},
                        {2, 1, 2}, {});
      else if (auto d = dyn_cast<DenseGradInputOp>(op))
        replaceWithCall(op, "snnrt_matmul_nn", {d.getDelta(), d.getWeight()},
                        {2, 1, 2}, {});
      else if (auto d = dyn_cast<DenseGradWeightOp>(op))
        replaceWithCall(op, "snnrt_matmul_tn", {d.getDelta(), d.getInput()},
                        {2, 2, 1}, {});
      else if (auto c = dyn_cast<Conv2dOp>(op))
        replaceWithCall(op, "snnrt_conv2d_forward",
                        {c.getInput(), c.getWeight()}, {2, 1, 2},
                        convInts(c.getStrides(), c.getPadding()));
      else if (auto c = dyn_cast<Conv2dGradInputOp>(op))
        replaceWithCall(op, "snnrt_conv2d_grad_input",
                        {c.getDelta(), c.getWeight()}, {2, 1, 2},
                        convInts(c.getStrides(), c.getPadding()));
      else if (auto c = dyn_cast<Conv2dGradWeightOp>(op))
        replaceWithCall(op, "snnrt_conv2d_grad_weight",
                        {c.getInput(), c.getDelta()}, {2, 2, 1},
                        convInts(c.getStrides(), c.getPadding()));
    }
  }
};

} // namespace
