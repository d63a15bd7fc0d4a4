// RUN: snn-opt %s --snn-to-runtime-calls | FileCheck %s

// CHECK-DAG: func.func private @snnrt_matmul_nt(memref<?x?xf32>, memref<?x?xf32>, memref<?x?xf32>) attributes {llvm.emit_c_interface}
// CHECK-DAG: func.func private @snnrt_matmul_nn(memref<?x?xf32>, memref<?x?xf32>, memref<?x?xf32>) attributes {llvm.emit_c_interface}
// CHECK-DAG: func.func private @snnrt_matmul_tn(memref<?x?xf32>, memref<?x?xf32>, memref<?x?xf32>) attributes {llvm.emit_c_interface}
// CHECK-DAG: func.func private @snnrt_conv2d_forward(memref<?x?x?x?xf32>, memref<?x?x?x?xf32>, memref<?x?x?x?xf32>, i64, i64, i64, i64) attributes {llvm.emit_c_interface}

// CHECK-LABEL: func.func @dense
// [T, B, I] is viewed as [T*B, I].
// CHECK: memref.collapse_shape %{{.*}} {{\[\[}}0, 1], [2]] : memref<5x2x4xf32> into memref<10x4xf32>
// CHECK: call @snnrt_matmul_nt(
// CHECK: call @snnrt_matmul_nn(
// CHECK: call @snnrt_matmul_tn(
func.func @dense(%a: tensor<5x2x4xf32>, %w: tensor<3x4xf32>, %d: tensor<5x2x3xf32>) -> (tensor<5x2x3xf32>, tensor<5x2x4xf32>, tensor<3x4xf32>) {
  %c = snn.dense %a, %w : tensor<5x2x4xf32>, tensor<3x4xf32> -> tensor<5x2x3xf32>
  %g = snn.dense_grad_input %d, %w : tensor<5x2x3xf32>, tensor<3x4xf32> -> tensor<5x2x4xf32>
  %dw = snn.dense_grad_weight %a, %d : tensor<5x2x4xf32>, tensor<5x2x3xf32> -> tensor<3x4xf32>
  return %c, %g, %dw : tensor<5x2x3xf32>, tensor<5x2x4xf32>, tensor<3x4xf32>
}

// CHECK-LABEL: func.func @conv
// Strides 2, 1 and padding 1, 0 pass as i64 arguments.
// CHECK: %[[SH:.*]] = arith.constant 2 : i64
// CHECK: call @snnrt_conv2d_forward(%{{.*}}, %{{.*}}, %{{.*}}, %[[SH]],
func.func @conv(%a: tensor<5x2x1x8x8xf32>, %w: tensor<4x1x3x3xf32>) -> tensor<5x2x4x4x6xf32> {
  %c = snn.conv2d %a, %w {strides = array<i64: 2, 1>, padding = array<i64: 1, 0>} : tensor<5x2x1x8x8xf32>, tensor<4x1x3x3xf32> -> tensor<5x2x4x4x6xf32>
  return %c : tensor<5x2x4x4x6xf32>
}
