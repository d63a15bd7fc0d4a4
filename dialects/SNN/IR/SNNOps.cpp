//===- SNNOps.cpp - snn op verifiers and custom syntax ---------------------===//
#include "dialects/SNN/IR/SNNOps.h"

#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/STLExtras.h"

#include <cmath>
#include <cstdio>

using namespace mlir;
using namespace mlir::snn;

int64_t mlir::snn::convOutputSize(int64_t in, int64_t kernel, int64_t stride,
                                  int64_t pad) {
  if (ShapedType::isDynamic(in))
    return ShapedType::kDynamic;
  return (in + 2 * pad - kernel) / stride + 1;
}

//===----------------------------------------------------------------------===//
// Shared checks. Each names the operand or attribute it rejects.
//===----------------------------------------------------------------------===//
namespace {

bool dimsAgree(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

std::string shapeStr(RankedTensorType t) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << t;
  return s;
}

/// Floats in diagnostics as a person writes them (0.5, not 5.000000e-01).
std::string num(float v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", static_cast<double>(v));
  return buf;
}

LogicalResult checkTau(Operation *op, StringRef name, float v) {
  if (std::isinf(v))
    return op->emitOpError() << "attribute '" << name
                             << "' must be finite, got " << num(v);
  if (!(v >= 1.0f))
    return op->emitOpError() << "attribute '" << name
                             << "' must be >= 1 (a decay of 1 - 1/" << name
                             << " in [0, 1)), got " << num(v);
  return success();
}

LogicalResult checkPositive(Operation *op, StringRef name, float v) {
  if (std::isinf(v))
    return op->emitOpError() << "attribute '" << name
                             << "' must be finite, got " << num(v);
  if (!(v > 0.0f))
    return op->emitOpError() << "attribute '" << name << "' must be > 0, got "
                             << num(v);
  return success();
}

/// `[T, B, ...]` of the given rank (any rank >= 2 when rank < 0), T >= 1.
LogicalResult checkTimeMajor(Operation *op, StringRef what, Type type,
                             int64_t rank = -1) {
  auto t = cast<RankedTensorType>(type);
  if (rank >= 0 && t.getRank() != rank)
    return op->emitOpError() << "'" << what << "' must have rank " << rank
                             << " ([T, B, ...]), got " << shapeStr(t);
  if (t.getRank() < 2)
    return op->emitOpError() << "'" << what
                             << "' must have a time and a batch axis ([T, B, "
                                "...]), got "
                             << shapeStr(t);
  if (!t.isDynamicDim(0) && t.getDimSize(0) < 1)
    return op->emitOpError() << "'" << what
                             << "' must have at least one time step, got T = "
                             << t.getDimSize(0);
  return success();
}

/// The time and batch axes of two time-major tensors agree.
LogicalResult checkSameTimeBatch(Operation *op, StringRef whatA, Type a,
                                 StringRef whatB, Type b) {
  auto ta = cast<RankedTensorType>(a), tb = cast<RankedTensorType>(b);
  if (!dimsAgree(ta.getDimSize(0), tb.getDimSize(0)))
    return op->emitOpError() << "time axes disagree: '" << whatA << "' has T = "
                             << ta.getDimSize(0) << ", '" << whatB
                             << "' has T = " << tb.getDimSize(0);
  if (!dimsAgree(ta.getDimSize(1), tb.getDimSize(1)))
    return op->emitOpError() << "batch axes disagree: '" << whatA
                             << "' has B = " << ta.getDimSize(1) << ", '"
                             << whatB << "' has B = " << tb.getDimSize(1);
  return success();
}

/// `type` has exactly `expected` (dynamic entries match anything).
LogicalResult checkShape(Operation *op, StringRef what, Type type,
                         ArrayRef<int64_t> expected) {
  auto t = cast<RankedTensorType>(type);
  bool ok = t.getRank() == static_cast<int64_t>(expected.size());
  for (int64_t i = 0; ok && i < t.getRank(); ++i)
    ok = dimsAgree(t.getDimSize(i), expected[i]);
  if (ok)
    return success();
  auto diag = op->emitOpError() << "'" << what << "' has shape "
                                << shapeStr(t) << " but the op implies [";
  llvm::interleave(
      expected, diag,
      [&](int64_t d) {
        if (ShapedType::isDynamic(d))
          diag << "?";
        else
          diag << d;
      },
      ", ");
  return diag << "]";
}

LogicalResult checkPair(Operation *op, StringRef name, ArrayRef<int64_t> v,
                        int64_t min) {
  if (v.size() != 2)
    return op->emitOpError() << "attribute '" << name
                             << "' must have 2 entries [h, w], got "
                             << v.size();
  if (v[0] < min || v[1] < min)
    return op->emitOpError() << "attribute '" << name << "' entries must be >= "
                             << min << ", got [" << v[0] << ", " << v[1]
                             << "]";
  return success();
}

LogicalResult checkConvAttrs(Operation *op, ArrayRef<int64_t> strides,
                             ArrayRef<int64_t> padding) {
  if (failed(checkPair(op, "strides", strides, 1)) ||
      failed(checkPair(op, "padding", padding, 0)))
    return failure();
  return success();
}

/// The output shape `[T, B, O, OH, OW]` of a convolution.
SmallVector<int64_t> convResultShape(RankedTensorType input,
                                     RankedTensorType weight,
                                     ArrayRef<int64_t> strides,
                                     ArrayRef<int64_t> padding) {
  return {input.getDimSize(0), input.getDimSize(1), weight.getDimSize(0),
          convOutputSize(input.getDimSize(3), weight.getDimSize(2), strides[0],
                         padding[0]),
          convOutputSize(input.getDimSize(4), weight.getDimSize(3), strides[1],
                         padding[1])};
}

SmallVector<int64_t> poolResultShape(RankedTensorType input,
                                     ArrayRef<int64_t> kernel) {
  auto div = [](int64_t d, int64_t k) {
    return ShapedType::isDynamic(d) ? d : d / k;
  };
  return {input.getDimSize(0), input.getDimSize(1), input.getDimSize(2),
          div(input.getDimSize(3), kernel[0]),
          div(input.getDimSize(4), kernel[1])};
}

LogicalResult checkConvOperands(Operation *op, StringRef inputName,
                                RankedTensorType input,
                                RankedTensorType weight) {
  if (failed(checkTimeMajor(op, inputName, input, 5)))
    return failure();
  if (!dimsAgree(input.getDimSize(2), weight.getDimSize(1)))
    return op->emitOpError()
           << "channels disagree: '" << inputName << "' has C = "
           << input.getDimSize(2) << ", 'weight' expects C = "
           << weight.getDimSize(1);
  return success();
}

} // namespace

