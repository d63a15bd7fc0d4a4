//===- FactorInputEncoding.cpp - first synaptic layer once per sample -------===//
//
// snn.encode_current(x)[t] = k[t] x (NA_SPEC section 1), so for the linear
// dense and conv2d layers that consume it:
//   layer(encode_current(x))              -> encode_current(layer(x))
//   layer_grad_weight(encode_current(x), d) -> layer_grad_weight(x, sum_t k[t] d[t])
// where x and the reduced d are [1, B, ...] tensors.
//
//===----------------------------------------------------------------------===//
#include "compiler/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::snn {
#define GEN_PASS_DEF_FACTORINPUTENCODINGPASS
#include "compiler/Transforms/Passes.h.inc"
} // namespace mlir::snn

using namespace mlir;
using namespace mlir::snn;

namespace {

/// [T, B, ...] -> [B, ...] reassociation ({0, 1}, {2}, ...).
SmallVector<ReassociationIndices> leadingPair(int64_t rank) {
  SmallVector<ReassociationIndices> r{{0, 1}};
  for (int64_t i = 2; i < rank; ++i)
    r.push_back({i});
  return r;
}

/// `v` ([B, ...]) as a one-step [1, B, ...] tensor.
Value oneStep(OpBuilder &b, Location loc, Value v) {
  auto t = cast<RankedTensorType>(v.getType());
  SmallVector<int64_t> shape{1};
  llvm::append_range(shape, t.getShape());
  auto type = RankedTensorType::get(shape, t.getElementType());
  return tensor::ExpandShapeOp::create(b, loc, type, v,
                                       leadingPair(type.getRank()));
}

/// The one-step tensor `v` ([1, B, ...]) without its time axis.
Value dropStep(OpBuilder &b, Location loc, Value v) {
  auto t = cast<RankedTensorType>(v.getType());
  auto type = RankedTensorType::get(t.getShape().drop_front(),
                                    t.getElementType());
  return tensor::CollapseShapeOp::create(b, loc, type, v,
                                         leadingPair(t.getRank()));
}

/// The same type with T = 1.
RankedTensorType withOneStep(Type type) {
  auto t = cast<RankedTensorType>(type);
  SmallVector<int64_t> shape(t.getShape());
  shape[0] = 1;
  return RankedTensorType::get(shape, t.getElementType());
}

/// A pattern on `Op` whose input (operand 0) is an snn.encode_current.
template <typename Op>
struct OnEncodedInput : OpRewritePattern<Op> {
  using OpRewritePattern<Op>::OpRewritePattern;
  virtual void factor(Op op, EncodeCurrentOp enc, PatternRewriter &rw) const = 0;
  LogicalResult matchAndRewrite(Op op, PatternRewriter &rw) const final {
    auto enc = op.getInput().template getDefiningOp<EncodeCurrentOp>();
    if (!enc)
      return failure();
    factor(op, enc, rw);
    return success();
  }
};

/// layer(encode_current(x)) -> encode_current(layer(x)), for the forward
/// layers (input first, weight second).
template <typename LayerOp>
struct FactorForward : OnEncodedInput<LayerOp> {
  using OnEncodedInput<LayerOp>::OnEncodedInput;
  void factor(LayerOp op, EncodeCurrentOp enc,
              PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    Value x = oneStep(rw, loc, enc.getInput());
    auto once = cast<LayerOp>(rw.clone(*op));
    once->setOperand(0, x);
    once.getResult().setType(withOneStep(op.getType()));
    Value y = dropStep(rw, loc, once.getResult());
    rw.replaceOpWithNewOp<EncodeCurrentOp>(op, op.getType(), y,
                                           enc.getTauSAttr());
  }
};

/// layer_grad_weight(encode_current(x), d)
///   -> layer_grad_weight(x, encode_current_grad(d)), one step each.
template <typename GradOp>
struct FactorGradWeight : OnEncodedInput<GradOp> {
  using OnEncodedInput<GradOp>::OnEncodedInput;
  void factor(GradOp op, EncodeCurrentOp enc,
              PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    auto deltaType = cast<RankedTensorType>(op.getDelta().getType());
    auto reducedType = RankedTensorType::get(
        deltaType.getShape().drop_front(), deltaType.getElementType());
    Value reduced = EncodeCurrentGradOp::create(rw, loc, reducedType,
                                                op.getDelta(),
                                                enc.getTauSAttr());
    rw.modifyOpInPlace(op, [&] {
      op->setOperand(0, oneStep(rw, loc, enc.getInput()));
      op->setOperand(1, oneStep(rw, loc, reduced));
    });
  }
};

struct FactorInputEncodingPass
    : mlir::snn::impl::FactorInputEncodingPassBase<FactorInputEncodingPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FactorForward<DenseOp>, FactorForward<Conv2dOp>,
                 FactorGradWeight<DenseGradWeightOp>,
                 FactorGradWeight<Conv2dGradWeightOp>>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
