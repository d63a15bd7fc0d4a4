//===- BuildTrainingGraph.cpp - forward + loss -> train_step, eval_step ----===//
//
// Reverse-mode construction of a training step (NA_SPEC sections 2-3): the
// forward ops are put into the step in order (by the method), then visited
// in reverse, each adding the backward ops for the gradients of its results
// through its gradient rule; the method differentiates the neurons
// (Methods.h).
//
//===----------------------------------------------------------------------===//
#include "compiler/Training/Passes.h"
#include "compiler/Training/Methods.h"

#include "mlir/IR/IRMapping.h"

namespace mlir::snn {
#define GEN_PASS_DEF_BUILDTRAININGGRAPHPASS
#include "compiler/Training/Passes.h.inc"
} // namespace mlir::snn

using namespace mlir;
using namespace mlir::snn;

namespace {

Value zerosLike(OpBuilder &b, Location loc, Type type) {
  auto t = cast<RankedTensorType>(type);
  return arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(t, b.getF32FloatAttr(0.0f)));
}

/// Gradients dL/dv of forward values, accumulated over their uses; each
/// forward op adds its operands' gradients through its rule (Methods.h).
class Backward : public GradientContext {
public:
  Backward(OpBuilder &b, const TrainingMethod &m, MethodOptions opts)
      : b(b), m(m), opts(std::move(opts)) {}

  void markNeedsGrad(Value v) { needsGrad.insert(v); }
  bool needs(Value v) const override { return needsGrad.contains(v); }
  Value gradOf(Value v) const override { return grads.lookup(v); }
  OpBuilder &builder() override { return b; }
  const TrainingMethod &method() const override { return m; }
  const MethodOptions &options() const override { return opts; }

  void accumulate(Value v, Value g) override {
    if (!needs(v))
      return;
    auto it = grads.find(v);
    if (it == grads.end())
      grads[v] = g;
    else
      it->second = arith::AddFOp::create(b, g.getLoc(), it->second, g);
  }

  /// Propagates forward dependence on parameters through `op`.
  void propagateNeedsGrad(Operation *op) {
    if (llvm::any_of(op->getOperands(), [&](Value v) { return needs(v); }))
      for (Value r : op->getResults())
        needsGrad.insert(r);
  }

  LogicalResult visit(Operation *op) {
    if (const GradientRule *rule = lookupGradientRule(op))
      return (*rule)(op, *this);
    if (llvm::any_of(op->getResults(), [&](Value r) { return gradOf(r); }))
      return op->emitOpError("has no gradient rule (compiler/Training/"
                             "Methods.cpp)");
    return success();
  }

private:
  OpBuilder &b;
  const TrainingMethod &m;
  MethodOptions opts;
  DenseSet<Value> needsGrad;
  DenseMap<Value, Value> grads;
};

struct BuildTrainingGraphPass
    : mlir::snn::impl::BuildTrainingGraphPassBase<BuildTrainingGraphPass> {
  using BuildTrainingGraphPassBase::BuildTrainingGraphPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto forward = module.lookupSymbol<func::FuncOp>(forwardName);
    if (!forward) {
      module.emitError() << "snn-build-training-graph: no function @"
                         << forwardName;
      return signalPassFailure();
    }
    if (failed(build(module, forward)))
      signalPassFailure();
  }

  LogicalResult build(ModuleOp module, func::FuncOp forward);
  void buildEvalStep(ModuleOp module, func::FuncOp forward);
};