//===----------------------------------------------------------------------===//
// Encoding, neurons, scans
//===----------------------------------------------------------------------===//

LogicalResult EncodeCurrentOp::verify() {
  if (failed(checkTau(*this, "tau_s", getTauS().convertToFloat())) ||
      failed(checkTimeMajor(*this, "result", getType())))
    return failure();
  auto in = getInput().getType();
  auto out = getType();
  if (out.getRank() != in.getRank() + 1)
    return emitOpError() << "'result' must be the input with a leading time "
                            "axis (rank "
                         << in.getRank() + 1 << "), got " << shapeStr(out);
  SmallVector<int64_t> expected{out.getDimSize(0)};
  llvm::append_range(expected, in.getShape());
  return checkShape(*this, "result", out, expected);
}

LogicalResult EncodeCurrentGradOp::verify() {
  if (failed(checkTau(*this, "tau_s", getTauS().convertToFloat())) ||
      failed(checkTimeMajor(*this, "grad", getGrad().getType())))
    return failure();
  return checkShape(*this, "result", getType(),
                    getGrad().getType().getShape().drop_front());
}

LogicalResult EncodeEventsOp::verify() {
  if (failed(checkTau(*this, "tau_s", getTauS().convertToFloat())))
    return failure();
  return checkTimeMajor(*this, "input", getInput().getType());
}

LogicalResult NeuronOp::verify() {
  return checkTimeMajor(*this, "input", getInput().getType());
}

LogicalResult PSCOp::verify() {
  if (failed(checkTau(*this, "tau_s", getTauS().convertToFloat())))
    return failure();
  return checkTimeMajor(*this, "input", getInput().getType());
}

LogicalResult PSCErrorScanOp::verify() {
  if (failed(checkTau(*this, "tau_s", getTauS().convertToFloat())))
    return failure();
  return checkTimeMajor(*this, "grad", getGrad().getType());
}

LogicalResult NABackwardOp::verify() {
  if (failed(checkTau(*this, "tau_s", getTauS().convertToFloat())) ||
      failed(checkPositive(*this, "clip", getClip().convertToFloat())))
    return failure();
  if (getSelection().empty())
    return emitOpError() << "attribute 'selection' must name a "
                            "neighborhood-selection strategy (e.g. \"sns\")";
  return checkTimeMajor(*this, "error", getError().getType());
}

LogicalResult STBPBackwardOp::verify() {
  if (failed(checkTau(*this, "tau_s", getTauS().convertToFloat())) ||
      failed(checkPositive(*this, "width", getWidth().convertToFloat())) ||
      failed(checkPositive(*this, "scale", getScale().convertToFloat())) ||
      failed(checkPositive(*this, "temperature",
                           getTemperature().convertToFloat())))
    return failure();
  return checkTimeMajor(*this, "grad", getGrad().getType());
}

//===----------------------------------------------------------------------===//
// Synaptic layers and their backward
//===----------------------------------------------------------------------===//

