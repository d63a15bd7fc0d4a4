// RUN: not snn-opt %s --snn-to-runtime-calls 2>&1 | FileCheck %s
// A lowering the pass does not know is an error, not a silent default.
// CHECK: error: snn.conv_grad_input must be "gemm" or "library"
module attributes {snn.conv_grad_input = "cudnn"} {
}
