//===- Passes.td - training-graph construction -----------------*- tablegen -*-===//
#ifndef SNNC_COMPILER_TRAINING_PASSES_TD
#define SNNC_COMPILER_TRAINING_PASSES_TD

include "mlir/Pass/PassBase.td"

def BuildTrainingGraphPass : Pass<"snn-build-training-graph", "ModuleOp"> {
  let summary = "Build train_step and eval_step from a forward function and its loss (NA_SPEC)";
  let description = [{
    Takes `func.func @<forward>(params..., inputs...) -> (loss, output spikes)`
    whose parameter arguments carry the unit attribute `snn.param`, and adds:

    - `@train_step(params..., m..., v..., step: i64, lr: f32, inputs...)
       -> (params..., m..., v..., loss, output spikes)`: the forward pass, the
      output error of the loss op (eq. 6), a PSC-error scan (eq. 7) and an
      `snn.na_backward` for every layer of neurons (or an
      `snn.stbp_backward` with `backward=stbp`), a bias gradient for every
      `snn.bias_add`, gradients to the layer below
      (eq. 9) and to the weights (eq. 10), backward through pooling, flatten
      and dropout, optional gradient-norm clipping, and one AdamW update per
      parameter (AdamW, Adam or SGD with momentum: `snn.adamw`, `snn.adam`,
      `snn.sgd`);
    - `@eval_step(params..., inputs...) -> (loss, output spikes)`: the
      forward pass with dropout disabled.

    NA settings come from the options when they are given, else from the
    forward function's attributes `snn.na_clip` and `snn.neighborhood`, else
    from the defaults (clip 10, sns).
  }];
  let options = [
    Option<"forwardName", "forward", "std::string", "\"forward\"",
           "Name of the forward function">,
    Option<"naClip", "na-clip", "float", "0.0f",
           "Clip bound b of 1/d^3 in the NA scaling (eq. 17); 0: the "
           "model's snn.na_clip, else 10">,
    Option<"neighborhood", "neighborhood", "std::string", "\"\"",
           "Neighborhood-selection strategy named on every snn.na_backward "
           "(default: the model's snn.neighborhood setting, else sns)">,
    Option<"backward", "backward", "std::string", "\"na\"",
           "Training method, by its registered name (compiler/Training/"
           "Methods.h): na (snn.na_backward), stbp (snn.stbp_backward, "
           "surrogate gradient), ...">,
    Option<"trainName", "train-name", "std::string", "\"\"",
           "Name of the training-step function to build (default: the "
           "method's: train_step for na, train_step_stbp for stbp)">,
    Option<"buildEval", "eval", "bool", "true",
           "Also build eval_step">,
    Option<"stbpSurrogate", "stbp-surrogate", "std::string", "\"rect\"",
           "STBP's surrogate of ds/du: rect (width) or sigmoid (scale, "
           "temperature)">,
    Option<"stbpWidth", "stbp-width", "float", "1.0f",
           "Width of STBP's rectangular surrogate derivative">,
    Option<"stbpScale", "stbp-scale", "float", "5.0f",
           "Scale of STBP's sigmoid-derivative surrogate">,
    Option<"stbpTemperature", "stbp-temperature", "float", "3.0f",
           "Temperature of STBP's sigmoid-derivative surrogate">,
    Option<"stbpDetachReset", "stbp-detach-reset", "bool", "false",
           "STBP: no gradient through the reset's dependence on the spike">,
    Option<"maxGradNorm", "max-grad-norm", "float", "0.0f",
           "Clip the joint gradient norm to this value (0: no clipping)">,
    Option<"optimizer", "optimizer", "std::string", "\"\"",
           "adamw, adam or sgd (default: the model's snn.optimizer, else "
           "adamw)">,
    Option<"weightDecay", "weight-decay", "float", "-1.0f",
           "Weight decay: decoupled for AdamW, added to the gradient for Adam "
           "and SGD (< 0: the model's snn.weight_decay, else PyTorch's "
           "default: 0.01 for AdamW, 0 for Adam and SGD)">,
    Option<"momentum", "momentum", "float", "-1.0f",
           "SGD momentum (< 0: the model's snn.momentum, else 0)">,
    Option<"nesterov", "nesterov", "std::string", "\"\"",
           "SGD: Nesterov momentum, 1 or 0 (default: the model's "
           "snn.nesterov, else 0)">,
    Option<"beta1", "beta1", "float", "0.9f", "AdamW beta1">,
    Option<"beta2", "beta2", "float", "0.999f", "AdamW beta2">,
    Option<"eps", "eps", "float", "1.0e-8f", "AdamW epsilon">,
  ];
  let dependentDialects = ["::mlir::snn::SNNDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
}

#endif
