// RUN: snn-opt %s --snn-to-runtime-calls | FileCheck %s

// With #snn.target<conv_grad_input = gemm> (the CUDA side of snnc): the gradient
// through a convolution is one GEMM per image into the gradient of the
// im2col matrix, [T*B*K, OH*OW] with K = C*KH*KW = 2*3*3, then a col2im
// gather over [T*B, C, H, W] tagged as the kernel `conv_grad_input`:
// each element sums, over the 3x3 taps, the entry of the output position
// whose window covers it (stride 2: only where the offset divides).
// CHECK-LABEL: func.func @grad_input
// CHECK: %[[COLS:.*]] = memref.alloc() : memref<180x12xf32>
// CHECK: memref.collapse_shape %{{.*}} {{\[\[}}0, 1, 2], [3, 4]] : memref<5x2x4x3x4xf32> into memref<40x12xf32>
// CHECK: memref.collapse_shape %{{.*}} {{\[\[}}0], [1, 2, 3]] : memref<4x2x3x3xf32> into memref<4x18xf32>
// CHECK: call @snnrt_conv2d_grad_cols(
// CHECK: %[[G:.*]] = memref.collapse_shape %{{.*}} {{\[\[}}0, 1], [2], [3], [4]] : memref<5x2x2x6x8xf32> into memref<10x2x6x8xf32>
// CHECK: scf.parallel (%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) = (%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) to (%c10, %c2, %c6, %c8)
// CHECK: scf.for
// CHECK: arith.remsi %{{.*}}, %c2
// CHECK: scf.for
// CHECK: memref.load %[[COLS]]
// CHECK: memref.store %{{.*}}, %[[G]]
// CHECK: } {snn.kernel = "conv_grad_input"}
// CHECK-NOT: snnrt_conv2d_grad_input
module attributes {snn.target = #snn.target<conv_grad_input = gemm>} {
  func.func @grad_input(%d: tensor<5x2x4x3x4xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<5x2x2x6x8xf32> {
    %g = snn.conv2d_grad_input %d, %w {strides = array<i64: 2, 2>, padding = array<i64: 1, 1>} : tensor<5x2x4x3x4xf32>, tensor<4x2x3x3xf32> -> tensor<5x2x2x6x8xf32>
    return %g : tensor<5x2x2x6x8xf32>
  }
}

