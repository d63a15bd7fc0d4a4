// RUN: not snn-opt %s --split-input-file 2>&1 | FileCheck %s
// The kernel emitters' tuning knobs are one verified attribute, #snn.target:
// a lowering it does not know, an out-of-range field or a loose knob of the
// old spelling is an error, not a silent default.

// CHECK: error: expected one of [library, gemm] for how the gradient through a convolution is computed, got: cudnn
module attributes {snn.target = #snn.target<conv_grad_input = cudnn>} {
}

// -----

// CHECK: error: #snn.target: chain_group must be from 1 to 32, got 40
module attributes {snn.target = #snn.target<chain_group = 40>} {
}

// -----

// CHECK: error: 'snn.chain_group' is a field of the module's snn.target now: snn.target = #snn.target<chain_group = ...>
module attributes {snn.chain_group = 2 : i64} {
}

// -----

// CHECK: error: 'snn.target' must be a #snn.target, got 1 : i64
module attributes {snn.target = 1 : i64} {
}