LogicalResult BiasAddOp::verify() {
  auto in = getInput().getType();
  if (failed(checkTau(*this, "tau_s", getTauS().convertToFloat())) ||
      failed(checkTimeMajor(*this, "input", in)))
    return failure();
  if (in.getRank() < 3)
    return emitOpError() << "'input' must have a channel axis ([T, B, O, "
                            "...]), got "
                         << shapeStr(in);
  return checkShape(*this, "bias", getBias().getType(), {in.getDimSize(2)});
}

LogicalResult BiasGradOp::verify() {
  auto d = getDelta().getType();
  if (failed(checkTau(*this, "tau_s", getTauS().convertToFloat())) ||
      failed(checkTimeMajor(*this, "delta", d)))
    return failure();
  if (d.getRank() < 3)
    return emitOpError() << "'delta' must have a channel axis ([T, B, O, "
                            "...]), got "
                         << shapeStr(d);
  return checkShape(*this, "result", getType(), {d.getDimSize(2)});
}

LogicalResult DenseOp::verify() {
  auto in = getInput().getType();
  auto w = getWeight().getType();
  if (failed(checkTimeMajor(*this, "input", in, 3)))
    return failure();
  if (!dimsAgree(in.getDimSize(2), w.getDimSize(1)))
    return emitOpError() << "features disagree: 'input' has "
                         << in.getDimSize(2) << ", 'weight' expects "
                         << w.getDimSize(1);
  return checkShape(*this, "result", getType(),
                    {in.getDimSize(0), in.getDimSize(1), w.getDimSize(0)});
}

LogicalResult DenseGradInputOp::verify() {
  auto delta = getDelta().getType();
  auto w = getWeight().getType();
  if (failed(checkTimeMajor(*this, "delta", delta, 3)))
    return failure();
  if (!dimsAgree(delta.getDimSize(2), w.getDimSize(0)))
    return emitOpError() << "features disagree: 'delta' has "
                         << delta.getDimSize(2) << ", 'weight' has "
                         << w.getDimSize(0) << " outputs";
  return checkShape(
      *this, "result", getType(),
      {delta.getDimSize(0), delta.getDimSize(1), w.getDimSize(1)});
}

LogicalResult DenseGradWeightOp::verify() {
  auto in = getInput().getType();
  auto delta = getDelta().getType();
  if (failed(checkTimeMajor(*this, "input", in, 3)) ||
      failed(checkTimeMajor(*this, "delta", delta, 3)) ||
      failed(checkSameTimeBatch(*this, "input", in, "delta", delta)))
    return failure();
  return checkShape(*this, "result", getType(),
                    {delta.getDimSize(2), in.getDimSize(2)});
}

LogicalResult Conv2dOp::verify() {
  auto in = getInput().getType();
  auto w = getWeight().getType();
  if (failed(checkConvAttrs(*this, getStrides(), getPadding())) ||
      failed(checkConvOperands(*this, "input", in, w)))
    return failure();
  return checkShape(*this, "result", getType(),
                    convResultShape(in, w, getStrides(), getPadding()));
}

LogicalResult Conv2dGradInputOp::verify() {
  auto delta = getDelta().getType();
  auto w = getWeight().getType();
  auto out = getType();
  if (failed(checkConvAttrs(*this, getStrides(), getPadding())) ||
      failed(checkTimeMajor(*this, "delta", delta, 5)) ||
      failed(checkConvOperands(*this, "result", out, w)))
    return failure();
  if (!dimsAgree(delta.getDimSize(2), w.getDimSize(0)))
    return emitOpError() << "channels disagree: 'delta' has "
                         << delta.getDimSize(2) << ", 'weight' has "
                         << w.getDimSize(0) << " outputs";
  return checkShape(*this, "delta", delta,
                    convResultShape(out, w, getStrides(), getPadding()));
}

LogicalResult Conv2dGradWeightOp::verify() {
  auto in = getInput().getType();
  auto delta = getDelta().getType();
  auto w = getType();
  if (failed(checkConvAttrs(*this, getStrides(), getPadding())) ||
      failed(checkTimeMajor(*this, "delta", delta, 5)) ||
      failed(checkConvOperands(*this, "input", in, w)) ||
      failed(checkSameTimeBatch(*this, "input", in, "delta", delta)))
    return failure();
  if (!dimsAgree(delta.getDimSize(2), w.getDimSize(0)))
    return emitOpError() << "channels disagree: 'delta' has "
                         << delta.getDimSize(2) << ", 'result' has "
                         << w.getDimSize(0) << " outputs";
  return checkShape(*this, "delta", delta,
                    convResultShape(in, w, getStrides(), getPadding()));
}

LogicalResult PoolOp::verify() {
  if (failed(checkPair(*this, "kernel", getKernel(), 1)) ||
      failed(checkPositive(*this, "scale", getScale().convertToFloat())) ||
      failed(checkTimeMajor(*this, "input", getInput().getType(), 5)))
    return failure();
  return checkShape(*this, "result", getType(),
                    poolResultShape(getInput().getType(), getKernel()));
}

