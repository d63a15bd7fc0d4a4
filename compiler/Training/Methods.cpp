//===- Methods.cpp - NA, STBP and the gradient rules of the forward ops ----===//
#include "compiler/Training/Methods.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/DenseMap.h"

#include <deque>
#include <mutex>

using namespace mlir;
using namespace mlir::snn;

//===----------------------------------------------------------------------===//
// Methods
//===----------------------------------------------------------------------===//

namespace {

/// NA (NA_SPEC section 3): the eq. (7) scan, then snn.na_backward, which a
/// strategy in the neighborhood slot lowers.
Value naBackward(OpBuilder &b, Location loc, NeuronOp neuron, PSCOp psc,
                 Value g, const MethodOptions &o) {
  auto e = PSCErrorScanOp::create(b, loc, g.getType(), g, psc.getTauSAttr());
  return NABackwardOp::create(b, loc, g.getType(), e, neuron.getInput(),
                              neuron.getPotential(), neuron.getSpikes(),
                              neuron.getModelAttr(), psc.getTauSAttr(),
                              b.getF32FloatAttr(o.naClip),
                              b.getStringAttr(o.selection));
}

/// STBP (Wu et al.): BPTT with a surrogate of the spike's derivative.
Value stbpBackward(OpBuilder &b, Location loc, NeuronOp neuron, PSCOp psc,
                   Value g, const MethodOptions &o) {
  return STBPBackwardOp::create(
      b, loc, g.getType(), g, neuron.getPotential(), neuron.getSpikes(),
      neuron.getModelAttr(), psc.getTauSAttr(),
      SurrogateAttr::get(b.getContext(), o.surrogate),
      b.getF32FloatAttr(o.width), b.getF32FloatAttr(o.scale),
      b.getF32FloatAttr(o.temperature),
      o.detachReset ? b.getUnitAttr() : UnitAttr());
}

struct Registry {
  std::mutex mutex;
  // A deque: pointers that lookupTrainingMethod returned stay valid when a
  // plugin registers another method.
  std::deque<TrainingMethod> methods;
  Registry() {
    methods.push_back({"na", "Neighborhood Aggregation (NA_SPEC section 3)",
                       "train_step", naBackward});
    methods.push_back({"stbp",
                       "STBP: backpropagation through time with a surrogate "
                       "gradient",
                       "train_step_stbp", stbpBackward});
    // IDE (IDE_SPEC): feedback modules (snn.feedback) carry their own
    // backward, the implicit differentiation at the equilibrium, whatever
    // the method; a method of its own so that a model of feedback modules
    // compiles one step, not an NA and an STBP step that are the same. It
    // has no rule for spiking layers with a PSC.
    methods.push_back({"ide",
                       "IDE: implicit differentiation on the equilibrium of "
                       "feedback modules (IDE_SPEC)",
                       "train_step_ide",
                       [](OpBuilder &, Location, NeuronOp, PSCOp, Value,
                          const MethodOptions &) { return Value(); }});
  }
};

Registry &registry() {
  static Registry r;
  return r;
}

} // namespace

void mlir::snn::registerTrainingMethod(TrainingMethod method) {
  Registry &r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  for (TrainingMethod &m : r.methods)
    if (m.name == method.name) {
      m = std::move(method);
      return;
    }
  r.methods.push_back(std::move(method));
}

const TrainingMethod *mlir::snn::lookupTrainingMethod(llvm::StringRef name) {
  Registry &r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  for (const TrainingMethod &m : r.methods)
    if (m.name == name)
      return &m;
  return nullptr;
}

std::vector<std::string> mlir::snn::trainingMethodNames() {
  Registry &r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  std::vector<std::string> names;
  for (const TrainingMethod &m : r.methods)
    names.push_back(m.name);
  return names;
}

//===----------------------------------------------------------------------===//
// Gradient rules (NA_SPEC sections 2-3, eqs. (9) and (10))
//===----------------------------------------------------------------------===//