LogicalResult BuildTrainingGraphPass::build(ModuleOp module,
                                            func::FuncOp forward) {
  if (!forward.getBody().hasOneBlock())
    return forward.emitOpError("must have a single block");
  auto ret = cast<func::ReturnOp>(forward.getBody().front().getTerminator());
  if (ret.getNumOperands() != 2 || !ret.getOperand(0).getType().isF32())
    return forward.emitOpError(
        "must return (loss : f32, output spikes : tensor<T x B x N x f32>)");
  Operation *lossOp = ret.getOperand(0).getDefiningOp();
  if (!isa_and_nonnull<VanRossumLossOp, SpikeCountLossOp, CrossEntropyLossOp>(
          lossOp))
    return forward.emitOpError("its first result must be the loss of an "
                               "snn.van_rossum_loss, snn.spike_count_loss or "
                               "snn.cross_entropy_loss");

  SmallVector<BlockArgument> params, inputs;
  for (BlockArgument arg : forward.getArguments())
    (forward.getArgAttr(arg.getArgNumber(), "snn.param") ? params : inputs)
        .push_back(arg);
  if (params.empty())
    return forward.emitOpError("has no argument marked {snn.param}");

  // An explicit option wins over the model's setting.
  float clip = 10.0f;
  if (naClip > 0.0f)
    clip = naClip;
  else if (auto a = forward->getAttrOfType<FloatAttr>("snn.na_clip"))
    clip = a.getValueAsDouble();
  std::string selection =
      neighborhood.empty() ? std::string("sns") : neighborhood.getValue();
  if (auto a = forward->getAttrOfType<StringAttr>("snn.neighborhood");
      a && neighborhood.empty())
    selection = a.str();

  // Signature: params, m, v, step, lr, inputs -> params, m, v, loss, spikes.
  OpBuilder b(module.getContext());
  Location loc = forward.getLoc();
  SmallVector<Type> paramTypes, argTypes, resultTypes;
  for (BlockArgument p : params)
    paramTypes.push_back(p.getType());
  for (int i = 0; i < 3; ++i)
    llvm::append_range(argTypes, paramTypes);
  argTypes.push_back(b.getI64Type());
  argTypes.push_back(b.getF32Type());
  for (BlockArgument in : inputs)
    argTypes.push_back(in.getType());
  for (int i = 0; i < 3; ++i)
    llvm::append_range(resultTypes, paramTypes);
  resultTypes.push_back(b.getF32Type());
  resultTypes.push_back(ret.getOperand(1).getType());

  b.setInsertionPointAfter(forward);
  const TrainingMethod *method = lookupTrainingMethod(backward);
  if (!method) {
    auto diag = forward.emitOpError()
                << "unknown training method '" << backward << "' (";
    llvm::interleaveComma(trainingMethodNames(), diag);
    return diag << ")";
  }
  std::string name =
      trainName.empty() ? method->trainStep : std::string(trainName);
  auto train = func::FuncOp::create(b, loc, name,
                                    b.getFunctionType(argTypes, resultTypes));
  Block *entry = train.addEntryBlock();
  b.setInsertionPointToEnd(entry);
  size_t numParams = params.size();
  auto stepArg = entry->getArgument(3 * numParams);
  auto lrArg = entry->getArgument(3 * numParams + 1);

  IRMapping map;
  MethodOptions opts;
  opts.naClip = clip;
  opts.selection = selection;
  if (std::optional<Surrogate> sg = symbolizeSurrogate(stbpSurrogate))
    opts.surrogate = *sg;
  else
    return forward.emitOpError() << "unknown STBP surrogate '"
                                 << stbpSurrogate << "' (rect or sigmoid)";
  opts.width = stbpWidth;
  opts.scale = stbpScale;
  opts.temperature = stbpTemperature;
  opts.detachReset = stbpDetachReset;
  Backward bwd(b, *method, opts);
  // Buffers ({snn.param, snn.buffer}: BatchNorm's running statistics) ride
  // with the parameters through the step's signature, but get no gradient;
  // the step returns their updated values instead of an optimizer's.
  auto isBuffer = [&](size_t i) {
    return static_cast<bool>(forward.getArgAttr(
        params[i].getArgNumber(), "snn.buffer"));
  };
  for (auto [i, p] : llvm::enumerate(params)) {
    map.map(p, entry->getArgument(i));
    if (!isBuffer(i))
      bwd.markNeedsGrad(entry->getArgument(i));
  }
  for (auto [i, in] : llvm::enumerate(inputs))
    map.map(in, entry->getArgument(3 * numParams + 2 + i));

  SmallVector<Operation *> cloned;
  for (Operation &op : forward.getBody().front().without_terminator()) {
    Operation *c = method->cloneForward(b, &op, map);
    cloned.push_back(c);
    bwd.propagateNeedsGrad(c);
  }
  auto loss = map.lookup(lossOp->getResult(0)).getDefiningOp();
  Value output = loss->getOperand(0), seed = loss->getResult(1);
  bwd.accumulate(output, seed);
  for (Operation *op : llvm::reverse(cloned))
    if (failed(bwd.visit(op)))
      return failure();

  SmallVector<Value> paramGrads;
  for (size_t i = 0; i < numParams; ++i) {
    Value g = bwd.gradOf(entry->getArgument(i));
    paramGrads.push_back(g ? g : zerosLike(b, loc, paramTypes[i]));
  }
  // Data parallelism (docs/data-parallel.md): the gradients of the global
  // batch, before clipping and the update. The spike-train losses sum over
  // the samples, so the ranks' gradients are summed; the cross-entropy is a
  // batch mean, so they are averaged. One process: the identity.
  {
    auto reduce = GradAllReduceOp::create(
        b, loc, paramGrads, isa<CrossEntropyLossOp>(lossOp) ? "mean" : "sum");
    paramGrads.assign(reduce.getReduced().begin(), reduce.getReduced().end());
  }
  if (maxGradNorm > 0.0f) {
    auto clipOp = ClipGradNormOp::create(b, loc, TypeRange(paramTypes),
                                         b.getF32Type(), paramGrads,
                                         b.getF32FloatAttr(maxGradNorm));
    paramGrads.assign(clipOp.getClipped().begin(), clipOp.getClipped().end());
  }
  // The optimizer: an explicit option wins over the model's setting.
  auto settingStr = [&](StringRef key, StringRef option,
                        StringRef def) -> std::string {
    if (!option.empty())
      return option.str();
    if (auto a = forward->getAttrOfType<StringAttr>(key))
      return a.str();
    return def.str();
  };
  auto settingNum = [&](StringRef key, float option, float def) {
    if (option >= 0.0f)
      return option;
    if (auto a = forward->getAttrOfType<FloatAttr>(key))
      return static_cast<float>(a.getValueAsDouble());
    return def;
  };
  std::string opt = settingStr("snn.optimizer", optimizer, "adamw");
  if (opt != "adamw" && opt != "adam" && opt != "sgd")
    return forward.emitOpError() << "unknown optimizer '" << opt
                                 << "' (adamw, adam or sgd)";
  // PyTorch's defaults: AdamW decays by 0.01, Adam and SGD not at all.
  float wd = settingNum("snn.weight_decay", weightDecay,
                        opt == "adamw" ? 0.01f : 0.0f);
  float mu = settingNum("snn.momentum", momentum, 0.0f);
  // snn.nesterov is 1/0 (a number once imported) or true/false.
  std::string nagSetting = settingStr("snn.nesterov", nesterov, "0");
  bool nag = nagSetting == "1" || nagSetting == "true";
  if (auto a = forward->getAttrOfType<FloatAttr>("snn.nesterov");
      a && nesterov.empty())
    nag = a.getValueAsDouble() != 0.0;
  if (nag && opt != "sgd")
    return forward.emitOpError("Nesterov momentum is an SGD setting (optimizer "
                               "sgd)");
  if (nag && !(mu > 0.0f))
    return forward.emitOpError("Nesterov momentum needs momentum > 0");
  if (mu > 0.0f && opt != "sgd")
    return forward.emitOpError("momentum is an SGD setting; Adam and AdamW "
                               "have beta1");
  // A buffer's new value: what the op that reads it returns for it.
  DenseMap<Value, Value> updatedBuffer;
  train.walk([&](BatchNormOp bn) {
    updatedBuffer[bn.getRunningMean()] = bn.getNewMean();
    updatedBuffer[bn.getRunningVar()] = bn.getNewVar();
  });
  train.walk([&](SpectralNormOp sn) {
    updatedBuffer[sn.getU()] = sn.getNewU();
    updatedBuffer[sn.getV()] = sn.getNewV();
  });
  train.walk([&](FeedbackRingOp ring) {
    for (auto [r, n] : llvm::zip(ring.getRunningMeans(), ring.getNewMeans()))
      updatedBuffer[r] = n;
    for (auto [r, n] : llvm::zip(ring.getRunningVars(), ring.getNewVars()))
      updatedBuffer[r] = n;
  });
  SmallVector<Value> newParams, newM, newV;
  for (size_t i = 0; i < numParams; ++i) {
    Type t = paramTypes[i];
    Value p = entry->getArgument(i), m = entry->getArgument(numParams + i),
          v = entry->getArgument(2 * numParams + i);
    if (isBuffer(i)) {
      Value updated = updatedBuffer.lookup(p);
      newParams.push_back(updated ? updated : p);
      newM.push_back(m);
      newV.push_back(v);
      continue;
    }
    if (opt == "sgd") {
      // m holds the momentum buffer; v is carried unchanged (one step ABI).
      auto sgd = SGDOp::create(b, loc, t, t, p, paramGrads[i], m, lrArg,
                               b.getF32FloatAttr(mu),
                               nag ? b.getUnitAttr() : UnitAttr(),
                               b.getF32FloatAttr(wd));
      newParams.push_back(sgd.getNewParam());
      newM.push_back(sgd.getNewBuf());
      newV.push_back(v);
      continue;
    }
    Operation *adam =
        opt == "adam"
            ? AdamOp::create(b, loc, t, t, t, p, paramGrads[i], m, v, stepArg,
                             lrArg, b.getF32FloatAttr(beta1),
                             b.getF32FloatAttr(beta2), b.getF32FloatAttr(eps),
                             b.getF32FloatAttr(wd))
                  .getOperation()
            : AdamWOp::create(b, loc, t, t, t, p, paramGrads[i], m, v, stepArg,
                              lrArg, b.getF32FloatAttr(beta1),
                              b.getF32FloatAttr(beta2), b.getF32FloatAttr(eps),
                              b.getF32FloatAttr(wd))
                  .getOperation();
    newParams.push_back(adam->getResult(0));
    newM.push_back(adam->getResult(1));
    newV.push_back(adam->getResult(2));
  }
  SmallVector<Value> results(newParams);
  llvm::append_range(results, newM);
  llvm::append_range(results, newV);
  results.push_back(map.lookup(ret.getOperand(0)));
  results.push_back(map.lookup(ret.getOperand(1)));
  func::ReturnOp::create(b, loc, results);

  if (buildEval)
    buildEvalStep(module, forward);
  // The forward function is now only a template; symbol-dce may drop it.
  forward.setPrivate();
  return success();
}

