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

// IDE (IDE_SPEC section 5.1): how (I - J)^T beta = g is solved.
def SNN_IDESolver : I32EnumAttr<"IDESolver", "IDE's linear solver", [
    I32EnumAttrCase<"fixed_point", 0>,    // beta := g + J^T beta
    I32EnumAttrCase<"official_iter", 1>,  // N-MNIST's x := (x + G(x)) / 2
    I32EnumAttrCase<"broyden", 2>,        // the official default
    I32EnumAttrCase<"exact", 3>]> {       // a dense LU solve (tests, small N)
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::snn";
}
def SNN_IDESolverAttr : EnumAttr<SNN_Dialect, SNN_IDESolver, "ide_solver">;

// IDE, a multi-layer ring (IDE_SPEC sections 8 and 10.4): the Jacobian J of
// the linear system. eval: f with BN on the running statistics the
// simulation used, at the simulated rates (the dynamics that produced them;
// per sample); official: the official code's, at f(rates) with BN on the
// statistics f has just moved; train: f with training-mode BN (the f whose
// product gives the gradients; batch-coupled).
def SNN_IDEJacobian : I32EnumAttr<"IDEJacobian", "the Jacobian of IDE's linear system", [
    I32EnumAttrCase<"eval", 0>,
    I32EnumAttrCase<"official", 1>,
    I32EnumAttrCase<"train", 2>]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::snn";
}
def SNN_IDEJacobianAttr : EnumAttr<SNN_Dialect, SNN_IDEJacobian, "ide_jacobian">;

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

//===----------------------------------------------------------------------===//
// The code-generation target of a module: the tuning knobs that the kernel
// emitters read, in one verified attribute (`snn.target` on the module).
//===----------------------------------------------------------------------===//

def SNN_ConvGradInputLibrary : I32EnumAttrCase<"library", 0>;
def SNN_ConvGradInputGemm : I32EnumAttrCase<"gemm", 1>;
def SNN_ConvGradInput : I32EnumAttr<"ConvGradInput",
    "how the gradient through a convolution is computed",
    [SNN_ConvGradInputLibrary, SNN_ConvGradInputGemm]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::snn";
}

def SNN_TargetAttr : AttrDef<SNN_Dialect, "Target"> {
  let mnemonic = "target";
  let summary = "where a module's kernels run and how they are tuned";
  let description = [{
    The module attribute `snn.target` (absent: the CPU defaults):

    - `neuron_block`: neurons per parallel iteration of the per-neuron
      kernels (256 on the CPU, where the block's inner loop vectorizes; the
      CUDA pipeline sets 1: one neuron per thread);
    - `chain_group`: the GPU NA kernel advances the SNS chains of this many
      flips at a time in registers (snnc --gpu-chain-group; 1: one chain at
      a time);
    - `max_register_steps`: up to this T, all T chains of a neuron in one
      group (8, by measurement on an H100);
    - `conv_grad_input`: `library` (oneDNN / cuDNN) or `gemm` (one batched
      GEMM into the im2col matrix's gradient and col2im; snnc
      --gpu-conv-grad-input).

    Example:
    ```mlir
    module attributes {snn.target = #snn.target<neuron_block = 1, chain_group = 6>} {}
    ```
  }];
  let parameters = (ins
    DefaultValuedParameter<"int64_t", "256">:$neuron_block,
    DefaultValuedParameter<"int64_t", "6">:$chain_group,
    DefaultValuedParameter<"int64_t", "8">:$max_register_steps,
    DefaultValuedParameter<"ConvGradInput", "ConvGradInput::library">:$conv_grad_input);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The module's `snn.target` around `op`, else the defaults.
    static TargetAttr of(::mlir::Operation *op);
  }];
}

#endif // SNN_ATTRS_TD
