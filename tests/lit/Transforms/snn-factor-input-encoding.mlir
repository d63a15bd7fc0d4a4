// RUN: snn-opt %s --snn-factor-input-encoding | FileCheck %s

// CHECK-LABEL: func.func @dense
// The layer runs on the one-step input; the encoding moves to its output.
// CHECK: %[[X:.*]] = tensor.expand_shape %arg0 {{\[\[}}0, 1], [2]] output_shape [1, 4, 3] : tensor<4x3xf32> into tensor<1x4x3xf32>
// CHECK: %[[C:.*]] = snn.dense %[[X]], %arg1 : tensor<1x4x3xf32>, tensor<2x3xf32> -> tensor<1x4x2xf32>
// CHECK: %[[C2:.*]] = tensor.collapse_shape %[[C]] {{\[\[}}0, 1], [2]] : tensor<1x4x2xf32> into tensor<4x2xf32>
// CHECK: %[[E:.*]] = snn.encode_current %[[C2]] {tau_s = 3.000000e+00 : f32} : tensor<4x2xf32> -> tensor<5x4x2xf32>
// The weight gradient: delta reduced over T with the encoding's weights.
// CHECK: %[[R:.*]] = snn.encode_current_grad %arg2 {tau_s = 3.000000e+00 : f32} : tensor<5x4x2xf32> -> tensor<4x2xf32>
// CHECK: %[[X2:.*]] = tensor.expand_shape %arg0
// CHECK: %[[R2:.*]] = tensor.expand_shape %[[R]] {{\[\[}}0, 1], [2]] output_shape [1, 4, 2]
// CHECK: %[[DW:.*]] = snn.dense_grad_weight %[[X2]], %[[R2]] : tensor<1x4x3xf32>, tensor<1x4x2xf32> -> tensor<2x3xf32>
// CHECK-NOT: tensor<5x4x3xf32>
// CHECK: return %[[E]], %[[DW]]
func.func @dense(%x: tensor<4x3xf32>, %w: tensor<2x3xf32>, %d: tensor<5x4x2xf32>)
    -> (tensor<5x4x2xf32>, tensor<2x3xf32>) {
  %a = snn.encode_current %x {tau_s = 3.0 : f32} : tensor<4x3xf32> -> tensor<5x4x3xf32>
  %c = snn.dense %a, %w : tensor<5x4x3xf32>, tensor<2x3xf32> -> tensor<5x4x2xf32>
  %dw = snn.dense_grad_weight %a, %d : tensor<5x4x3xf32>, tensor<5x4x2xf32> -> tensor<2x3xf32>
  return %c, %dw : tensor<5x4x2xf32>, tensor<2x3xf32>
}

// CHECK-LABEL: func.func @conv
// Strides and padding stay with the layer.
// CHECK: %[[C:.*]] = snn.conv2d %{{.*}}, %arg1 {padding = array<i64: 1, 1>, strides = array<i64: 2, 2>} : tensor<1x2x1x8x8xf32>, tensor<3x1x3x3xf32> -> tensor<1x2x3x4x4xf32>
// CHECK: snn.encode_current %{{.*}} : tensor<2x3x4x4xf32> -> tensor<4x2x3x4x4xf32>
// CHECK: %[[R:.*]] = snn.encode_current_grad %arg2 : tensor<4x2x3x4x4xf32> -> tensor<2x3x4x4xf32>
// CHECK: snn.conv2d_grad_weight %{{.*}}, %{{.*}} {padding = array<i64: 1, 1>, strides = array<i64: 2, 2>} : tensor<1x2x1x8x8xf32>, tensor<1x2x3x4x4xf32> -> tensor<3x1x3x3xf32>
// CHECK-NOT: snn.encode_current %arg0
func.func @conv(%x: tensor<2x1x8x8xf32>, %w: tensor<3x1x3x3xf32>, %d: tensor<4x2x3x4x4xf32>)
    -> (tensor<4x2x3x4x4xf32>, tensor<3x1x3x3xf32>) {
  %a = snn.encode_current %x : tensor<2x1x8x8xf32> -> tensor<4x2x1x8x8xf32>
  %c = snn.conv2d %a, %w {padding = array<i64: 1, 1>, strides = array<i64: 2, 2>}
      : tensor<4x2x1x8x8xf32>, tensor<3x1x3x3xf32> -> tensor<4x2x3x4x4xf32>
  %dw = snn.conv2d_grad_weight %a, %d {padding = array<i64: 1, 1>, strides = array<i64: 2, 2>}
      : tensor<4x2x1x8x8xf32>, tensor<4x2x3x4x4xf32> -> tensor<3x1x3x3xf32>
  return %c, %dw : tensor<4x2x3x4x4xf32>, tensor<3x1x3x3xf32>
}

// CHECK-LABEL: func.func @events
// Event input differs at every step: nothing to factor.
// CHECK: %[[A:.*]] = snn.encode_events %arg0
// CHECK: snn.dense %[[A]], %arg1 : tensor<5x4x3xf32>
// CHECK-NOT: encode_current
func.func @events(%s: tensor<5x4x3xf32>, %w: tensor<2x3xf32>) -> tensor<5x4x2xf32> {
  %a = snn.encode_events %s : tensor<5x4x3xf32>
  %c = snn.dense %a, %w : tensor<5x4x3xf32>, tensor<2x3xf32> -> tensor<5x4x2xf32>
  return %c : tensor<5x4x2xf32>
}
