// Backward through conv, sum pooling, flatten and dropout.
// RUN: snn-opt %s --snn-build-training-graph | FileCheck %s

func.func @forward(%wc: tensor<4x1x3x3xf32> {snn.param}, %wd: tensor<3x36xf32> {snn.param},
                   %x: tensor<2x1x8x8xf32>, %labels: tensor<2xi32>, %key: i64)
    -> (f32, tensor<5x2x3xf32>) {
  %a0 = snn.encode_current %x : tensor<2x1x8x8xf32> -> tensor<5x2x1x8x8xf32>
  %c1 = snn.conv2d %a0, %wc : tensor<5x2x1x8x8xf32>, tensor<4x1x3x3xf32> -> tensor<5x2x4x6x6xf32>
  %u1, %s1 = snn.neuron %c1 <lif> : tensor<5x2x4x6x6xf32>
  %a1 = snn.psc %s1 : tensor<5x2x4x6x6xf32>
  %p1 = snn.pool sum %a1 {kernel = array<i64: 2, 2>, scale = 1.1 : f32} : tensor<5x2x4x6x6xf32> -> tensor<5x2x4x3x3xf32>
  %f = snn.flatten %p1 : tensor<5x2x4x3x3xf32> -> tensor<5x2x36xf32>
  %fd, %mask = snn.dropout %f, %key {rate = 0.5 : f32} : tensor<5x2x36xf32> -> tensor<2x36xf32>
  %c2 = snn.dense %fd, %wd : tensor<5x2x36xf32>, tensor<3x36xf32> -> tensor<5x2x3xf32>
  %u2, %s2 = snn.neuron %c2 <lif> : tensor<5x2x3xf32>
  %a2 = snn.psc %s2 : tensor<5x2x3xf32>
  %d = snn.target_spikes %labels : tensor<2xi32> -> tensor<5x2x3xf32>
  %loss, %g = snn.spike_count_loss %a2, %d : tensor<5x2x3xf32>
  return %loss, %s2 : f32, tensor<5x2x3xf32>
}

// Dropout disappears from the evaluation step.
// CHECK-LABEL: func.func @eval_step(
// CHECK-NOT: snn.dropout
// CHECK: snn.dense

// CHECK-LABEL: func.func @train_step(
// CHECK: %[[FD:.*]], %[[MASK:.*]] = snn.dropout
// CHECK: %[[LOSS:.*]], %[[G:.*]] = snn.spike_count_loss
// CHECK: %[[GI:.*]] = snn.dense_grad_input
// CHECK: %[[GD:.*]] = snn.dropout_grad %[[GI]], %[[MASK]] : tensor<5x2x36xf32>, tensor<2x36xf32>
// CHECK: %[[GF:.*]] = tensor.expand_shape %[[GD]] {{\[\[}}0], [1], [2, 3, 4]] output_shape [5, 2, 4, 3, 3]
// CHECK: %[[GP:.*]] = snn.pool_grad sum %[[GF]] {kernel = array<i64: 2, 2>, scale = 1.100000e+00 : f32} : tensor<5x2x4x3x3xf32> -> tensor<5x2x4x6x6xf32>
// CHECK: %[[E:.*]] = snn.psc_error_scan %[[GP]]
// CHECK: %[[D:.*]] = snn.na_backward %[[E]]
// CHECK: snn.conv2d_grad_weight %{{.*}}, %[[D]] : tensor<5x2x1x8x8xf32>, tensor<5x2x4x6x6xf32> -> tensor<4x1x3x3xf32>
// CHECK-NOT: snn.conv2d_grad_input
// CHECK: snn.adamw