LogicalResult PoolGradOp::verify() {
  if (failed(checkPair(*this, "kernel", getKernel(), 1)) ||
      failed(checkPositive(*this, "scale", getScale().convertToFloat())) ||
      failed(checkTimeMajor(*this, "result", getType(), 5)))
    return failure();
  return checkShape(*this, "grad", getGrad().getType(),
                    poolResultShape(getType(), getKernel()));
}

LogicalResult FlattenOp::verify() {
  auto in = getInput().getType();
  if (failed(checkTimeMajor(*this, "input", in)) ||
      failed(checkTimeMajor(*this, "result", getType(), 3)))
    return failure();
  int64_t n = 1;
  for (int64_t d : in.getShape().drop_front(2))
    n = (ShapedType::isDynamic(d) || ShapedType::isDynamic(n))
            ? ShapedType::kDynamic
            : n * d;
  return checkShape(*this, "result", getType(),
                    {in.getDimSize(0), in.getDimSize(1), n});
}

LogicalResult DropoutOp::verify() {
  float rate = getRate().convertToFloat();
  if (!(rate >= 0.0f && rate < 1.0f))
    return emitOpError() << "attribute 'rate' must be in [0, 1), got "
                         << num(rate);
  if (failed(checkTimeMajor(*this, "input", getInput().getType())))
    return failure();
  return checkShape(*this, "mask", getMask().getType(),
                    getInput().getType().getShape().drop_front());
}

LogicalResult DropoutGradOp::verify() {
  if (failed(checkTimeMajor(*this, "grad", getGrad().getType())))
    return failure();
  return checkShape(*this, "mask", getMask().getType(),
                    getGrad().getType().getShape().drop_front());
}

//===----------------------------------------------------------------------===//
// Targets and losses
//===----------------------------------------------------------------------===//

LogicalResult TargetSpikesOp::verify() {
  if (failed(checkTimeMajor(*this, "result", getType(), 3)))
    return failure();
  int64_t batch = getLabels().getType().getDimSize(0);
  if (!dimsAgree(batch, getType().getDimSize(1)))
    return emitOpError() << "batch axes disagree: 'labels' has B = " << batch
                         << ", 'result' has B = " << getType().getDimSize(1);
  return success();
}

LogicalResult VanRossumLossOp::verify() {
  if (failed(checkTau(*this, "tau_s", getTauS().convertToFloat())))
    return failure();
  return checkTimeMajor(*this, "output", getOutput().getType());
}

LogicalResult CrossEntropyLossOp::verify() {
  auto t = getOutput().getType();
  if (t.getRank() != 3)
    return emitOpError() << "output must be [T, B, classes], got " << t;
  if (getLabels().getType().getDimSize(0) != t.getDimSize(1))
    return emitOpError() << "has " << getLabels().getType().getDimSize(0)
                         << " labels for a batch of " << t.getDimSize(1);
  return success();
}

LogicalResult SpikeCountLossOp::verify() {
  return checkTimeMajor(*this, "output", getOutput().getType());
}

namespace {
/// [T, B, C, ...] with every per-channel operand of shape [C].
LogicalResult verifyPerChannel(Operation *op, Type activation,
                               ArrayRef<std::pair<StringRef, Type>> channels) {
  auto t = cast<RankedTensorType>(activation);
  if (t.getRank() < 3)
    return op->emitOpError() << "input must be [T, B, C, ...], got rank "
                             << t.getRank();
  for (auto [name, type] : channels) {
    auto c = cast<RankedTensorType>(type);
    if (c.getRank() != 1 || c.getDimSize(0) != t.getDimSize(2))
      return op->emitOpError() << "'" << name << "' must have shape ["
                               << t.getDimSize(2) << "] (one per channel), got "
                               << c;
  }
  return success();
}
} // namespace

LogicalResult BatchNormOp::verify() {
  if (failed(checkPositive(*this, "eps", getEps().convertToFloat())))
    return failure();
  float m = getMomentum().convertToFloat();
  if (!(m >= 0.0f && m <= 1.0f))
    return emitOpError() << "attribute 'momentum' must be in [0, 1], got "
                         << num(m);
  if (getUpdates() < 0)
    return emitOpError() << "attribute 'updates' must be >= 0, got "
                         << getUpdates();
  if (getResult().getType() != getInput().getType())
    return emitOpError("result must have the input's type");
  return verifyPerChannel(
      *this, getInput().getType(),
      {{"gamma", getGamma().getType()},
       {"beta", getBeta().getType()},
       {"running_mean", getRunningMean().getType()},
       {"running_var", getRunningVar().getType()},
       {"new_mean", getNewMean().getType()},
       {"new_var", getNewVar().getType()},
       {"mean", getMean().getType()},
       {"inv_std", getInvStd().getType()}});
}

