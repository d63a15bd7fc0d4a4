//===- SNNOps.td - snn operations ---------------------------*- tablegen -*-===//
//
// Forward ops, loss ops, the NA backward and optimizer ops, and the fused
// time-loop form. Semantics: NA_SPEC.md (section numbers cited per op).
//
//===----------------------------------------------------------------------===//
#ifndef SNN_OPS_TD
#define SNN_OPS_TD

include "dialects/SNN/IR/SNNBase.td"
include "dialects/SNN/IR/SNNAttrs.td"
include "dialects/SNN/IR/SNNInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/IR/OpBase.td"

def SNN_LabelTensor : 1DTensorOf<[I32]>;

// Common attribute spellings; their ranges are checked by the op verifiers
// so that the diagnostics can name the attribute and the offending value.
def SNN_TauS : DefaultValuedAttr<F32Attr, "2.0">;
// The backward ops' neuron, when not given: the LIF of NA_SPEC section 1.
def SNN_DefaultNeuron : DefaultValuedAttr<SNN_NeuronAttr,
    "::mlir::snn::NeuronAttr::getLIF($_builder.getContext(), 5.0f, 1.0f)">;
defvar SNN_Pair = DenseI64ArrayAttr;

class SNN_RecurrentOp<string mnemonic, list<Trait> traits = []>
    : SNN_Op<mnemonic, !listconcat(traits, [Pure,
        DeclareOpInterfaceMethods<SNN_TimeRecurrentOpInterface>])> {
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Input encoding
//===----------------------------------------------------------------------===//

def SNN_EncodeCurrentOp : SNN_RecurrentOp<"encode_current"> {
  let summary = "real-valued input repeated over T and passed through the PSC kernel";
  let description = [{
    Continuous-valued current encoding (NA_SPEC section 1, paper A.2.1). The
    input `x` has no time axis; the result has `T` (its leading dimension)
    steps: `a[t] = (1 - 1/tau_s) a[t-1] + x / tau_s`, `a[-1] = 0`.

    Example:
    ```mlir
    %a = snn.encode_current %x {tau_s = 2.0 : f32}
        : tensor<64x784xf32> -> tensor<5x64x784xf32>
    ```
  }];
  let arguments = (ins SNN_F32Tensor:$input, SNN_TauS:$tau_s);
  let results = (outs SNN_TimeTensor:$result);
  let assemblyFormat =
      "$input attr-dict `:` type($input) `->` type($result)";
}

def SNN_EncodeEventsOp : SNN_RecurrentOp<"encode_events",
                                         [AllTypesMatch<["input", "result"]>]> {
  let summary = "event (spike) input binned over T and passed through the PSC kernel";
  let description = [{
    Spike or event input (N-MNIST, DVS) already binned into `T` steps; each
    bin holds the number of events. The PSC kernel turns it into the current
    that the first synaptic layer sees:
    `a[t] = (1 - 1/tau_s) a[t-1] + s[t] / tau_s`.

    Example:
    ```mlir
    %a = snn.encode_events %s {tau_s = 2.0 : f32} : tensor<30x50x2x34x34xf32>
    ```
  }];
  let arguments = (ins SNN_TimeTensor:$input, SNN_TauS:$tau_s);
  let results = (outs SNN_TimeTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

//===----------------------------------------------------------------------===//
// Synaptic layers (linear in the PSCs of the layer below)
//===----------------------------------------------------------------------===//

def SNN_DenseOp : SNN_Op<"dense", [Pure]> {
  let summary = "fully connected synapses: c[t] = W a[t] at every step";
  let description = [{
    `c[t, b, o] = sum_i W[o, i] * a[t, b, i]` (NA_SPEC section 1).

    Example:
    ```mlir
    %c = snn.dense %a, %w : tensor<5x64x784xf32>, tensor<400x784xf32>
        -> tensor<5x64x400xf32>
    ```
  }];
  let arguments = (ins SNN_TimeTensor:$input, 2DTensorOf<[F32]>:$weight);
  let results = (outs SNN_TimeTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight attr-dict `:` type($input) `,` type($weight)
    `->` type($result)
  }];
  let hasVerifier = 1;
}

def SNN_Conv2dOp : SNN_Op<"conv2d", [Pure]> {
  let summary = "2-D convolution applied at every time step (NCHW, OIHW)";
  let description = [{
    Cross-correlation of `input[t]` (`[T, B, C, H, W]`) with `weight`
    (`[O, C, KH, KW]`), zero padding `padding = [ph, pw]`, strides
    `strides = [sh, sw]`. Result `[T, B, O, OH, OW]` with
    `OH = (H + 2 ph - KH) / sh + 1`.

    Example:
    ```mlir
    %c = snn.conv2d %a, %w {padding = array<i64: 0, 0>, strides = array<i64: 1, 1>}
        : tensor<5x64x1x28x28xf32>, tensor<15x1x5x5xf32> -> tensor<5x64x15x24x24xf32>
    ```
  }];
  let arguments = (ins SNN_TimeTensor:$input, 4DTensorOf<[F32]>:$weight,
                   DefaultValuedAttr<SNN_Pair, "{1, 1}">:$strides,
                   DefaultValuedAttr<SNN_Pair, "{0, 0}">:$padding);
  let results = (outs SNN_TimeTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight attr-dict `:` type($input) `,` type($weight)
    `->` type($result)
  }];
  let hasVerifier = 1;
}

def SNN_BiasAddOp : SNN_Op<"bias_add", [Pure,
                                       AllTypesMatch<["input", "result"]>]> {
  let summary = "adds a per-channel bias to a synaptic layer's current";
  let description = [{
    `c[t, b, o, ...] + bias[o] k[t]`: the third input of ONNX `Gemm` and
    `Conv` (channel axis 2 of `[T, B, O, ...]`) with k = 1 at every step
    (tau_s = 1, the default), or a bias behind a synapse (a NIR CubaLIF's,
    moved in front of the linear op): the constant bias through the PSC
    kernel, `k[t] = 1 - (1 - 1/tau_s)^(t+1)`.

    Example:
    ```mlir
    %cb = snn.bias_add %c, %b : tensor<5x64x400xf32>, tensor<400xf32>
    %cf = snn.bias_add %c, %b {tau_s = 3.0 : f32} : tensor<5x64x400xf32>, tensor<400xf32>
    ```
  }];
  let arguments = (ins SNN_TimeTensor:$input, 1DTensorOf<[F32]>:$bias,
                   DefaultValuedAttr<F32Attr, "1.0">:$tau_s);
  let results = (outs SNN_TimeTensor:$result);
  let assemblyFormat =
      "$input `,` $bias attr-dict `:` type($input) `,` type($bias)";
  let hasVerifier = 1;
}

def SNN_BatchNormOp : SNN_Op<"batch_norm", [Pure,
    AllTypesMatch<["input", "result"]>,
    AllTypesMatch<["gamma", "beta", "running_mean", "running_var", "new_mean",
                   "new_var", "mean", "inv_std"]>]> {
  let summary = "batch normalization over time, batch and space, per channel";
  let description = [{
    ONNX `BatchNormalization` on a time-major activation `[T, B, C, ...]`
    (ONNX's `[N, C, ...]` with N = T*B): per channel c, over every time
    step, sample and position, `y = gamma (x - mean) / sqrt(var + eps) +
    beta`. With `training` (the train step) mean and var are the batch's
    (var biased) and the running statistics move `updates` times:
    `r := (1 - momentum) r + momentum s` with the unbiased variance
    (PyTorch's convention: momentum 0.1 is ONNX's 0.9); without it (the eval
    step) mean and var are the running statistics and they do not move.
    `mean` and `inv_std` (1 / sqrt(var + eps)) are what the backward needs.

    Example:
    ```mlir
    %y, %rm1, %rv1, %mean, %inv = snn.batch_norm %x, %gamma, %beta, %rm, %rv
        {eps = 1.0e-5 : f32, momentum = 0.1 : f32, training}
        : tensor<1x128x400xf32>, tensor<400xf32>
    ```
  }];
  let arguments = (ins SNN_TimeTensor:$input, 1DTensorOf<[F32]>:$gamma,
                   1DTensorOf<[F32]>:$beta, 1DTensorOf<[F32]>:$running_mean,
                   1DTensorOf<[F32]>:$running_var,
                   DefaultValuedAttr<F32Attr, "1.0e-5">:$eps,
                   DefaultValuedAttr<F32Attr, "0.1">:$momentum,
                   DefaultValuedAttr<I64Attr, "1">:$updates,
                   UnitAttr:$training);
  let results = (outs SNN_TimeTensor:$result, 1DTensorOf<[F32]>:$new_mean,
                 1DTensorOf<[F32]>:$new_var, 1DTensorOf<[F32]>:$mean,
                 1DTensorOf<[F32]>:$inv_std);
  let assemblyFormat = [{
    $input `,` $gamma `,` $beta `,` $running_mean `,` $running_var attr-dict
    `:` type($input) `,` type($gamma)
  }];
  let hasVerifier = 1;
  let builders = [OpBuilder<(ins "Value":$input, "Value":$gamma,
      "Value":$beta, "Value":$runningMean, "Value":$runningVar,
      "float":$eps, "float":$momentum, "bool":$training), [{
    Type c = gamma.getType();
    build($_builder, $_state, input.getType(), c, c, c, c, input, gamma,
          beta, runningMean, runningVar, $_builder.getF32FloatAttr(eps),
          $_builder.getF32FloatAttr(momentum), $_builder.getI64IntegerAttr(1),
          training ? $_builder.getUnitAttr() : UnitAttr());
  }]>];
}

def SNN_BatchNormGradOp : SNN_Op<"batch_norm_grad", [Pure,
    AllTypesMatch<["grad", "input", "grad_input"]>,
    AllTypesMatch<["gamma", "mean", "inv_std", "grad_gamma", "grad_beta"]>]> {
  let summary = "backward of a training-mode snn.batch_norm";
  let description = [{
    With x^ = (x - mean) inv_std and n the elements per channel:
    `grad_gamma = sum dy x^`, `grad_beta = sum dy`,
    `dx = gamma inv_std (dy - grad_beta / n - x^ grad_gamma / n)` (the batch
    statistics' own dependence on x included).

    Example:
    ```mlir
    %dx, %dgamma, %dbeta = snn.batch_norm_grad %dy, %x, %gamma, %mean, %inv
        : tensor<1x128x400xf32>, tensor<400xf32>
    ```
  }];
  let arguments = (ins SNN_TimeTensor:$grad, SNN_TimeTensor:$input,
                   1DTensorOf<[F32]>:$gamma, 1DTensorOf<[F32]>:$mean,
                   1DTensorOf<[F32]>:$inv_std);
  let results = (outs SNN_TimeTensor:$grad_input, 1DTensorOf<[F32]>:$grad_gamma,
                 1DTensorOf<[F32]>:$grad_beta);
  let assemblyFormat = [{
    $grad `,` $input `,` $gamma `,` $mean `,` $inv_std attr-dict `:`
    type($grad) `,` type($gamma)
  }];
  let hasVerifier = 1;
  let builders = [OpBuilder<(ins "Value":$grad, "Value":$input, "Value":$gamma,
      "Value":$mean, "Value":$invStd), [{
    Type c = gamma.getType();
    build($_builder, $_state, grad.getType(), c, c, grad, input, gamma, mean,
          invStd);
  }]>];
}

def SNN_PoolOp : SNN_Op<"pool", [Pure]> {
  let summary = "sum or average pooling of PSCs, scaled, at every step";
  let description = [{
    Pooling is linear on PSCs and has no neuron after it (NA_SPEC section 1):
    `y = scale * reduce(window)`, non-overlapping windows of size `kernel`
    (stride = kernel). `avg` divides the window sum by its size before
    scaling. The paper's networks use `sum` with scale 1.1.

    Example:
    ```mlir
    %p = snn.pool sum %a {kernel = array<i64: 2, 2>, scale = 1.1 : f32}
        : tensor<5x64x15x24x24xf32> -> tensor<5x64x15x12x12xf32>
    ```
  }];
  let arguments = (ins SNN_PoolKindAttr:$kind, SNN_TimeTensor:$input,
                   SNN_Pair:$kernel,
                   DefaultValuedAttr<F32Attr, "1.0">:$scale);
  let results = (outs SNN_TimeTensor:$result);
  let assemblyFormat =
      "$kind $input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def SNN_FlattenOp : SNN_Op<"flatten", [Pure]> {
  let summary = "flatten all feature dimensions: [T, B, ...] -> [T, B, N]";
  let description = [{
    Example:
    ```mlir
    %f = snn.flatten %p : tensor<5x64x40x4x4xf32> -> tensor<5x64x640xf32>
    ```
  }];
  let arguments = (ins SNN_TimeTensor:$input);
  let results = (outs SNN_TimeTensor:$result);
  let assemblyFormat =
      "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def SNN_DropoutOp : SNN_Op<"dropout", [Pure,
                                       AllTypesMatch<["input", "result"]>]> {
  let summary = "dropout on PSCs with one mask per sample shared over time";
  let description = [{
    Draws a keep-mask of shape `[B, ...]` (the input's shape without its time
    axis) from a counter-based generator keyed by `key` and `stream` (each
    dropout of a model has its own stream, so that two layers of one size
    never share a mask), and returns
    `y[t] = a[t] * mask` with `mask` in `{0, 1/(1-rate)}`. The mask is a
    result because the backward pass multiplies by it again.

    Example:
    ```mlir
    %y, %mask = snn.dropout %a, %key {rate = 0.2 : f32}
        : tensor<5x64x400xf32> -> tensor<64x400xf32>
    ```
  }];
  let arguments = (ins SNN_TimeTensor:$input, I64:$key, F32Attr:$rate,
                   DefaultValuedAttr<I64Attr, "0">:$stream);
  let results = (outs SNN_TimeTensor:$result, SNN_F32Tensor:$mask);
  let assemblyFormat =
      "$input `,` $key attr-dict `:` type($input) `->` type($mask)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Neurons
//===----------------------------------------------------------------------===//

def SNN_NeuronOp : SNN_RecurrentOp<"neuron",
                                   [AllTypesMatch<["input", "potential", "spikes"]>]> {
  let summary = "a layer of spiking neurons (LIF, IF; reset to zero or by subtraction)";
  let description = [{
    NA_SPEC sections 1 and 8, per neuron, state 0 at t = -1, with the
    dynamics of `model` (`#snn.neuron`): `u[t] = k r[t-1] + c[t]`,
    `s[t] = u[t] >= threshold`, `r[t]` the reset of `u[t]`. Yields the
    pre-reset potential `u` (the NA backward needs it) and the spikes `s`
    (0.0 or 1.0).

    Example:
    ```mlir
    %u, %s = snn.neuron %c <lif, tau_m = 5.0, threshold = 1.0, reset = zero>
        : tensor<5x64x400xf32>
    ```
  }];
  let arguments = (ins SNN_TimeTensor:$input, SNN_NeuronAttr:$model);
  let results = (outs SNN_TimeTensor:$potential, SNN_TimeTensor:$spikes);
  let assemblyFormat = "$input $model attr-dict `:` type($input)";
}

def SNN_PSCOp : SNN_RecurrentOp<"psc", [AllTypesMatch<["input", "result"]>]> {
  let summary = "first-order post-synaptic-current kernel";
  let description = [{
    `a[t] = (1 - 1/tau_s) a[t-1] + s[t] / tau_s`, `a[-1] = 0`
    (NA_SPEC section 1).

    Example:
    ```mlir
    %a = snn.psc %s {tau_s = 2.0 : f32} : tensor<5x64x400xf32>
    ```
  }];
  let arguments = (ins SNN_TimeTensor:$input, SNN_TauS:$tau_s);
  let results = (outs SNN_TimeTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

//===----------------------------------------------------------------------===//
// Targets and losses
//===----------------------------------------------------------------------===//

def SNN_TargetSpikesOp : SNN_Op<"target_spikes", [Pure]> {
  let summary = "desired output spike trains from class labels";
  let description = [{
    NA_SPEC section 2: the label's output neuron should fire at every step
    (`d = 1`), the others never (`d = 0`). Result `[T, B, N]` for labels of
    shape `[B]`; a label outside `[0, N)` gives an all-zero row.

    Example:
    ```mlir
    %d = snn.target_spikes %labels : tensor<64xi32> -> tensor<5x64x10xf32>
    ```
  }];
  let arguments = (ins SNN_LabelTensor:$labels);
  let results = (outs SNN_TimeTensor:$result);
  let assemblyFormat =
      "$labels attr-dict `:` type($labels) `->` type($result)";
  let hasVerifier = 1;
}

class SNN_LossOp<string mnemonic> : SNN_Op<mnemonic, [Pure,
    AllTypesMatch<["output", "desired", "grad"]>]> {
  let results = (outs F32:$loss, SNN_TimeTensor:$grad);
  let assemblyFormat = "$output `,` $desired attr-dict `:` type($output)";
  let hasVerifier = 1;
}

def SNN_VanRossumLossOp : SNN_LossOp<"van_rossum_loss"> {
  let summary = "Van Rossum distance between output PSCs and filtered targets";
  let description = [{
    NA_SPEC section 2, eqs. (5)-(6): with `(sigma*d)` the desired spikes
    through the PSC kernel (`tau_s`),
    `loss = sum_{t,b,n} 1/2 ((sigma*d)[t] - a[t])^2` and
    `grad = a - (sigma*d)` (= dL/da, the output layer's `g`).

    Example:
    ```mlir
    %loss, %g = snn.van_rossum_loss %a, %d {tau_s = 2.0 : f32} : tensor<5x64x10xf32>
    ```
  }];
  let arguments = (ins SNN_TimeTensor:$output, SNN_TimeTensor:$desired,
                   SNN_TauS:$tau_s);
}

def SNN_SpikeCountLossOp : SNN_LossOp<"spike_count_loss"> {
  let summary = "squared error between output and desired spike counts";
  let description = [{
    With counts taken as the PSC sum over time,
    `loss = sum_{b,n} 1/2 (sum_t a[t] - sum_t d[t])^2` and
    `grad[t] = sum_t' a[t'] - sum_t' d[t']` at every step.

    Example:
    ```mlir
    %loss, %g = snn.spike_count_loss %a, %d : tensor<5x64x10xf32>
    ```
  }];
  let arguments = (ins SNN_TimeTensor:$output, SNN_TimeTensor:$desired);
}

//===----------------------------------------------------------------------===//
// Backward
//===----------------------------------------------------------------------===//

def SNN_PSCErrorScanOp : SNN_RecurrentOp<"psc_error_scan",
                                         [AllTypesMatch<["grad", "result"]>]> {
  let summary = "reverse scan of dL/da through the PSC kernel, eq. (7)";
  let description = [{
    `e[T-1] = g[T-1]`, `e[t] = g[t] + (1 - 1/tau_s) e[t+1]` (NA_SPEC
    section 2): the error that a change of the spike train at `t` makes.

    Example:
    ```mlir
    %e = snn.psc_error_scan %g {tau_s = 2.0 : f32} : tensor<5x64x10xf32>
    ```
  }];
  let arguments = (ins SNN_TimeTensor:$grad, SNN_TauS:$tau_s);
  let results = (outs SNN_TimeTensor:$result);
  let assemblyFormat = "$grad attr-dict `:` type($grad)";
  let extraClassDeclaration = [{
    bool isReverseInTime() { return true; }
  }];
}

def SNN_NABackwardOp : SNN_Op<"na_backward", [Pure,
    AllTypesMatch<["error", "input", "potential", "spikes", "delta"]>]> {
  let summary = "Neighborhood Aggregation backward of a layer of neurons";
  let description = [{
    NA_SPEC section 3: for every neuron and perturbation time `p`, flip the
    firing status at `p` with the least perturbation, re-run the layer's
    recurrence for `t > p` on the same input (the chain effect), take the
    first-order loss change `dL_p = sum_{t>=p} e[t] (a'[t] - a[t])` and scale
    it: `delta[p] = dL_p * clip(1 / (threshold - u[p])^3, -clip, clip)`.

    `selection` names the neighborhood-selection strategy that a pass in the
    training pipeline's neighborhood slot lowers this op with (`"sns"`, the
    paper's Simple Neighborhood Selection, by default). `error` is the PSC
    error `e` of eq. (7); `input` is the layer's synaptic input `c` (the
    re-simulation uses the same `c[t]`, bit for bit); `potential` and
    `spikes` are the forward `u`, `s`; `neuron` is the layer's model
    (NA_SPEC section 8: the same flips for every reset rule).

    Example:
    ```mlir
    %delta = snn.na_backward %e, %c, %u, %s {clip = 10.0 : f32, selection = "sns",
        neuron = #snn.neuron<lif, tau_m = 5.0, threshold = 1.0, reset = zero>,
        tau_s = 2.0 : f32} : tensor<5x64x400xf32>
    ```
  }];
  let arguments = (ins SNN_TimeTensor:$error, SNN_TimeTensor:$input,
                   SNN_TimeTensor:$potential,
                   SNN_TimeTensor:$spikes, SNN_DefaultNeuron:$neuron,
                   SNN_TauS:$tau_s,
                   DefaultValuedAttr<F32Attr, "10.0">:$clip,
                   DefaultValuedStrAttr<StrAttr, "sns">:$selection);
  let results = (outs SNN_TimeTensor:$delta);
  let assemblyFormat =
      "$error `,` $input `,` $potential `,` $spikes attr-dict `:` type($error)";
  let hasVerifier = 1;
}

def SNN_STBPBackwardOp : SNN_Op<"stbp_backward", [Pure,
    AllTypesMatch<["grad", "potential", "spikes", "delta"]>]> {
  let summary = "surrogate-gradient (STBP) backward of a layer of neurons and its PSC";
  let description = [{
    The sibling of `snn.na_backward` for the spatio-temporal backpropagation
    of Wu et al. (2018/2019): backpropagation through time of the neuron
    recurrence (NA_SPEC sections 1 and 8), through the membrane and the
    reset r = R(u, s), with the spike function's derivative replaced by a
    surrogate h(u):

        rect:    h(u) = (|u - threshold| < width / 2) / width
        sigmoid: h(u) = scale * sig'(u - threshold),
                 sig(x) = 1 / (1 + exp(-x / temperature))

    With `grad` = dL/da of the layer's PSC output, e the eq. (7) scan of it
    and k the neuron's leak:

        dL/ds[t] = e[t] / tau_s + dr[t] * dR/ds      (0 with detach_reset)
        du[t]    = dL/ds[t] * h(u[t]) + dr[t] * dR/du
        dr[t-1]  = k * du[t],   dr[T-1] = 0

    dR/du = 1 - s, dR/ds = -u (reset to zero); 1 and -threshold (by
    subtraction). `delta = du` (= dL/dc).

    Example:
    ```mlir
    %delta = snn.stbp_backward %g, %u, %s {
        neuron = #snn.neuron<lif, tau_m = 5.0, threshold = 1.0, reset = zero>,
        tau_s = 2.0 : f32, surrogate = #snn<surrogate rect>, width = 1.0 : f32}
        : tensor<30x1x1xf32>
    ```
  }];
  let arguments = (ins SNN_TimeTensor:$grad, SNN_TimeTensor:$potential,
                   SNN_TimeTensor:$spikes, SNN_DefaultNeuron:$neuron,
                   SNN_TauS:$tau_s,
                   DefaultValuedAttr<SNN_SurrogateAttr,
                                     "::mlir::snn::Surrogate::rect">:$surrogate,
                   DefaultValuedAttr<F32Attr, "1.0">:$width,
                   DefaultValuedAttr<F32Attr, "5.0">:$scale,
                   DefaultValuedAttr<F32Attr, "3.0">:$temperature,
                   UnitAttr:$detach_reset);
  let results = (outs SNN_TimeTensor:$delta);
  let assemblyFormat =
      "$grad `,` $potential `,` $spikes attr-dict `:` type($grad)";
  let hasVerifier = 1;
}

def SNN_DenseGradInputOp : SNN_Op<"dense_grad_input", [Pure]> {
  let summary = "error to the layer below through dense synapses, eq. (9)";
  let description = [{
    `g[t, b, i] = sum_o W[o, i] * delta[t, b, o]`.

    Example:
    ```mlir
    %g = snn.dense_grad_input %delta, %w : tensor<5x64x400xf32>,
        tensor<400x784xf32> -> tensor<5x64x784xf32>
    ```
  }];
  let arguments = (ins SNN_TimeTensor:$delta, 2DTensorOf<[F32]>:$weight);
  let results = (outs SNN_TimeTensor:$result);
  let assemblyFormat = [{
    $delta `,` $weight attr-dict `:` type($delta) `,` type($weight)
    `->` type($result)
  }];
  let hasVerifier = 1;
}

def SNN_DenseGradWeightOp : SNN_Op<"dense_grad_weight", [Pure]> {
  let summary = "dense weight gradient, eq. (10)";
  let description = [{
    `dW[o, i] = sum_{t,b} a[t, b, i] * delta[t, b, o]`.

    Example:
    ```mlir
    %dw = snn.dense_grad_weight %a, %delta : tensor<5x64x784xf32>,
        tensor<5x64x400xf32> -> tensor<400x784xf32>
    ```
  }];
  let arguments = (ins SNN_TimeTensor:$input, SNN_TimeTensor:$delta);
  let results = (outs 2DTensorOf<[F32]>:$result);
  let assemblyFormat = [{
    $input `,` $delta attr-dict `:` type($input) `,` type($delta)
    `->` type($result)
  }];
  let hasVerifier = 1;
}

def SNN_Conv2dGradInputOp : SNN_Op<"conv2d_grad_input", [Pure]> {
  let summary = "error to the layer below through a convolution, eq. (9)";
  let description = [{
    The transposed convolution of `delta` (`[T, B, O, OH, OW]`) with
    `weight` (`[O, C, KH, KW]`); the result type gives the input shape
    `[T, B, C, H, W]`.

    Example:
    ```mlir
    %g = snn.conv2d_grad_input %delta, %w : tensor<5x64x15x24x24xf32>,
        tensor<15x1x5x5xf32> -> tensor<5x64x1x28x28xf32>
    ```
  }];
  let arguments = (ins SNN_TimeTensor:$delta, 4DTensorOf<[F32]>:$weight,
                   DefaultValuedAttr<SNN_Pair, "{1, 1}">:$strides,
                   DefaultValuedAttr<SNN_Pair, "{0, 0}">:$padding);
  let results = (outs SNN_TimeTensor:$result);
  let assemblyFormat = [{
    $delta `,` $weight attr-dict `:` type($delta) `,` type($weight)
    `->` type($result)
  }];
  let hasVerifier = 1;
}

def SNN_Conv2dGradWeightOp : SNN_Op<"conv2d_grad_weight", [Pure]> {
  let summary = "convolution weight gradient, eq. (10)";
  let description = [{
    `dW[o, c, kh, kw] = sum_{t,b,y,x} delta[t,b,o,y,x] *
    a[t, b, c, y*sh + kh - ph, x*sw + kw - pw]`.

    Example:
    ```mlir
    %dw = snn.conv2d_grad_weight %a, %delta : tensor<5x64x1x28x28xf32>,
        tensor<5x64x15x24x24xf32> -> tensor<15x1x5x5xf32>
    ```
  }];
  let arguments = (ins SNN_TimeTensor:$input, SNN_TimeTensor:$delta,
                   DefaultValuedAttr<SNN_Pair, "{1, 1}">:$strides,
                   DefaultValuedAttr<SNN_Pair, "{0, 0}">:$padding);
  let results = (outs 4DTensorOf<[F32]>:$result);
  let assemblyFormat = [{
    $input `,` $delta attr-dict `:` type($input) `,` type($delta)
    `->` type($result)
  }];
  let hasVerifier = 1;
}

def SNN_BiasGradOp : SNN_Op<"bias_grad", [Pure]> {
  let summary = "bias gradient: dL/db = sum over time, batch and positions";
  let description = [{
    `db[o] = sum_{t, b, ...} k[t] delta[t, b, o, ...]`, with the k[t] of
    the `snn.bias_add` it differentiates (1 for tau_s = 1).

    Example:
    ```mlir
    %db = snn.bias_grad %delta : tensor<5x64x400xf32> -> tensor<400xf32>
    ```
  }];
  let arguments = (ins SNN_TimeTensor:$delta,
                   DefaultValuedAttr<F32Attr, "1.0">:$tau_s);
  let results = (outs 1DTensorOf<[F32]>:$result);
  let assemblyFormat = "$delta attr-dict `:` type($delta) `->` type($result)";
  let hasVerifier = 1;
}

def SNN_PoolGradOp : SNN_Op<"pool_grad", [Pure]> {
  let summary = "backward of snn.pool: spread each window's error back";
  let description = [{
    Every input position of a window receives `scale * g` (`sum`) or
    `scale * g / (kh * kw)` (`avg`); positions outside every window get 0.

    Example:
    ```mlir
    %g = snn.pool_grad sum %gp {kernel = array<i64: 2, 2>, scale = 1.1 : f32}
        : tensor<5x64x15x12x12xf32> -> tensor<5x64x15x24x24xf32>
    ```
  }];
  let arguments = (ins SNN_PoolKindAttr:$kind, SNN_TimeTensor:$grad,
                   SNN_Pair:$kernel,
                   DefaultValuedAttr<F32Attr, "1.0">:$scale);
  let results = (outs SNN_TimeTensor:$result);
  let assemblyFormat =
      "$kind $grad attr-dict `:` type($grad) `->` type($result)";
  let hasVerifier = 1;
}

def SNN_EncodeCurrentGradOp : SNN_Op<"encode_current_grad", [Pure]> {
  let summary = "backward of snn.encode_current: the kernel-weighted sum over T";
  let description = [{
    The adjoint of `snn.encode_current` (NA_SPEC section 1): a current `x`
    held since `t = 0` reaches `a[t] = k[t] x` with
    `k[t] = (1 - 1/tau_s) k[t-1] + 1/tau_s`, `k[-1] = 0`
    (`k[t] = 1 - (1 - 1/tau_s)^(t+1)`), so the gradient is
    `r = sum_t k[t] g[t]`. The result drops `g`'s leading time axis.
    snn-factor-input-encoding uses it to take weight gradients of the first
    synaptic layer once per sample instead of once per step.

    Example:
    ```mlir
    %r = snn.encode_current_grad %g {tau_s = 2.0 : f32}
        : tensor<5x64x15x24x24xf32> -> tensor<64x15x24x24xf32>
    ```
  }];
  let arguments = (ins SNN_TimeTensor:$grad, SNN_TauS:$tau_s);
  let results = (outs SNN_F32Tensor:$result);
  let assemblyFormat =
      "$grad attr-dict `:` type($grad) `->` type($result)";
  let hasVerifier = 1;
}

def SNN_DropoutGradOp : SNN_Op<"dropout_grad", [Pure,
                                               AllTypesMatch<["grad", "result"]>]> {
  let summary = "backward of snn.dropout: multiply by the same mask";
  let description = [{
    Example:
    ```mlir
    %g = snn.dropout_grad %gy, %mask : tensor<5x64x400xf32>, tensor<64x400xf32>
    ```
  }];
  let arguments = (ins SNN_TimeTensor:$grad, SNN_F32Tensor:$mask);
  let results = (outs SNN_TimeTensor:$result);
  let assemblyFormat =
      "$grad `,` $mask attr-dict `:` type($grad) `,` type($mask)";
  let hasVerifier = 1;
}

def SNN_CrossEntropyLossOp : SNN_Op<"cross_entropy_loss", [Pure,
    AllTypesMatch<["output", "grad"]>]> {
  let summary = "softmax cross-entropy of the time-summed output, mean over the batch";
  let description = [{
    With `z[b] = sum_t output[t, b, :]` (spike counts, summed PSCs, or
    logits when T = 1), `loss = (1/B) sum_b (logsumexp(z[b]) - z[b, y_b])`
    and `grad[t, b, c] = (softmax(z[b])_c - [c = y_b]) / B` at every step.
    A batch mean: data parallelism averages its gradients over the ranks.

    Example:
    ```mlir
    %loss, %g = snn.cross_entropy_loss %a, %labels : tensor<5x64x10xf32>, tensor<64xi32>
    ```
  }];
  let arguments = (ins SNN_TimeTensor:$output, SNN_LabelTensor:$labels);
  let results = (outs F32:$loss, SNN_TimeTensor:$grad);
  let assemblyFormat =
      "$output `,` $labels attr-dict `:` type($output) `,` type($labels)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Feedback modules: implicit differentiation on the equilibrium (IDE)
//===----------------------------------------------------------------------===//

def SNN_SpectralNormOp : SNN_Op<"spectral_norm", [Pure,
    AllTypesMatch<["weight", "result"]>, AllTypesMatch<["u", "new_u"]>,
    AllTypesMatch<["v", "new_v"]>, AllTypesMatch<["g", "sigma"]>]> {
  let summary = "the feedback weight's spectral-norm reparametrisation (IDE_SPEC section 7)";
  let description = [{
    `result = clamp(g, -1, 1) weight / sigma` with `sigma = u'^T weight v'`,
    where, with `training`, one power iteration moves the buffers:
    `v' = normalise(weight^T u)`, `u' = normalise(weight v')`
    (normalise(x) = x / max(||x||, 1e-12)); without it (evaluation) u' = u
    and v' = v. No gradient flows through u' and v'. A convolution's kernel
    [O, C, KH, KW] is the matrix [O, C*KH*KW] here (as PyTorch's
    spectral_norm reshapes it, IDE_SPEC section 7): `u` has O values, `v`
    C*KH*KW.

    Example:
    ```mlir
    %w, %u1, %v1, %sigma = snn.spectral_norm %raw, %g, %u, %v {training}
        : tensor<400x400xf32>, tensor<1xf32>, tensor<400xf32>, tensor<400xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32]>:$weight, 1DTensorOf<[F32]>:$g,
                   1DTensorOf<[F32]>:$u, 1DTensorOf<[F32]>:$v, UnitAttr:$training);
  let results = (outs RankedTensorOf<[F32]>:$result, 1DTensorOf<[F32]>:$new_u,
                 1DTensorOf<[F32]>:$new_v, 1DTensorOf<[F32]>:$sigma);
  let assemblyFormat = [{
    $weight `,` $g `,` $u `,` $v attr-dict `:` type($weight) `,` type($g)
    `,` type($u) `,` type($v)
  }];
  let hasVerifier = 1;
  let builders = [OpBuilder<(ins "Value":$weight, "Value":$g, "Value":$u,
      "Value":$v, "bool":$training), [{
    build($_builder, $_state, weight.getType(), u.getType(), v.getType(),
          g.getType(), weight, g, u, v,
          training ? $_builder.getUnitAttr() : UnitAttr());
  }]>];
}

def SNN_SpectralNormGradOp : SNN_Op<"spectral_norm_grad", [Pure,
    AllTypesMatch<["grad", "weight", "grad_weight"]>,
    AllTypesMatch<["g", "sigma", "grad_g"]>]> {
  let summary = "backward of snn.spectral_norm (u', v' constant)";
  let description = [{
    With G the gradient of the result, g^ = clamp(g, -1, 1) and
    <G, W> = sum G W: `grad_weight = (g^ / sigma) (G - (<G, W> / sigma) u' v'^T)`,
    `grad_g = [-1 <= g <= 1] <G, W> / sigma`.

    Example:
    ```mlir
    %dw, %dg = snn.spectral_norm_grad %gw, %raw, %g, %u1, %v1, %sigma
        : tensor<400x400xf32>, tensor<1xf32>, tensor<400xf32>, tensor<400xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32]>:$grad, RankedTensorOf<[F32]>:$weight,
                   1DTensorOf<[F32]>:$g, 1DTensorOf<[F32]>:$u,
                   1DTensorOf<[F32]>:$v, 1DTensorOf<[F32]>:$sigma);
  let results = (outs RankedTensorOf<[F32]>:$grad_weight, 1DTensorOf<[F32]>:$grad_g);
  let assemblyFormat = [{
    $grad `,` $weight `,` $g `,` $u `,` $v `,` $sigma attr-dict `:`
    type($grad) `,` type($g) `,` type($u) `,` type($v)
  }];
}

def SNN_FeedbackOp : SNN_Op<"feedback", [Pure,
    AllTypesMatch<["input", "rates"]>]> {
  let summary = "a single-layer feedback module of IF/LIF neurons (IDE_SPEC sections 1-2)";
  let description = [{
    The constant current `input` ([1, B, N]: the input connection's output)
    drives N neurons with reset by subtraction and `threshold` V for `steps`
    steps; the feedback `weight` ([N, N]) adds `mask * (W s[t-1])` from the
    second step on. `leak` is the LIF leak after reset (1: IF). `rates` is the
    (leak-weighted) average firing rate a_T. With `rate` > 0 and `training`,
    the feedback's dropout mask ([B, N], {0, 1/(1-rate)}, from `key` and
    `stream`) is drawn once for all steps and is a result, because the
    backward uses it again.

    A convolutional feedback (64C5s) has a kernel `weight` [C, C, KH, KW]
    (odd KH, KW) and `image` = [C, H, W] with N = C*H*W: W s is the
    convolution of s, seen as [B, C, H, W], with stride 1 and "same"
    padding ((KH-1)/2, (KW-1)/2), and W^T x its transpose (the gradient of
    the convolution with respect to its input).

    The backward (snn.feedback_grad) is IDE's: the equilibrium map
    f(a) = clamp01((mask (W a) + input) / V) at a = a_T, beta solved from
    beta = g + J^T beta by `solver` (broyden: IDE_SPEC section 5.1, at most
    `max_iterations` steps, the lowest-residual iterate; fixed_point: the
    plain iteration until the largest change is below `tolerance`;
    official_iter: the official N-MNIST damped iteration; exact: a dense
    LU solve of (I - J^T) beta = g per sample, LAPACK, for tests and small
    modules), then one
    vector-Jacobian product of f.

    Example:
    ```mlir
    %a, %mask = snn.feedback %c, %w, %key {steps = 5, threshold = 2.0 : f32,
        leak = 0.95 : f32, rate = 0.2 : f32, training}
        : tensor<1x128x400xf32>, tensor<400x400xf32> -> tensor<128x400xf32>
    ```
  }];
  let arguments = (ins SNN_TimeTensor:$input, RankedTensorOf<[F32]>:$weight,
                   I64:$key, I64Attr:$steps, F32Attr:$threshold,
                   DefaultValuedAttr<F32Attr, "1.0">:$leak,
                   DefaultValuedAttr<F32Attr, "0.0">:$rate,
                   DefaultValuedAttr<I64Attr, "0">:$stream,
                   DefaultValuedAttr<SNN_IDESolverAttr, "::mlir::snn::IDESolver::fixed_point">:$solver,
                   DefaultValuedAttr<I64Attr, "30">:$max_iterations,
                   DefaultValuedAttr<F32Attr, "1.0e-6">:$tolerance,
                   UnitAttr:$training, OptionalAttr<DenseI64ArrayAttr>:$image);
  let results = (outs SNN_TimeTensor:$rates, 2DTensorOf<[F32]>:$mask);
  let assemblyFormat = [{
    $input `,` $weight `,` $key attr-dict `:` type($input) `,` type($weight)
    `->` type($mask)
  }];
  let hasVerifier = 1;
}

def SNN_FeedbackGradOp : SNN_Op<"feedback_grad", [Pure,
    AllTypesMatch<["grad", "rates", "input", "grad_input"]>,
    AllTypesMatch<["weight", "grad_weight"]>]> {
  let summary = "IDE's backward of snn.feedback: solve, then one VJP of f";
  let description = [{
    With p = (mask (W a) + input) / V, d = [0 <= p <= 1] and
    J^T x = W^T (d mask x / V) per sample: beta from beta = grad + J^T beta
    (the op's solver), then `grad_input = beta d / V` and
    `grad_weight = sum_b (beta d mask / V)_b a_b^T`. With `image` (a
    convolutional feedback, as on snn.feedback) W is the convolution, W^T
    its transpose, and `grad_weight` the kernel's gradient of W a with
    cotangent beta d mask / V.

    Example:
    ```mlir
    %dc, %dw = snn.feedback_grad %g, %a, %c, %w, %mask {threshold = 2.0 : f32}
        : tensor<1x128x400xf32>, tensor<400x400xf32>, tensor<128x400xf32>
    ```
  }];
  let arguments = (ins SNN_TimeTensor:$grad, SNN_TimeTensor:$rates,
                   SNN_TimeTensor:$input, RankedTensorOf<[F32]>:$weight,
                   2DTensorOf<[F32]>:$mask, F32Attr:$threshold,
                   DefaultValuedAttr<SNN_IDESolverAttr, "::mlir::snn::IDESolver::fixed_point">:$solver,
                   DefaultValuedAttr<I64Attr, "30">:$max_iterations,
                   DefaultValuedAttr<F32Attr, "1.0e-6">:$tolerance,
                   OptionalAttr<DenseI64ArrayAttr>:$image);
  let results = (outs SNN_TimeTensor:$grad_input, RankedTensorOf<[F32]>:$grad_weight);
  let assemblyFormat = [{
    $grad `,` $rates `,` $input `,` $weight `,` $mask attr-dict `:`
    type($grad) `,` type($weight) `,` type($mask)
  }];
  let hasVerifier = 1;
}

def SNN_FeedbackRingOp : SNN_Op<"feedback_ring", [Pure,
    AttrSizedOperandSegments, AttrSizedResultSegments]> {
  let summary = "a multi-layer feedback module: L convolutional layers in a ring (IDE_SPEC sections 1.2, 2)";
  let description = [{
    L spiking layers of IF/LIF neurons (reset by subtraction, `threshold`
    V, `leak` after reset) on images: layer 0 is `image` = [C0, H0, W0] and
    gets the constant current `input` ([1, B, C0*H0*W0]) at every step plus,
    from the second step on, the feedback `mask_0 * ConvT(s_{L-1}[t-1])`;
    layer l = 1 .. L-1 gets `mask_l * BN_l(conv_l(s_{l-1}[t]) + b_l)` from
    the spikes the layer below has just produced (no delay). conv_l: kernel
    `weights[l-1]` [C_l, C_{l-1}, K, K] (odd K), stride `strides[l-1]`,
    padding (K-1)/2; BN_l normalizes with the running statistics
    (`running_means`, `running_vars`, eps 1e-5) and `gammas`, `betas`, in
    training as well (as the official code's simulation does). ConvT: the
    transposed convolution with `feedback` [C_{L-1}, C0, K, K] (PyTorch's
    ConvTranspose2d layout), stride the product of `strides`, padding
    (K-1)/2 and the output padding that gives H0 x W0. `rates` are the
    (leak-weighted) average rates of layer L-1, flattened.

    With `training`, the masks (one per connection, [B, N_l], {0,
    1/(1-rate)}, from `key` and streams `stream` + l, drawn once for all
    steps) are applied and are results; and the equilibrium map f at the
    rates (IDE_SPEC section 4: a_0 = clamp01((mask_0 ConvT(a) + input) / V),
    a_l = clamp01(mask_l BN_l(conv_l(a_{l-1}) + b_l) / V) with BN_l in
    training mode) moves the running statistics once (`new_means`,
    `new_vars`: momentum 0.1, unbiased variance). Without it the masks are
    ones and the statistics are returned unchanged.

    Example:
    ```mlir
    %a, %m:3, %nm:2, %nv:2 = snn.feedback_ring %c, %wfb, %key
        weights(%w1, %w2) biases(%b1, %b2) gammas(%g1, %g2) betas(%e1, %e2)
        means(%rm1, %rm2) vars(%rv1, %rv2)
        {image = array<i64: 4, 8, 8>, strides = array<i64: 1, 2>, steps = 5,
         threshold = 2.0 : f32, training}
        : tensor<1x16x256xf32>, tensor<8x4x3x3xf32>, ... -> ...
    ```
  }];
  let arguments = (ins SNN_TimeTensor:$input, 4DTensorOf<[F32]>:$feedback,
                   Variadic<4DTensorOf<[F32]>>:$weights,
                   Variadic<1DTensorOf<[F32]>>:$biases,
                   Variadic<1DTensorOf<[F32]>>:$gammas,
                   Variadic<1DTensorOf<[F32]>>:$betas,
                   Variadic<1DTensorOf<[F32]>>:$running_means,
                   Variadic<1DTensorOf<[F32]>>:$running_vars,
                   I64:$key, DenseI64ArrayAttr:$image,
                   DenseI64ArrayAttr:$strides, I64Attr:$steps,
                   F32Attr:$threshold,
                   DefaultValuedAttr<F32Attr, "1.0">:$leak,
                   DefaultValuedAttr<F32Attr, "0.0">:$rate,
                   DefaultValuedAttr<I64Attr, "0">:$stream,
                   DefaultValuedAttr<SNN_IDESolverAttr, "::mlir::snn::IDESolver::fixed_point">:$solver,
                   DefaultValuedAttr<I64Attr, "30">:$max_iterations,
                   DefaultValuedAttr<F32Attr, "1.0e-6">:$tolerance,
                   DefaultValuedAttr<SNN_IDEJacobianAttr, "::mlir::snn::IDEJacobian::eval">:$jacobian,
                   UnitAttr:$training);
  let results = (outs SNN_TimeTensor:$rates,
                 Variadic<2DTensorOf<[F32]>>:$masks,
                 Variadic<1DTensorOf<[F32]>>:$new_means,
                 Variadic<1DTensorOf<[F32]>>:$new_vars);
  let assemblyFormat = [{
    $input `,` $feedback `,` $key `weights` `(` $weights `)` `biases` `(`
    $biases `)` `gammas` `(` $gammas `)` `betas` `(` $betas `)` `means` `(`
    $running_means `)` `vars` `(` $running_vars `)` attr-dict `:`
    type($input) `,` type($feedback) `,` `[` type($weights) `]` `,` `[`
    type($biases) `]` `,` `[` type($gammas) `]` `,` `[` type($betas) `]`
    `,` `[` type($running_means) `]` `,` `[` type($running_vars) `]` `->`
    type($rates) `,` `[` type($masks) `]` `,` `[` type($new_means) `]` `,`
    `[` type($new_vars) `]`
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The [C, H, W] of layer l (0 .. L-1).
    SmallVector<int64_t, 3> layerImage(unsigned l);
    unsigned getNumLayers() { return getWeights().size() + 1; }
  }];
}

def SNN_FeedbackRingGradOp : SNN_Op<"feedback_ring_grad", [Pure,
    AttrSizedOperandSegments, AttrSizedResultSegments]> {
  let summary = "IDE's backward of snn.feedback_ring: solve, then one VJP of f";
  let description = [{
    With f the op's equilibrium map at a = `rates` (BN in training mode, the
    batch statistics), beta from beta = grad + J^T beta by `solver`, then the
    vector-Jacobian product of f with cotangent beta: `grad_input`,
    `grad_feedback` (the transposed convolution's kernel), and per
    connection the kernel's, bias's, gamma's and beta's gradients. J by
    `jacobian`: `eval` (default), f's Jacobian at `rates` with BN on
    `running_means`, `running_vars` (the statistics the simulation used:
    the Jacobian of the dynamics that produced the rates, per sample);
    `official` (the official code, IDE_SPEC section 10.4), at f(rates) with
    BN on `running_means`, `running_vars` (there the statistics f has just
    moved); `train`, f's own Jacobian at `rates` with training-mode BN
    (batch-coupled; early in training it is not a contraction).

    Example:
    ```mlir
    %dc, %dwfb, %dw:2, %db:2, %dg:2, %de:2 = snn.feedback_ring_grad %g, %a, %c, %wfb
        weights(%w1, %w2) biases(%b1, %b2) gammas(%g1, %g2) betas(%e1, %e2)
        means(%nm1, %nm2) vars(%nv1, %nv2) masks(%m0, %m1, %m2)
        {image = array<i64: 4, 8, 8>, strides = array<i64: 1, 2>, threshold = 2.0 : f32}
        : ...
    ```
  }];
  let arguments = (ins SNN_TimeTensor:$grad, SNN_TimeTensor:$rates,
                   SNN_TimeTensor:$input, 4DTensorOf<[F32]>:$feedback,
                   Variadic<4DTensorOf<[F32]>>:$weights,
                   Variadic<1DTensorOf<[F32]>>:$biases,
                   Variadic<1DTensorOf<[F32]>>:$gammas,
                   Variadic<1DTensorOf<[F32]>>:$betas,
                   Variadic<1DTensorOf<[F32]>>:$running_means,
                   Variadic<1DTensorOf<[F32]>>:$running_vars,
                   Variadic<2DTensorOf<[F32]>>:$masks,
                   DenseI64ArrayAttr:$image, DenseI64ArrayAttr:$strides,
                   F32Attr:$threshold,
                   DefaultValuedAttr<SNN_IDESolverAttr, "::mlir::snn::IDESolver::fixed_point">:$solver,
                   DefaultValuedAttr<I64Attr, "30">:$max_iterations,
                   DefaultValuedAttr<F32Attr, "1.0e-6">:$tolerance,
                   DefaultValuedAttr<SNN_IDEJacobianAttr, "::mlir::snn::IDEJacobian::eval">:$jacobian);
  let results = (outs SNN_TimeTensor:$grad_input,
                 4DTensorOf<[F32]>:$grad_feedback,
                 Variadic<4DTensorOf<[F32]>>:$grad_weights,
                 Variadic<1DTensorOf<[F32]>>:$grad_biases,
                 Variadic<1DTensorOf<[F32]>>:$grad_gammas,
                 Variadic<1DTensorOf<[F32]>>:$grad_betas);
  let assemblyFormat = [{
    $grad `,` $rates `,` $input `,` $feedback `weights` `(` $weights `)`
    `biases` `(` $biases `)` `gammas` `(` $gammas `)` `betas` `(` $betas `)`
    `means` `(` $running_means `)` `vars` `(` $running_vars `)` `masks` `(`
    $masks `)` attr-dict `:` type($grad) `,` type($rates) `,` type($input)
    `,` type($feedback) `,` `[` type($weights) `]` `,` `[` type($biases) `]`
    `,` `[` type($gammas) `]` `,` `[` type($betas) `]` `,` `[`
    type($running_means) `]` `,` `[` type($running_vars) `]` `,` `[`
    type($masks) `]` `->` type($grad_input) `,` type($grad_feedback) `,` `[`
    type($grad_weights) `]` `,` `[` type($grad_biases) `]` `,` `[`
    type($grad_gammas) `]` `,` `[` type($grad_betas) `]`
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Optimizer
//===----------------------------------------------------------------------===//

def SNN_GradAllReduceOp : SNN_Op<"grad_all_reduce"> {
  let summary = "the gradients of the global batch: a reduction over the data-parallel ranks";
  let description = [{
    Data-parallel training (docs/data-parallel.md): every rank computes the
    gradients of its shard of the global batch; this op replaces them by
    their reduction over the ranks, `sum` (snnc's losses sum over the
    samples of a batch, as the NA paper's code does, so the gradient of the
    global batch is the sum of the ranks' gradients) or `mean` (for losses
    that average over the batch). In a single process it is the identity.

    The runtime reduces all operands in one bucketed collective
    (snnrt_grad_all_reduce: MPI_Allreduce on the CPU, ncclAllReduce on the
    step's stream on a GPU). It communicates, so it is not Pure: it is
    neither hoisted, merged nor removed.

    Example:
    ```mlir
    %g0r, %g1r = snn.grad_all_reduce %g0, %g1 {reduction = "sum"}
        : tensor<400x784xf32>, tensor<10x400xf32>
    ```
  }];
  let arguments = (ins Variadic<SNN_F32Tensor>:$grads,
                   DefaultValuedAttr<StrAttr, "\"sum\"">:$reduction);
  let results = (outs Variadic<SNN_F32Tensor>:$reduced);
  let hasCustomAssemblyFormat = 1;
  let hasVerifier = 1;
  let builders = [OpBuilder<(ins "ValueRange":$grads, "StringRef":$reduction), [{
    $_state.addOperands(grads);
    $_state.addAttribute("reduction", $_builder.getStringAttr(reduction));
    for (Value g : grads)
      $_state.addTypes(g.getType());
  }]>];
}

def SNN_ClipGradNormOp : SNN_Op<"clip_grad_norm", [Pure]> {
  let summary = "scale all gradients so that their joint L2 norm is at most max_norm";
  let description = [{
    As `torch.nn.utils.clip_grad_norm_`: with `n` the L2 norm of all
    gradients together, every gradient is multiplied by
    `min(1, max_norm / (n + 1e-6))`. `norm` is `n` before clipping.

    Example:
    ```mlir
    %g0c, %g1c, %n = snn.clip_grad_norm %g0, %g1 {max_norm = 1.0 : f32}
        : tensor<400x784xf32>, tensor<10x400xf32>
    ```
  }];
  let arguments = (ins Variadic<SNN_F32Tensor>:$grads, F32Attr:$max_norm);
  let results = (outs Variadic<SNN_F32Tensor>:$clipped, F32:$norm);
  let hasCustomAssemblyFormat = 1;
  let hasVerifier = 1;
}

class SNN_AdamOpBase<string mnemonic> : SNN_Op<mnemonic, [Pure,
    AllTypesMatch<["param", "grad", "m", "v", "new_param", "new_m", "new_v"]>]> {
  let arguments = (ins SNN_F32Tensor:$param, SNN_F32Tensor:$grad,
                   SNN_F32Tensor:$m, SNN_F32Tensor:$v, I64:$step, F32:$lr,
                   DefaultValuedAttr<F32Attr, "0.9">:$beta1,
                   DefaultValuedAttr<F32Attr, "0.999">:$beta2,
                   DefaultValuedAttr<F32Attr, "1.0e-8">:$eps,
                   DefaultValuedAttr<F32Attr, "0.01">:$weight_decay);
  let results = (outs SNN_F32Tensor:$new_param, SNN_F32Tensor:$new_m,
                 SNN_F32Tensor:$new_v);
  let assemblyFormat = [{
    $param `,` $grad `,` $m `,` $v `,` $step `,` $lr attr-dict `:` type($param)
  }];
  let hasVerifier = 1;
}

def SNN_AdamWOp : SNN_AdamOpBase<"adamw"> {
  let summary = "one AdamW step (decoupled weight decay)";
  let description = [{
    As `torch.optim.AdamW` at step `step` (1-based) with learning rate `lr`
    (an operand, so that a schedule can change it):
    `p -= lr * weight_decay * p`, `m = b1 m + (1-b1) g`,
    `v = b2 v + (1-b2) g^2`,
    `p -= lr * (m / (1-b1^step)) / (sqrt(v / (1-b2^step)) + eps)`.

    Example:
    ```mlir
    %p1, %m1, %v1 = snn.adamw %p, %g, %m, %v, %step, %lr {beta1 = 0.9 : f32,
        beta2 = 0.999 : f32, eps = 1.0e-08 : f32, weight_decay = 0.01 : f32}
        : tensor<400x784xf32>
    ```
  }];
}

def SNN_AdamOp : SNN_AdamOpBase<"adam"> {
  let summary = "one Adam step (weight decay coupled: added to the gradient)";
  let description = [{
    As `torch.optim.Adam`: `g += weight_decay * p`, then the moments and the
    update of `snn.adamw` without its decoupled decay.

    Example:
    ```mlir
    %p1, %m1, %v1 = snn.adam %p, %g, %m, %v, %step, %lr {weight_decay = 0.0 : f32}
        : tensor<400x784xf32>
    ```
  }];
}

def SNN_SGDOp : SNN_Op<"sgd", [Pure,
    AllTypesMatch<["param", "grad", "buf", "new_param", "new_buf"]>]> {
  let summary = "one SGD step with momentum, Nesterov and coupled weight decay";
  let description = [{
    As `torch.optim.SGD` (dampening 0): `g += weight_decay * p`;
    `buf = momentum * buf + g` (buf starts at 0, so the first step's buf is
    g); `d = nesterov ? g + momentum * buf : buf`; `p -= lr * d`. Without
    momentum, `d = g`.

    Example:
    ```mlir
    %p1, %b1 = snn.sgd %p, %g, %b, %lr {momentum = 0.9 : f32, nesterov,
        weight_decay = 5.0e-04 : f32} : tensor<400x784xf32>
    ```
  }];
  let arguments = (ins SNN_F32Tensor:$param, SNN_F32Tensor:$grad,
                   SNN_F32Tensor:$buf, F32:$lr,
                   DefaultValuedAttr<F32Attr, "0.0">:$momentum,
                   UnitAttr:$nesterov,
                   DefaultValuedAttr<F32Attr, "0.0">:$weight_decay);
  let results = (outs SNN_F32Tensor:$new_param, SNN_F32Tensor:$new_buf);
  let assemblyFormat = [{
    $param `,` $grad `,` $buf `,` $lr attr-dict `:` type($param)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Fused form
//===----------------------------------------------------------------------===//

def SNN_TimeLoopOp : SNN_Op<"time_loop", [RecursiveMemoryEffects,
    SingleBlock, AttrSizedOperandSegments]> {
  let summary = "one loop over T with the neuron state carried as loop arguments";
  let description = [{
    The fused form that the time-loop fusion pass produces. The body runs
    once per step `t` (from 0 up, or from T-1 down with `reverse`). Its
    block arguments are `t : index`, one `[B, ...]` slice of every `inputs`
    tensor at step `t`, then the carried state (initially `inits`). Its
    `snn.yield` gives one slice per result (stacked over time into the
    `[T, B, ...]` results) followed by the next state.

    Example (LIF followed by its PSC kernel):
    ```mlir
    %u, %s, %a = snn.time_loop ins(%c : tensor<5x2x3xf32>)
        init(%z, %z : tensor<2x3xf32>, tensor<2x3xf32>)
        -> (tensor<5x2x3xf32>, tensor<5x2x3xf32>, tensor<5x2x3xf32>) {
    ^bb0(%t: index, %ct: tensor<2x3xf32>, %r: tensor<2x3xf32>, %ap: tensor<2x3xf32>):
      ...
      snn.yield %ut, %st, %at, %rt, %at
          : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>
    }
    ```
  }];
  let arguments = (ins Variadic<SNN_TimeTensor>:$inputs,
                   Variadic<AnyType>:$inits, UnitAttr:$reverse);
  let results = (outs Variadic<SNN_TimeTensor>:$outputs);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    (`reverse` $reverse^)?
    (`ins` `(` $inputs^ `:` type($inputs) `)`)?
    (`init` `(` $inits^ `:` type($inits) `)`)?
    `->` `(` type($outputs) `)` $body attr-dict
  }];
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
  let extraClassDeclaration = [{
    int64_t getNumTimeSteps();
  }];
}

def SNN_YieldOp : SNN_Op<"yield", [Pure, Terminator, ReturnLike,
                                   HasParent<"TimeLoopOp">]> {
  let summary = "ends a time-loop body: per-step outputs, then the next state";
  let description = [{
    Example:
    ```mlir
    snn.yield %st, %rt : tensor<2x3xf32>, tensor<2x3xf32>
    ```
  }];
  let arguments = (ins Variadic<AnyType>:$values);
  let assemblyFormat = "($values^ `:` type($values))? attr-dict";
}

#endif // SNN_OPS_TD