namespace {

LogicalResult noGradient(Operation *, GradientContext &) { return success(); }

LogicalResult pscRule(Operation *op, GradientContext &c) {
  auto psc = cast<PSCOp>(op);
  Value g = c.gradOf(psc.getResult());
  if (!g)
    return success();
  auto neuron = psc.getInput().getDefiningOp<NeuronOp>();
  if (!neuron || psc.getInput() != neuron.getSpikes())
    return psc.emitOpError("the NA backward needs the input of snn.psc to be "
                           "the spikes of an snn.neuron");
  Value dc = c.method().neuronBackward(c.builder(), op->getLoc(), neuron, psc,
                                       g, c.options());
  if (!dc)
    return neuron.emitOpError()
           << "the '" << c.method().name
           << "' method has no rule for spiking layers with a PSC (it "
              "trains feedback modules); train this model with na or stbp";
  c.accumulate(neuron.getInput(), dc);
  return success();
}

LogicalResult neuronRule(Operation *op, GradientContext &c) {
  auto neuron = cast<NeuronOp>(op);
  if (c.gradOf(neuron.getPotential()) || c.gradOf(neuron.getSpikes()))
    return neuron.emitOpError("spikes reach the loss without passing "
                              "through snn.psc; NA differentiates the PSC");
  return success();
}

LogicalResult biasRule(Operation *op, GradientContext &c) {
  auto bias = cast<BiasAddOp>(op);
  Value g = c.gradOf(bias.getResult());
  if (!g)
    return success();
  if (c.needs(bias.getBias()))
    c.accumulate(bias.getBias(),
                 BiasGradOp::create(c.builder(), op->getLoc(),
                                    bias.getBias().getType(), g,
                                    bias.getTauSAttr()));
  c.accumulate(bias.getInput(), g);
  return success();
}

LogicalResult denseRule(Operation *op, GradientContext &c) {
  auto dense = cast<DenseOp>(op);
  Value g = c.gradOf(dense.getResult());
  if (!g)
    return success();
  OpBuilder &b = c.builder();
  Location loc = op->getLoc();
  if (c.needs(dense.getWeight()))
    c.accumulate(dense.getWeight(),
                 DenseGradWeightOp::create(b, loc, dense.getWeight().getType(),
                                           dense.getInput(), g));
  if (c.needs(dense.getInput()))
    c.accumulate(dense.getInput(),
                 DenseGradInputOp::create(b, loc, dense.getInput().getType(),
                                          g, dense.getWeight()));
  return success();
}

LogicalResult convRule(Operation *op, GradientContext &c) {
  auto conv = cast<Conv2dOp>(op);
  Value g = c.gradOf(conv.getResult());
  if (!g)
    return success();
  OpBuilder &b = c.builder();
  Location loc = op->getLoc();
  if (c.needs(conv.getWeight()))
    c.accumulate(conv.getWeight(),
                 Conv2dGradWeightOp::create(
                     b, loc, conv.getWeight().getType(), conv.getInput(), g,
                     conv.getStridesAttr(), conv.getPaddingAttr()));
  if (c.needs(conv.getInput()))
    c.accumulate(conv.getInput(),
                 Conv2dGradInputOp::create(b, loc, conv.getInput().getType(),
                                           g, conv.getWeight(),
                                           conv.getStridesAttr(),
                                           conv.getPaddingAttr()));
  return success();
}

LogicalResult poolRule(Operation *op, GradientContext &c) {
  auto pool = cast<PoolOp>(op);
  if (Value g = c.gradOf(pool.getResult()))
    c.accumulate(pool.getInput(),
                 PoolGradOp::create(c.builder(), op->getLoc(),
                                    pool.getInput().getType(),
                                    pool.getKindAttr(), g,
                                    pool.getKernelAttr(), pool.getScaleAttr()));
  return success();
}

LogicalResult flattenRule(Operation *op, GradientContext &c) {
  auto flat = cast<FlattenOp>(op);
  Value g = c.gradOf(flat.getResult());
  if (!g)
    return success();
  auto inType = flat.getInput().getType();
  ReassociationIndices features;
  for (int64_t i = 2; i < inType.getRank(); ++i)
    features.push_back(i);
  SmallVector<ReassociationIndices> reassoc{{0}, {1}, features};
  c.accumulate(flat.getInput(),
               tensor::ExpandShapeOp::create(c.builder(), op->getLoc(), inType,
                                             g, reassoc));
  return success();
}

LogicalResult dropoutRule(Operation *op, GradientContext &c) {
  auto drop = cast<DropoutOp>(op);
  if (Value g = c.gradOf(drop.getResult()))
    c.accumulate(drop.getInput(),
                 DropoutGradOp::create(c.builder(), op->getLoc(), g.getType(),
                                       g, drop.getMask()));
  return success();
}

/// Training-mode batch normalization: dx through the batch statistics,
/// and the scale's and shift's gradients.
LogicalResult batchNormRule(Operation *op, GradientContext &c) {
  auto bn = cast<BatchNormOp>(op);
  Value g = c.gradOf(bn.getResult());
  if (!g)
    return success();
  auto grad = BatchNormGradOp::create(c.builder(), op->getLoc(), g,
                                      bn.getInput(), bn.getGamma(),
                                      bn.getMean(), bn.getInvStd());
  c.accumulate(bn.getGamma(), grad.getGradGamma());
  c.accumulate(bn.getBeta(), grad.getGradBeta());
  c.accumulate(bn.getInput(), grad.getGradInput());
  return success();
}

/// IDE_SPEC section 7: through the reparametrisation, u' and v' constant.
LogicalResult spectralNormRule(Operation *op, GradientContext &c) {
  auto sn = cast<SpectralNormOp>(op);
  Value g = c.gradOf(sn.getResult());
  if (!g)
    return success();
  auto grad = SpectralNormGradOp::create(
      c.builder(), op->getLoc(), sn.getWeight().getType(), sn.getG().getType(),
      g, sn.getWeight(), sn.getG(), sn.getNewU(), sn.getNewV(), sn.getSigma());
  c.accumulate(sn.getWeight(), grad.getGradWeight());
  c.accumulate(sn.getG(), grad.getGradG());
  return success();
}

/// IDE: implicit differentiation at the simulated rates (IDE_SPEC section
/// 5), whatever the training method of the rest of the network.
LogicalResult feedbackRule(Operation *op, GradientContext &c) {
  auto fb = cast<FeedbackOp>(op);
  Value g = c.gradOf(fb.getRates());
  if (!g)
    return success();
  auto grad = FeedbackGradOp::create(
      c.builder(), op->getLoc(), fb.getInput().getType(),
      fb.getWeight().getType(), g, fb.getRates(), fb.getInput(),
      fb.getWeight(), fb.getMask(), fb.getThresholdAttr(), fb.getSolverAttr(),
      fb.getMaxIterationsAttr(), fb.getToleranceAttr(), fb.getImageAttr());
  c.accumulate(fb.getInput(), grad.getGradInput());
  c.accumulate(fb.getWeight(), grad.getGradWeight());
  return success();
}

/// IDE for a multi-layer ring: the same implicit differentiation, f's VJP
/// reaching every connection's kernel, bias and BN parameters.
LogicalResult feedbackRingRule(Operation *op, GradientContext &c) {
  auto ring = cast<FeedbackRingOp>(op);
  Value g = c.gradOf(ring.getRates());
  if (!g)
    return success();
  auto types = [](ValueRange vs) { return SmallVector<Type>(vs.getTypes()); };
  // The statistics J's BN uses: the simulation's, or (official) the ones
  // f has just moved.
  bool moved = ring.getJacobian() == IDEJacobian::official;
  SmallVector<Value> means(moved ? ValueRange(ring.getNewMeans())
                                 : ValueRange(ring.getRunningMeans()));
  SmallVector<Value> vars(moved ? ValueRange(ring.getNewVars())
                                : ValueRange(ring.getRunningVars()));
  auto grad = FeedbackRingGradOp::create(
      c.builder(), op->getLoc(), ring.getInput().getType(),
      ring.getFeedback().getType(), types(ring.getWeights()),
      types(ring.getBiases()), types(ring.getGammas()), types(ring.getBetas()),
      g, ring.getRates(), ring.getInput(), ring.getFeedback(),
      ring.getWeights(), ring.getBiases(), ring.getGammas(), ring.getBetas(),
      means, vars,
      ring.getMasks(), ring.getImageAttr(), ring.getStridesAttr(),
      ring.getThresholdAttr(), ring.getSolverAttr(),
      ring.getMaxIterationsAttr(), ring.getToleranceAttr(),
      ring.getJacobianAttr());
  c.accumulate(ring.getInput(), grad.getGradInput());
  c.accumulate(ring.getFeedback(), grad.getGradFeedback());
  for (auto [p, d] : llvm::zip(ring.getWeights(), grad.getGradWeights()))
    c.accumulate(p, d);
  for (auto [p, d] : llvm::zip(ring.getBiases(), grad.getGradBiases()))
    c.accumulate(p, d);
  for (auto [p, d] : llvm::zip(ring.getGammas(), grad.getGradGammas()))
    c.accumulate(p, d);
  for (auto [p, d] : llvm::zip(ring.getBetas(), grad.getGradBetas()))
    c.accumulate(p, d);
  return success();
}

const DenseMap<TypeID, GradientRule> &rules() {
  static const DenseMap<TypeID, GradientRule> table = [] {
    DenseMap<TypeID, GradientRule> t;
    // Sources of the graph: the loss seeds the gradient, the encodings and
    // the targets take none.
    for (TypeID id : {TypeID::get<VanRossumLossOp>(),
                      TypeID::get<SpikeCountLossOp>(),
                      TypeID::get<CrossEntropyLossOp>(),
                      TypeID::get<EncodeCurrentOp>(),
                      TypeID::get<EncodeEventsOp>(),
                      TypeID::get<TargetSpikesOp>()})
      t[id] = noGradient;
    t[TypeID::get<PSCOp>()] = pscRule;
    t[TypeID::get<NeuronOp>()] = neuronRule;
    t[TypeID::get<BiasAddOp>()] = biasRule;
    t[TypeID::get<DenseOp>()] = denseRule;
    t[TypeID::get<Conv2dOp>()] = convRule;
    t[TypeID::get<PoolOp>()] = poolRule;
    t[TypeID::get<FlattenOp>()] = flattenRule;
    t[TypeID::get<DropoutOp>()] = dropoutRule;
    t[TypeID::get<BatchNormOp>()] = batchNormRule;
    t[TypeID::get<SpectralNormOp>()] = spectralNormRule;
    t[TypeID::get<FeedbackOp>()] = feedbackRule;
    t[TypeID::get<FeedbackRingOp>()] = feedbackRingRule;
    return t;
  }();
  return table;
}

} // namespace

const GradientRule *mlir::snn::lookupGradientRule(Operation *op) {
  const auto &table = rules();
  auto it = table.find(op->getName().getTypeID());
  return it == table.end() ? nullptr : &it->second;
}
