// RUN: snn-opt %s --snn-to-runtime-calls | FileCheck %s

// CHECK-DAG: func.func private @snnrt_matmul_nt(memref<?x?xf32>, memref<?x?xf32>, memref<?x?xf32>) attributes {llvm.emit_c_interface}
// CHECK-DAG: func.func private @snnrt_matmul_nn(memref<?x?xf32>, memref<?x?xf32>, memref<?x?xf32>) attributes {llvm.emit_c_interface}
// CHECK-DAG: func.func private @snnrt_matmul_tn(memref<?x?xf32>, memref<?x?xf32>, memref<?x?xf32>) attributes {llvm.emit_c_interface}
// CHECK-DAG: func.func private @snnrt_grad_all_reduce(memref<?xf32>, i64, i64, i64) attributes {llvm.emit_c_interface}
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

// snn.grad_all_reduce: each distinct non-constant gradient is reduced in
// place by one runtime call (index, count, mean); the results read the
// same buffers; a constant gradient is its own result; the same gradient
// twice is reduced once.
// CHECK-LABEL: func.func @grad_all_reduce
// CHECK-SAME: (%[[G0:.*]]: tensor<3x4xf32>, %[[G1:.*]]: tensor<7xf32>)
// CHECK-DAG: %[[ZERO:.*]] = arith.constant dense<0.000000e+00> : tensor<2xf32>
// CHECK: %[[B0:.*]] = bufferization.to_buffer %[[G0]] : tensor<3x4xf32> to memref<3x4xf32>
// CHECK: %[[F0:.*]] = memref.collapse_shape %[[B0]] {{\[\[}}0, 1]] : memref<3x4xf32> into memref<12xf32>
// CHECK: %[[D0:.*]] = memref.cast %[[F0]] : memref<12xf32> to memref<?xf32>
// CHECK: %[[I0:.*]] = arith.constant 0 : i64
// CHECK: %[[N:.*]] = arith.constant 2 : i64
// CHECK: %[[MEAN:.*]] = arith.constant 1 : i64
// CHECK: call @snnrt_grad_all_reduce(%[[D0]], %[[I0]], %[[N]], %[[MEAN]])
// CHECK: %[[B1:.*]] = bufferization.to_buffer %[[G1]]
// CHECK: call @snnrt_grad_all_reduce(
// CHECK-NOT: call @snnrt_grad_all_reduce
// CHECK: %[[R0:.*]] = bufferization.to_tensor %[[B0]] restrict writable
// CHECK: %[[R1:.*]] = bufferization.to_tensor %[[B1]] restrict writable
// CHECK: return %[[R0]], %[[ZERO]], %[[R1]], %[[R0]]
func.func @grad_all_reduce(%g0: tensor<3x4xf32>, %g1: tensor<7xf32>) -> (tensor<3x4xf32>, tensor<2xf32>, tensor<7xf32>, tensor<3x4xf32>) {
  %z = arith.constant dense<0.0> : tensor<2xf32>
  %r:4 = snn.grad_all_reduce %g0, %z, %g1, %g0 {reduction = "mean"} : tensor<3x4xf32>, tensor<2xf32>, tensor<7xf32>, tensor<3x4xf32>
  return %r#0, %r#1, %r#2, %r#3 : tensor<3x4xf32>, tensor<2xf32>, tensor<7xf32>, tensor<3x4xf32>
}