LogicalResult BatchNormGradOp::verify() {
  if (getGrad().getType() != getInput().getType() ||
      getGradInput().getType() != getInput().getType())
    return emitOpError("grad, input and grad_input must have one type");
  return verifyPerChannel(*this, getInput().getType(),
                          {{"gamma", getGamma().getType()},
                           {"mean", getMean().getType()},
                           {"inv_std", getInvStd().getType()},
                           {"grad_gamma", getGradGamma().getType()},
                           {"grad_beta", getGradBeta().getType()}});
}

LogicalResult SpectralNormOp::verify() {
  auto w = getWeight().getType();
  if (w.getRank() != 2 && w.getRank() != 4)
    return emitOpError() << "the weight must be [out, in] or a kernel "
                            "[out, in, kh, kw], got "
                         << w;
  if (getG().getType().getDimSize(0) != 1)
    return emitOpError("'g' must be one value, tensor<1xf32>");
  int64_t rest = w.getNumElements() / w.getDimSize(0);
  if (getU().getType().getDimSize(0) != w.getDimSize(0) ||
      getV().getType().getDimSize(0) != rest)
    return emitOpError() << "'u' and 'v' must have " << w.getDimSize(0)
                         << " and " << rest
                         << " values (the weight matrix's rows and columns)";
  return success();
}

/// A feedback weight for N neurons: [N, N], or a kernel [C, C, KH, KW] with
/// odd KH, KW and `image` = [C, H, W], C*H*W = N.
static LogicalResult verifyFeedbackWeight(Operation *op, int64_t n,
                                          RankedTensorType w,
                                          std::optional<ArrayRef<int64_t>> image) {
  if (!image) {
    if (w.getRank() != 2 || w.getDimSize(0) != n || w.getDimSize(1) != n)
      return op->emitOpError() << "the feedback weight must be [" << n << ", "
                               << n << "], got " << w;
    return success();
  }
  if (image->size() != 3 || (*image)[0] * (*image)[1] * (*image)[2] != n)
    return op->emitOpError() << "'image' must be [C, H, W] with C*H*W = " << n;
  int64_t ch = (*image)[0];
  if (w.getRank() != 4 || w.getDimSize(0) != ch || w.getDimSize(1) != ch ||
      w.getDimSize(2) % 2 == 0 || w.getDimSize(3) % 2 == 0)
    return op->emitOpError() << "a convolutional feedback weight must be ["
                             << ch << ", " << ch
                             << ", KH, KW] with odd KH and KW, got " << w;
  return success();
}

/// The attributes every feedback module has (snn.feedback,
/// snn.feedback_ring): steps, V, leak, dropout rate, the solver's limits.
template <class Op> static LogicalResult verifyModuleAttrs(Op op) {
  if (op.getSteps() < 1)
    return op.emitOpError() << "attribute 'steps' must be >= 1, got "
                            << op.getSteps();
  if (failed(checkPositive(op, "threshold", op.getThreshold().convertToFloat())))
    return failure();
  float leak = op.getLeak().convertToFloat();
  if (!(leak > 0.0f && leak <= 1.0f))
    return op.emitOpError() << "attribute 'leak' must be in (0, 1] (1: IF), got "
                            << num(leak);
  float rate = op.getRate().convertToFloat();
  if (!(rate >= 0.0f && rate < 1.0f))
    return op.emitOpError() << "attribute 'rate' must be in [0, 1), got "
                            << num(rate);
  if (op.getMaxIterations() < 1)
    return op.emitOpError() << "attribute 'max_iterations' must be >= 1, got "
                            << op.getMaxIterations();
  return checkPositive(op, "tolerance", op.getTolerance().convertToFloat());
}

LogicalResult FeedbackOp::verify() {
  auto c = getInput().getType();
  auto w = getWeight().getType();
  if (c.getRank() != 3 || c.getDimSize(0) != 1)
    return emitOpError() << "input must be a constant current [1, B, N], got "
                         << c;
  int64_t n = c.getDimSize(2);
  if (failed(verifyFeedbackWeight(*this, n, w, getImage())))
    return failure();
  auto m = getMask().getType();
  if (m.getDimSize(0) != c.getDimSize(1) || m.getDimSize(1) != n)
    return emitOpError() << "the mask must be [" << c.getDimSize(1) << ", "
                         << n << "], got " << m;
  return verifyModuleAttrs(*this);
}

LogicalResult FeedbackGradOp::verify() {
  return verifyFeedbackWeight(*this, getGrad().getType().getDimSize(2),
                              getWeight().getType(), getImage());
}

