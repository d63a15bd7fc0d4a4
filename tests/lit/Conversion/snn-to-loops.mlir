// RUN: snn-opt %s --split-input-file --snn-to-loops -verify-diagnostics | FileCheck %s

// CHECK-LABEL: func.func @loss_and_optimizer
// CHECK-NOT: snn.
// Van Rossum: per neuron, the desired spikes through the kernel.
// CHECK: scf.for {{.*}} -> (f32)
// CHECK: scf.for {{.*}} -> (f32, f32)
// AdamW bias corrections.
// CHECK: math.powf
// CHECK: math.sqrt
// CHECK: scf.parallel
func.func @loss_and_optimizer(%a: tensor<5x2x3xf32>, %l: tensor<2xi32>, %p: tensor<4xf32>, %step: i64, %lr: f32) -> (f32, tensor<4xf32>) {
  %d = snn.target_spikes %l : tensor<2xi32> -> tensor<5x2x3xf32>
  %loss, %g = snn.van_rossum_loss %a, %d : tensor<5x2x3xf32>
  %p1, %m1, %v1 = snn.adamw %p, %p, %p, %p, %step, %lr : tensor<4xf32>
  return %loss, %p1 : f32, tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @pooling
// CHECK: scf.parallel (%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}})
// CHECK: arith.mulf %{{.*}}, %{{.*}} : f32
// CHECK: tensor.collapse_shape
func.func @pooling(%a: tensor<5x2x4x8x8xf32>) -> tensor<5x2x64xf32> {
  %p = snn.pool sum %a {kernel = array<i64: 2, 2>, scale = 1.1 : f32} : tensor<5x2x4x8x8xf32> -> tensor<5x2x4x4x4xf32>
  %f = snn.flatten %p : tensor<5x2x4x4x4xf32> -> tensor<5x2x64xf32>
  return %f : tensor<5x2x64xf32>
}

// -----

// CHECK-LABEL: func.func @encode_current_grad
// Per element, k[t] = 0.5 k[t-1] + 0.5 and r += k[t] g[t].
// CHECK: scf.parallel (%[[N:.*]]) =
// CHECK: scf.for %[[T:.*]] = {{.*}} iter_args(%[[K:.*]] = %{{.*}}, %[[R:.*]] = %{{.*}}) -> (f32, f32)
// CHECK: %[[KD:.*]] = arith.mulf %{{.*}}, %[[K]] : f32
// CHECK: %[[K1:.*]] = arith.addf %[[KD]], %{{.*}} : f32
// CHECK: %[[G:.*]] = memref.load %{{.*}}[%[[T]], %[[N]]] : memref<5x6xf32>
// CHECK: %[[KG:.*]] = arith.mulf %[[K1]], %[[G]] : f32
// CHECK: %[[R1:.*]] = arith.addf %[[R]], %[[KG]] : f32
// CHECK: scf.yield %[[K1]], %[[R1]]
func.func @encode_current_grad(%g: tensor<5x2x3xf32>) -> tensor<2x3xf32> {
  %r = snn.encode_current_grad %g : tensor<5x2x3xf32> -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}

// -----

func.func @not_lowered(%c: tensor<5x2x3xf32>) -> tensor<5x2x3xf32> {
  // expected-error @+1 {{is not lowered by snn-to-loops}}
  %u, %s = snn.neuron %c <lif> : tensor<5x2x3xf32>
  return %s : tensor<5x2x3xf32>
}
