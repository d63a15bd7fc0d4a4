//===- Methods.h - training methods and gradient rules, by name --*- C++ -*-===//
//
// Two tables drive snn-build-training-graph:
//
// - Training methods, registered by name ("na", "stbp"). A method says how
//   a layer of neurons and its PSC kernel are differentiated (the part of
//   the backward pass that is the method) and which train-step function it
//   builds; a method may also replace how the forward ops enter the step
//   (cloneForward; NA and STBP keep them as they are, a method that runs the
//   forward to an equilibrium would not). snnc --methods chooses the steps
//   a trainer holds; trainer --backward picks one at run time.
// - Gradient rules, one per forward op (by its TypeID): how the gradient of
//   its results becomes gradients of its operands. The op-type switch of
//   the pass is this table; a new op adds its rule here.
//
// A new method: a TrainingMethod registered in Methods.cpp (or by a plugin
// through registerTrainingMethod), and the op its neuron backward emits.
//
//===----------------------------------------------------------------------===//
#ifndef SNNC_COMPILER_TRAINING_METHODS_H
#define SNNC_COMPILER_TRAINING_METHODS_H

#include "dialects/SNN/IR/SNNOps.h"
#include "mlir/IR/IRMapping.h"

#include <functional>
#include <string>
#include <vector>

namespace mlir::snn {

/// The settings every method may read (snn-build-training-graph's options).
struct MethodOptions {
  float naClip = 10.0f;
  std::string selection = "sns";
  Surrogate surrogate = Surrogate::rect;
  float width = 1.0f, scale = 5.0f, temperature = 3.0f;
  bool detachReset = false;
};

/// What a gradient rule works with: the builder at the end of the train
/// step, the gradients accumulated so far, and the method.
class GradientContext {
public:
  virtual ~GradientContext() = default;
  virtual OpBuilder &builder() = 0;
  /// dL/dv accumulated over the uses visited so far (null: none).
  virtual Value gradOf(Value v) const = 0;
  /// Whether v depends on a parameter (only those get gradients).
  virtual bool needs(Value v) const = 0;
  /// Adds g to dL/dv (ignored when v needs none).
  virtual void accumulate(Value v, Value g) = 0;
  virtual const struct TrainingMethod &method() const = 0;
  virtual const MethodOptions &options() const = 0;
};

using GradientRule = std::function<LogicalResult(Operation *, GradientContext &)>;

/// The rule of `op`'s kind, or null when it has none.
const GradientRule *lookupGradientRule(Operation *op);

struct TrainingMethod {
  std::string name;        // snnc --methods, trainer --backward
  std::string description; // one line for --help
  std::string trainStep;   // the function it builds
  /// dL/dc of a layer of neurons whose spikes pass through `psc`, from
  /// g = dL/da (the PSC's output).
  std::function<Value(OpBuilder &, Location, NeuronOp, PSCOp, Value g,
                      const MethodOptions &)>
      neuronBackward;
  /// Puts forward op `op` into the train step (default: a clone).
  std::function<Operation *(OpBuilder &, Operation *op, IRMapping &)>
      cloneForward = [](OpBuilder &b, Operation *op, IRMapping &map) {
        return b.clone(*op, map);
      };
};

/// Adds (or replaces) a method by its name.
void registerTrainingMethod(TrainingMethod method);
/// The registered method of that name, or null.
const TrainingMethod *lookupTrainingMethod(llvm::StringRef name);
/// Every registered method's name, in registration order ("na", "stbp", ...).
std::vector<std::string> trainingMethodNames();

} // namespace mlir::snn

#endif