/// The [C, H, W] of each layer of a ring on `image` (layer 0) with the
/// kernels `weights` ([C_l, C_{l-1}, K, K], padding (K-1)/2) and `strides`;
/// empty with a diagnostic when they do not fit.
static SmallVector<SmallVector<int64_t, 3>>
ringImages(Operation *op, ArrayRef<int64_t> image, ValueRange weights,
           ArrayRef<int64_t> strides, RankedTensorType feedback,
           bool diagnose) {
  auto fail = [&](const Twine &msg) {
    if (diagnose)
      op->emitOpError() << msg;
    return SmallVector<SmallVector<int64_t, 3>>{};
  };
  if (image.size() != 3 || image[0] < 1 || image[1] < 1 || image[2] < 1)
    return fail("'image' must be [C, H, W] of layer 0");
  if (weights.empty())
    return fail("a ring needs at least one connection between layers (two "
                "layers); a single layer is snn.feedback");
  if (strides.size() != weights.size())
    return fail("'strides' must have one stride per connection (" +
                Twine(weights.size()) + "), got " + Twine(strides.size()));
  SmallVector<SmallVector<int64_t, 3>> images{{image[0], image[1], image[2]}};
  int64_t total = 1;
  for (auto [l, w] : llvm::enumerate(weights)) {
    auto t = cast<RankedTensorType>(w.getType());
    const auto &prev = images.back();
    int64_t k = t.getDimSize(2), s = strides[l];
    if (t.getDimSize(1) != prev[0] || k % 2 == 0 || t.getDimSize(3) != k)
      return fail("connection " + Twine(l + 1) + ": the kernel must be [C, " +
                  Twine(prev[0]) + ", K, K] with odd K");
    if (s < 1)
      return fail("connection " + Twine(l + 1) + ": stride must be >= 1");
    int64_t pad = (k - 1) / 2;
    images.push_back({t.getDimSize(0), (prev[1] + 2 * pad - k) / s + 1,
                      (prev[2] + 2 * pad - k) / s + 1});
    total *= s;
  }
  const auto &last = images.back();
  int64_t k = feedback.getDimSize(2), pad = (k - 1) / 2;
  if (feedback.getDimSize(0) != last[0] || feedback.getDimSize(1) != image[0] ||
      k % 2 == 0 || feedback.getDimSize(3) != k)
    return fail("the feedback kernel must be [" + Twine(last[0]) + ", " +
                Twine(image[0]) + ", K, K] with odd K (a transposed "
                "convolution from the last layer to layer 0)");
  for (int d = 1; d < 3; ++d) {
    int64_t outPad = image[d] - ((last[d] - 1) * total - 2 * pad + k);
    if ((image[d] + 2 * pad - k) / total + 1 != last[d] || outPad < 0 ||
        outPad >= total)
      return fail("the transposed convolution (stride " + Twine(total) +
                  ", padding " + Twine(pad) + ") cannot map the last layer's " +
                  Twine(last[1]) + "x" + Twine(last[2]) + " back to " +
                  Twine(image[1]) + "x" + Twine(image[2]));
  }
  return images;
}

SmallVector<int64_t, 3> FeedbackRingOp::layerImage(unsigned l) {
  return ringImages(*this, getImage(), getWeights(), getStrides(),
                    getFeedback().getType(), false)[l];
}

/// The per-connection operands of a ring: one per connection, of C_l.
static LogicalResult
verifyRingParams(Operation *op, ArrayRef<SmallVector<int64_t, 3>> images,
                 ArrayRef<std::pair<StringRef, ValueRange>> groups) {
  for (auto [name, values] : groups) {
    if (values.size() != images.size() - 1)
      return op->emitOpError() << "needs one '" << name << "' per connection ("
                               << images.size() - 1 << "), got "
                               << values.size();
    for (auto [l, v] : llvm::enumerate(values))
      if (cast<RankedTensorType>(v.getType()).getDimSize(0) != images[l + 1][0])
        return op->emitOpError() << "'" << name << "' of connection " << l + 1
                                 << " must have " << images[l + 1][0]
                                 << " values";
  }
  return success();
}

