//===- Passes.td - snn -> snn transformations ------------------*- tablegen -*-===//
#ifndef SNNC_COMPILER_TRANSFORMS_PASSES_TD
#define SNNC_COMPILER_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def FactorInputEncodingPass : Pass<"snn-factor-input-encoding", "func::FuncOp"> {
  let summary = "Apply the first synaptic layer once per sample, not once per step";
  let description = [{
    A current-encoded input is the same `x` at every step through the PSC
    kernel: `a[t] = k[t] x` with a scalar `k[t]` (see
    `snn.encode_current_grad`). Dense and conv2d layers are linear, so

        dense/conv2d(encode_current(x))   = encode_current(dense/conv2d(x))
        dense/conv2d_grad_weight(encode_current(x), delta)
                                          = ..._grad_weight(x, encode_current_grad(delta))

    with `x` and the reduced `delta` as one-step (`T = 1`) tensors. The
    first layer's GEMMs (forward and weight gradient) shrink by a factor T;
    the encoding then runs on the layer's output. The results equal the
    unfactored ones up to float rounding.
  }];
  let dependentDialects = ["::mlir::tensor::TensorDialect"];
}

def FuseTimeLoopPass : Pass<"snn-fuse-time-loop", "func::FuncOp"> {
  let summary = "Fuse neurons + PSC (and every other time recurrence) into snn.time_loop";
  let description = [{
    Every time recurrence becomes one `snn.time_loop` whose state is carried
    as loop arguments: an `snn.neuron` together with the `snn.psc` of its spikes
    (one loop yields u, s and a; state: carried potential r and PSC a), and
    on their own the other recurrences (`snn.psc`, `snn.encode_current`,
    `snn.encode_events`, and `snn.psc_error_scan` and `snn.stbp_backward`
    as reverse loops). The body works on one `[B, ...]` step with
    elementwise arith ops; the neuron's dynamics come from compiler/Neurons.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::tensor::TensorDialect"];
}

#endif
