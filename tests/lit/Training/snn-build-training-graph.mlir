// RUN: snn-opt %s --snn-build-training-graph | FileCheck %s
// RUN: snn-opt %s --snn-build-training-graph="max-grad-norm=1.0 neighborhood=windowed" | FileCheck %s --check-prefix=OPTS
// The option wins over the model's snn.na_clip = 5.0:
// RUN: snn-opt %s --snn-build-training-graph="na-clip=2.5" | FileCheck %s --check-prefix=CLIP
// CLIP: snn.na_backward {{.*}} {clip = 2.500000e+00 : f32}

func.func @forward(%w1: tensor<3x4xf32> {snn.param}, %w2: tensor<2x3xf32> {snn.param},
                   %x: tensor<5x4xf32>, %labels: tensor<5xi32>) -> (f32, tensor<6x5x2xf32>)
    attributes {snn.na_clip = 5.0 : f32} {
  %a0 = snn.encode_current %x : tensor<5x4xf32> -> tensor<6x5x4xf32>
  %c1 = snn.dense %a0, %w1 : tensor<6x5x4xf32>, tensor<3x4xf32> -> tensor<6x5x3xf32>
  %u1, %s1 = snn.neuron %c1 <lif> : tensor<6x5x3xf32>
  %a1 = snn.psc %s1 : tensor<6x5x3xf32>
  %c2 = snn.dense %a1, %w2 : tensor<6x5x3xf32>, tensor<2x3xf32> -> tensor<6x5x2xf32>
  %u2, %s2 = snn.neuron %c2 <lif> : tensor<6x5x2xf32>
  %a2 = snn.psc %s2 : tensor<6x5x2xf32>
  %d = snn.target_spikes %labels : tensor<5xi32> -> tensor<6x5x2xf32>
  %loss, %g = snn.van_rossum_loss %a2, %d : tensor<6x5x2xf32>
  return %loss, %s2 : f32, tensor<6x5x2xf32>
}

// CHECK-LABEL: func.func @eval_step(
// CHECK-NOT: snn.na_backward
// CHECK: return

// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %[[W1:[a-z0-9]+]]: tensor<3x4xf32>, %[[W2:[a-z0-9]+]]: tensor<2x3xf32>, %[[M1:[a-z0-9]+]]: tensor<3x4xf32>, %[[M2:[a-z0-9]+]]: tensor<2x3xf32>, %[[V1:[a-z0-9]+]]: tensor<3x4xf32>, %[[V2:[a-z0-9]+]]: tensor<2x3xf32>, %[[STEP:[a-z0-9]+]]: i64, %[[LR:[a-z0-9]+]]: f32, %[[X:[a-z0-9]+]]: tensor<5x4xf32>, %[[L:[a-z0-9]+]]: tensor<5xi32>)
// CHECK: %[[A0:.*]] = snn.encode_current %[[X]]
// CHECK: %[[U1:.*]], %[[S1:.*]] = snn.neuron %[[C1:[0-9]+]]
// CHECK: %[[A1:.*]] = snn.psc %[[S1]]
// CHECK: %[[U2:.*]], %[[S2:.*]] = snn.neuron %[[C2:[0-9]+]]
// CHECK: %[[A2:.*]] = snn.psc %[[S2]]
// CHECK: %[[LOSS:.*]], %[[G:.*]] = snn.van_rossum_loss %[[A2]]
// Output layer: eq. (7) scan of the output error, then NA.
// CHECK: %[[E2:.*]] = snn.psc_error_scan %[[G]]
// CHECK: %[[D2:.*]] = snn.na_backward %[[E2]], %[[C2]], %[[U2]], %[[S2]] {clip = 5.000000e+00 : f32}
// Eq. (10) and eq. (9) through the second dense layer.
// CHECK: %[[DW2:.*]] = snn.dense_grad_weight %[[A1]], %[[D2]]
// CHECK: %[[G1:.*]] = snn.dense_grad_input %[[D2]], %[[W2]]
// CHECK: %[[E1:.*]] = snn.psc_error_scan %[[G1]]
// CHECK: %[[D1:.*]] = snn.na_backward %[[E1]], %[[C1]], %[[U1]], %[[S1]]
// The input encoding needs no gradient.
// CHECK: %[[DW1:.*]] = snn.dense_grad_weight %[[A0]], %[[D1]]
// CHECK-NOT: snn.dense_grad_input
// The gradients of the global batch (data parallelism; the identity alone).
// CHECK: %[[R:.*]]:2 = snn.grad_all_reduce %[[DW1]], %[[DW2]] {reduction = "sum"} : tensor<3x4xf32>, tensor<2x3xf32>
// CHECK: %[[P1:.*]], %[[NM1:.*]], %[[NV1:.*]] = snn.adamw %[[W1]], %[[R]]#0, %[[M1]], %[[V1]], %[[STEP]], %[[LR]]
// CHECK: %[[P2:.*]], %[[NM2:.*]], %[[NV2:.*]] = snn.adamw %[[W2]], %[[R]]#1, %[[M2]], %[[V2]], %[[STEP]], %[[LR]]
// CHECK: return %[[P1]], %[[P2]], %[[NM1]], %[[NM2]], %[[NV1]], %[[NV2]], %[[LOSS]], %[[S2]]

// OPTS-LABEL: func.func @train_step(
// OPTS: snn.na_backward {{.*}}selection = "windowed"
// Clipping comes after the reduction: the global batch's norm.
// OPTS: %[[R:.*]]:2 = snn.grad_all_reduce
// OPTS: %[[C:.*]]:2, %{{.*}} = snn.clip_grad_norm %[[R]]#0, %[[R]]#1 {max_norm = 1.000000e+00 : f32}
// OPTS: snn.adamw %{{.*}}, %[[C]]#0
// OPTS: snn.adamw %{{.*}}, %[[C]]#1
