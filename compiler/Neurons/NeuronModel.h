//===- NeuronModel.h - a neuron's per-step dynamics, written once -*- C++ -*-===//
//
// The one place that knows what a neuron does in a time step (NA_SPEC
// sections 1 and 8): charge, fire, reset, and the reset's derivatives for
// surrogate-gradient backpropagation. Every consumer builds its IR through
// it: the time-loop fusion (on whole-step tensors), the NA perturbation
// kernels in their CPU and GPU forms and the STBP backward (on scalars).
//
// A new neuron model: an enum case of #snn.neuron (dialects/SNN/IR/
// SNNAttrs.td), its dynamics here, its ONNX schema (compiler/Import) and
// its reference (tests/reference).
//
//===----------------------------------------------------------------------===//
#ifndef SNNC_COMPILER_NEURONS_NEURONMODEL_H
#define SNNC_COMPILER_NEURONS_NEURONMODEL_H

#include "dialects/SNN/IR/SNNOps.h"

namespace mlir::snn {

class NeuronModel {
public:
  /// Materializes the model's constants at `b`'s insertion point, as f32
  /// scalars or as splats of the tensor type `type`.
  NeuronModel(NeuronAttr attr, OpBuilder &b, Location loc, Type type);

  NeuronAttr attr() const { return model; }
  /// u[t] = k r[t-1] + c[t] (IF: r[t-1] + c[t]).
  Value charge(OpBuilder &b, Location loc, Value rPrev, Value c) const;
  /// s[t] = u[t] >= threshold, as i1.
  Value fires(OpBuilder &b, Location loc, Value u) const;
  /// The carried potential r[t]: fires ? 0 : u (zero), fires ? u - theta : u
  /// (subtract).
  Value reset(OpBuilder &b, Location loc, Value u, Value fires) const;
  /// dL/du[t] of surrogate-gradient BPTT (NA_SPEC section 8), given
  /// dLdsPSC = dL/ds[t] through the PSC, dr = dL/dr[t], the forward u and s
  /// (0/1), and the surrogate h = ds/du at u: the reset r = R(u, s) adds
  /// dr * dR/ds to dL/ds (unless detached) and dr * dR/du to dL/du.
  Value backward(OpBuilder &b, Location loc, Value dLdsPSC, Value dr, Value u,
                 Value s, Value h, bool detachReset) const;
  /// dL/dr[t-1] from dL/du[t]: k * du (IF: du).
  Value chargeGrad(OpBuilder &b, Location loc, Value du) const;

  /// The constants, for kernels that need them besides the dynamics.
  Value threshold, zero, one;

private:
  NeuronAttr model;
  Value leak; // null for IF (no multiplication)
};

} // namespace mlir::snn

#endif