LogicalResult FeedbackRingOp::verify() {
  auto images = ringImages(*this, getImage(), getWeights(), getStrides(),
                           getFeedback().getType(), true);
  if (images.empty())
    return failure();
  auto c = getInput().getType();
  const auto &i0 = images.front(), &il = images.back();
  int64_t batch = c.getDimSize(1);
  if (c.getRank() != 3 || c.getDimSize(0) != 1 ||
      c.getDimSize(2) != i0[0] * i0[1] * i0[2])
    return emitOpError() << "input must be a constant current [1, B, "
                         << i0[0] * i0[1] * i0[2] << "], got " << c;
  if (failed(verifyRingParams(*this, images,
                              {{"biases", getBiases()},
                               {"gammas", getGammas()},
                               {"betas", getBetas()},
                               {"running_means", getRunningMeans()},
                               {"running_vars", getRunningVars()},
                               {"new_means", getNewMeans()},
                               {"new_vars", getNewVars()}})))
    return failure();
  auto r = getRates().getType();
  if (r.getRank() != 3 || r.getDimSize(0) != 1 || r.getDimSize(1) != batch ||
      r.getDimSize(2) != il[0] * il[1] * il[2])
    return emitOpError() << "rates must be [1, " << batch << ", "
                         << il[0] * il[1] * il[2] << "], got " << r;
  if (getMasks().size() != images.size())
    return emitOpError() << "needs one mask per connection (" << images.size()
                         << ")";
  for (auto [l, m] : llvm::enumerate(getMasks())) {
    auto t = cast<RankedTensorType>(m.getType());
    const auto &im = images[l];
    if (t.getDimSize(0) != batch || t.getDimSize(1) != im[0] * im[1] * im[2])
      return emitOpError() << "mask " << l << " must be [" << batch << ", "
                           << im[0] * im[1] * im[2] << "], got " << t;
  }
  return verifyModuleAttrs(*this);
}

LogicalResult FeedbackRingGradOp::verify() {
  auto images = ringImages(*this, getImage(), getWeights(), getStrides(),
                           getFeedback().getType(), true);
  if (images.empty())
    return failure();
  if (getMasks().size() != images.size())
    return emitOpError() << "needs one mask per connection (" << images.size()
                         << ")";
  return verifyRingParams(*this, images,
                          {{"biases", getBiases()},
                           {"gammas", getGammas()},
                           {"betas", getBetas()},
                           {"running_means", getRunningMeans()},
                           {"running_vars", getRunningVars()},
                           {"grad_weights", getGradWeights()},
                           {"grad_biases", getGradBiases()},
                           {"grad_gammas", getGradGammas()},
                           {"grad_betas", getGradBetas()}});
}

//===----------------------------------------------------------------------===//
// Optimizer
//===----------------------------------------------------------------------===//

namespace {
/// The ops over all gradients: `%g0, %g1 {attrs} : type0, type1`, one
/// result per gradient of its type (then `extra` results), the same types
/// checked by the verifier.
ParseResult parseGradientList(OpAsmParser &parser, OperationState &result,
                              ArrayRef<Type> extra) {
  SmallVector<OpAsmParser::UnresolvedOperand> grads;
  SmallVector<Type> types;
  llvm::SMLoc loc = parser.getCurrentLocation();
  if (parser.parseOperandList(grads) ||
      parser.parseOptionalAttrDict(result.attributes) || parser.parseColon() ||
      parser.parseTypeList(types) ||
      parser.resolveOperands(grads, types, loc, result.operands))
    return failure();
  result.addTypes(types);
  result.addTypes(extra);
  return success();
}

void printGradientList(OpAsmPrinter &p, Operation *op, OperandRange grads) {
  p << " " << grads;
  p.printOptionalAttrDict(op->getAttrs());
  p << " : " << grads.getTypes();
}

LogicalResult verifyGradientResults(Operation *op, OperandRange grads,
                                    ResultRange results, StringRef what) {
  if (grads.size() != results.size())
    return op->emitOpError() << "has " << grads.size() << " gradients but "
                             << results.size() << " " << what << " results";
  for (auto [i, g, r] : llvm::enumerate(grads.getTypes(), results.getTypes()))
    if (g != r)
      return op->emitOpError() << what << " result #" << i << " has type "
                               << r << " but gradient #" << i << " has type "
                               << g;
  return success();
}
} // namespace

LogicalResult GradAllReduceOp::verify() {
  if (getReduction() != "sum" && getReduction() != "mean")
    return emitOpError() << "attribute 'reduction' must be \"sum\" or "
                            "\"mean\", got \"" << getReduction() << "\"";
  return verifyGradientResults(*this, getGrads(), getReduced(), "reduced");
}

ParseResult GradAllReduceOp::parse(OpAsmParser &parser,
                                   OperationState &result) {
  return parseGradientList(parser, result, {});
}

void GradAllReduceOp::print(OpAsmPrinter &p) {
  printGradientList(p, *this, getGrads());
}

LogicalResult ClipGradNormOp::verify() {
  if (failed(checkPositive(*this, "max_norm", getMaxNorm().convertToFloat())))
    return failure();
  return verifyGradientResults(*this, getGrads(), getClipped(), "clipped");
}

ParseResult ClipGradNormOp::parse(OpAsmParser &parser, OperationState &result) {
  return parseGradientList(parser, result,
                           {parser.getBuilder().getF32Type()});
}

void ClipGradNormOp::print(OpAsmPrinter &p) {
  printGradientList(p, *this, getGrads());
}

