//===- Passes.td - snn -> snn transformations ------------------*- tablegen -*-===//
#ifndef SNNC_COMPILER_TRANSFORMS_PASSES_TD
#define SNNC_COMPILER_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def FuseTimeLoopPass : Pass<"snn-fuse-time-loop", "func::FuncOp"> {
  let summary = "Fuse LIF + PSC (and every other time recurrence) into snn.time_loop";
  let description = [{
    Every time recurrence becomes one `snn.time_loop` whose state is carried
    as loop arguments: an `snn.lif` together with the `snn.psc` of its spikes
    (one loop yields u, s and a; state: carried potential r and PSC a), and
    on their own the other recurrences (`snn.psc`, `snn.encode_current`,
    `snn.encode_events`, and `snn.psc_error_scan` as a reverse loop). The
    body works on one `[B, ...]` step with elementwise arith ops.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
}

#endif
