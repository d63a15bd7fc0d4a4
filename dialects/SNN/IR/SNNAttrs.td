//===- SNNAttrs.td - snn attributes -------------------------*- tablegen -*-===//
#ifndef SNN_ATTRS_TD
#define SNN_ATTRS_TD

include "dialects/SNN/IR/SNNBase.td"
include "mlir/IR/EnumAttr.td"
include "mlir/IR/AttrTypeBase.td"

def SNN_PoolKindSum : I32EnumAttrCase<"sum", 0>;
def SNN_PoolKindAvg : I32EnumAttrCase<"avg", 1>;
def SNN_PoolKind : I32EnumAttr<"PoolKind", "pooling reduction",
                               [SNN_PoolKindSum, SNN_PoolKindAvg]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::snn";
}
def SNN_PoolKindAttr : EnumAttr<SNN_Dialect, SNN_PoolKind, "pool_kind">;

//===----------------------------------------------------------------------===//
// Neuron models (NA_SPEC sections 1 and 8). Their per-step dynamics are
// written once, as IR builders, in compiler/Neurons.
//===----------------------------------------------------------------------===//

def SNN_NeuronKindLIF : I32EnumAttrCase<"lif", 0>;
def SNN_NeuronKindIF : I32EnumAttrCase<"integrate", 1, "if">;
def SNN_NeuronKind : I32EnumAttr<"NeuronKind", "neuron model",
                                 [SNN_NeuronKindLIF, SNN_NeuronKindIF]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::snn";
}

def SNN_ResetZero : I32EnumAttrCase<"zero", 0>;
def SNN_ResetSubtract : I32EnumAttrCase<"subtract", 1>;
def SNN_ResetKind : I32EnumAttr<"ResetKind", "reset after a spike",
                                [SNN_ResetZero, SNN_ResetSubtract]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::snn";
}

def SNN_NeuronAttr : AttrDef<SNN_Dialect, "Neuron"> {
  let mnemonic = "neuron";
  let summary = "a spiking neuron model: kind, leak, threshold and reset";
  let description = [{
    The neuron of a layer and of its backward ops (NA_SPEC sections 1, 8):

        u[t] = k r[t-1] + c[t]     k = 1 - 1/tau_m (lif), 1 (if)
        s[t] = u[t] >= threshold
        r[t] = u[t] (1 - s[t])         reset = zero
        r[t] = u[t] - threshold s[t]   reset = subtract

    tau_m >= 1 (1: a memoryless neuron); `if` has no tau_m. Omitted
    parameters take their defaults (tau_m 5, threshold 1, reset zero).

    Example:
    ```mlir
    #snn.neuron<lif, tau_m = 5.0, threshold = 1.0, reset = zero>
    #snn.neuron<if, threshold = 0.5, reset = subtract>
    ```
  }];
  let parameters = (ins "NeuronKind":$kind, APFloatParameter<"">:$tau_m,
                    APFloatParameter<"">:$threshold, "ResetKind":$reset);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  // A default value (DefaultValuedAttr) is a NeuronAttr expression.
  let constBuilderCall = "$0";
  let builders = [
    AttrBuilder<(ins "NeuronKind":$kind, "float":$tauM, "float":$threshold,
                     "ResetKind":$reset), [{
      if (kind == NeuronKind::integrate)
        tauM = 0.0f; // unused: one spelling per model
      return $_get($_ctxt, kind, ::llvm::APFloat(tauM),
                   ::llvm::APFloat(threshold), reset);
    }]>
  ];
  let extraClassDeclaration = [{
    /// The leak k of u[t] = k r[t-1] + c[t].
    float getLeak() const;
    float getThresholdValue() const { return getThreshold().convertToFloat(); }
    /// The LIF of NA_SPEC section 1 with the given constants.
    static NeuronAttr getLIF(::mlir::MLIRContext *ctx, float tauM,
                             float threshold);
  }];
}

def SNN_SurrogateRect : I32EnumAttrCase<"rect", 0>;
def SNN_SurrogateSigmoid : I32EnumAttrCase<"sigmoid", 1>;
def SNN_Surrogate : I32EnumAttr<"Surrogate", "STBP surrogate of ds/du",
                                [SNN_SurrogateRect, SNN_SurrogateSigmoid]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::snn";
}
def SNN_SurrogateAttr : EnumAttr<SNN_Dialect, SNN_Surrogate, "surrogate">;

#endif // SNN_ATTRS_TD