namespace {
template <typename Op> LogicalResult verifyAdam(Op op) {
  for (auto [name, v] :
       {std::pair<StringRef, float>{"beta1", op.getBeta1().convertToFloat()},
        {"beta2", op.getBeta2().convertToFloat()}})
    if (!(v >= 0.0f && v < 1.0f))
      return op.emitOpError() << "attribute '" << name
                              << "' must be in [0, 1), got " << num(v);
  if (failed(checkPositive(op, "eps", op.getEps().convertToFloat())))
    return failure();
  float wd = op.getWeightDecay().convertToFloat();
  if (!(wd >= 0.0f) || std::isinf(wd))
    return op.emitOpError() << "attribute 'weight_decay' must be finite and "
                               ">= 0, got "
                            << num(wd);
  return success();
}
} // namespace

LogicalResult AdamWOp::verify() { return verifyAdam(*this); }
LogicalResult AdamOp::verify() { return verifyAdam(*this); }

LogicalResult SGDOp::verify() {
  for (auto [name, v] :
       {std::pair<StringRef, float>{"momentum", getMomentum().convertToFloat()},
        {"weight_decay", getWeightDecay().convertToFloat()}})
    if (!(v >= 0.0f) || std::isinf(v))
      return emitOpError() << "attribute '" << name
                           << "' must be finite and >= 0, got " << num(v);
  if (getNesterov() && !(getMomentum().convertToFloat() > 0.0f))
    return emitOpError() << "Nesterov momentum needs 'momentum' > 0";
  return success();
}

//===----------------------------------------------------------------------===//
// Time loop
//===----------------------------------------------------------------------===//

int64_t TimeLoopOp::getNumTimeSteps() {
  if (!getInputs().empty())
    return cast<RankedTensorType>(getInputs().front().getType()).getDimSize(0);
  return cast<RankedTensorType>(getOutputs().front().getType()).getDimSize(0);
}

LogicalResult TimeLoopOp::verify() {
  if (getOutputs().empty())
    return emitOpError() << "must have at least one stacked result";
  int64_t steps = getNumTimeSteps();
  auto checkT = [&](StringRef what, unsigned i, Type t) -> LogicalResult {
    if (failed(checkTimeMajor(*this, what, t)))
      return failure();
    int64_t ti = cast<RankedTensorType>(t).getDimSize(0);
    if (!dimsAgree(ti, steps))
      return emitOpError() << "time axes disagree: " << what << " #" << i
                           << " has T = " << ti << ", the loop runs T = "
                           << steps;
    return success();
  };
  for (auto [i, v] : llvm::enumerate(getInputs()))
    if (failed(checkT("input", i, v.getType())))
      return failure();
  for (auto [i, v] : llvm::enumerate(getOutputs()))
    if (failed(checkT("result", i, v.getType())))
      return failure();
  return success();
}

LogicalResult TimeLoopOp::verifyRegions() {
  Block &body = getBody().front();
  size_t nIn = getInputs().size(), nState = getInits().size(),
         nOut = getOutputs().size();
  if (body.getNumArguments() != 1 + nIn + nState)
    return emitOpError() << "body must take (t, " << nIn << " input slices, "
                         << nState << " state values), got "
                         << body.getNumArguments() << " arguments";
  if (!body.getArgument(0).getType().isIndex())
    return emitOpError() << "body argument #0 (t) must be index";
  auto slice = [](Type t) {
    auto r = cast<RankedTensorType>(t);
    return RankedTensorType::get(r.getShape().drop_front(),
                                 r.getElementType());
  };
  for (auto [i, v] : llvm::enumerate(getInputs()))
    if (body.getArgument(1 + i).getType() != slice(v.getType()))
      return emitOpError() << "body argument #" << 1 + i << " must be "
                           << slice(v.getType()) << " (one step of input #"
                           << i << ")";
  for (auto [i, v] : llvm::enumerate(getInits()))
    if (body.getArgument(1 + nIn + i).getType() != v.getType())
      return emitOpError() << "body argument #" << 1 + nIn + i
                           << " must match init #" << i << " ("
                           << v.getType() << ")";
  auto yield = dyn_cast<YieldOp>(body.getTerminator());
  if (!yield)
    return emitOpError() << "body must end with snn.yield";
  if (yield.getValues().size() != nOut + nState)
    return yield.emitOpError()
           << "must yield " << nOut << " step outputs and " << nState
           << " state values, got " << yield.getValues().size();
  for (auto [i, v] : llvm::enumerate(getOutputs()))
    if (yield.getValues()[i].getType() != slice(v.getType()))
      return yield.emitOpError() << "value #" << i << " must be "
                                 << slice(v.getType()) << " (one step of result #"
                                 << i << ")";
  for (auto [i, v] : llvm::enumerate(getInits()))
    if (yield.getValues()[nOut + i].getType() != v.getType())
      return yield.emitOpError() << "state value #" << i << " must be "
                                 << v.getType();
  return success();
}

#define GET_OP_CLASSES
#include "dialects/SNN/IR/SNNOps.cpp.inc"
#include "dialects/SNN/IR/SNNInterfaces.cpp.inc"