void BuildTrainingGraphPass::buildEvalStep(ModuleOp module,
                                           func::FuncOp forward) {
  auto eval = cast<func::FuncOp>(forward->clone());
  eval.setSymName("eval_step");
  module.insert(std::next(Block::iterator(forward)), eval);
  // BatchNorm normalizes with the running statistics and leaves them.
  eval.walk([](BatchNormOp bn) { bn.setTraining(false); });
  // The feedback modules evaluate without dropout and without moving the
  // power iteration's vectors (the official code moves them in evaluation
  // too; here evaluating never changes the training state).
  eval.walk([](SpectralNormOp sn) { sn.setTraining(false); });
  eval.walk([](FeedbackOp fb) { fb.setTraining(false); });
  eval.walk([](FeedbackRingOp ring) { ring.setTraining(false); });
  // Dropout is the identity at evaluation time.
  eval.walk([](DropoutOp drop) {
    OpBuilder b(drop);
    auto maskType = cast<RankedTensorType>(drop.getMask().getType());
    drop.getMask().replaceAllUsesWith(arith::ConstantOp::create(
        b, drop.getLoc(),
        DenseElementsAttr::get(maskType, b.getF32FloatAttr(1.0f))));
    drop.getResult().replaceAllUsesWith(drop.getInput());
    drop.erase();
  });
}

} // namespace
