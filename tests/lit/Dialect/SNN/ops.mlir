// Round trip of every snn op: custom form, and generic form back to custom.
// RUN: snn-opt %s | snn-opt | FileCheck %s
// RUN: snn-opt %s --mlir-print-op-generic | snn-opt | FileCheck %s

// CHECK-LABEL: func.func @forward
func.func @forward(%x: tensor<2x1x8x8xf32>, %w1: tensor<4x1x3x3xf32>,
                   %w2: tensor<10x36xf32>, %ev: tensor<5x2x1x8x8xf32>,
                   %key: i64) -> tensor<5x2x10xf32> {
  // CHECK: snn.encode_current %{{.*}} {tau_s = 3.000000e+00 : f32} : tensor<2x1x8x8xf32> -> tensor<5x2x1x8x8xf32>
  %a0 = snn.encode_current %x {tau_s = 3.0 : f32} : tensor<2x1x8x8xf32> -> tensor<5x2x1x8x8xf32>
  // CHECK: snn.encode_events %{{.*}} : tensor<5x2x1x8x8xf32>
  %e0 = snn.encode_events %ev : tensor<5x2x1x8x8xf32>
  // CHECK: snn.conv2d %{{.*}}, %{{.*}} {padding = array<i64: 1, 1>} : tensor<5x2x1x8x8xf32>, tensor<4x1x3x3xf32> -> tensor<5x2x4x8x8xf32>
  %c1 = snn.conv2d %a0, %w1 {padding = array<i64: 1, 1>} : tensor<5x2x1x8x8xf32>, tensor<4x1x3x3xf32> -> tensor<5x2x4x8x8xf32>
  // CHECK: snn.conv2d %{{.*}}, %{{.*}} {strides = array<i64: 2, 2>} : tensor<5x2x1x8x8xf32>, tensor<4x1x3x3xf32> -> tensor<5x2x4x3x3xf32>
  %c1s = snn.conv2d %e0, %w1 {strides = array<i64: 2, 2>} : tensor<5x2x1x8x8xf32>, tensor<4x1x3x3xf32> -> tensor<5x2x4x3x3xf32>
  // CHECK: %{{.*}}, %{{.*}} = snn.neuron %{{.*}} <lif, tau_m = 4.000000e+00, threshold = 5.000000e-01, reset = zero> : tensor<5x2x4x8x8xf32>
  %u1, %s1 = snn.neuron %c1 <lif, tau_m = 4.0, threshold = 0.5> : tensor<5x2x4x8x8xf32>
  // CHECK: snn.neuron %{{.*}} <if, threshold = 2.500000e-01, reset = subtract> : tensor<5x2x4x8x8xf32>
  %ui, %si = snn.neuron %c1 <if, reset = subtract, threshold = 0.25> : tensor<5x2x4x8x8xf32>
  // CHECK: snn.neuron %{{.*}} <lif, tau_m = 1.000000e+00, threshold = 1.000000e+00, reset = zero> : tensor<5x2x4x8x8xf32>
  %um, %sm = snn.neuron %c1 <lif, tau_m = 1.0> : tensor<5x2x4x8x8xf32>
  // CHECK: snn.psc %{{.*}} : tensor<5x2x4x8x8xf32>
  %a1 = snn.psc %s1 : tensor<5x2x4x8x8xf32>
  // CHECK: snn.pool sum %{{.*}} {kernel = array<i64: 2, 2>, scale = 1.100000e+00 : f32} : tensor<5x2x4x8x8xf32> -> tensor<5x2x4x4x4xf32>
  %p1 = snn.pool sum %a1 {kernel = array<i64: 2, 2>, scale = 1.1 : f32} : tensor<5x2x4x8x8xf32> -> tensor<5x2x4x4x4xf32>
  // CHECK: snn.pool avg %{{.*}} {kernel = array<i64: 3, 3>} : tensor<5x2x4x8x8xf32> -> tensor<5x2x4x2x2xf32>
  %p2 = snn.pool avg %a1 {kernel = array<i64: 3, 3>} : tensor<5x2x4x8x8xf32> -> tensor<5x2x4x2x2xf32>
  // CHECK: snn.flatten %{{.*}} : tensor<5x2x4x3x3xf32> -> tensor<5x2x36xf32>
  %f = snn.flatten %c1s : tensor<5x2x4x3x3xf32> -> tensor<5x2x36xf32>
  // CHECK: %{{.*}}, %{{.*}} = snn.dropout %{{.*}}, %{{.*}} {rate = 2.000000e-01 : f32} : tensor<5x2x36xf32> -> tensor<2x36xf32>
  %fd, %mask = snn.dropout %f, %key {rate = 0.2 : f32} : tensor<5x2x36xf32> -> tensor<2x36xf32>
  // CHECK: snn.dense %{{.*}}, %{{.*}} : tensor<5x2x36xf32>, tensor<10x36xf32> -> tensor<5x2x10xf32>
  %c2 = snn.dense %fd, %w2 : tensor<5x2x36xf32>, tensor<10x36xf32> -> tensor<5x2x10xf32>
  // CHECK: snn.bias_add %{{.*}}, %{{.*}} : tensor<5x2x10xf32>, tensor<10xf32>
  %b = arith.constant dense<0.5> : tensor<10xf32>
  %c2b = snn.bias_add %c2, %b : tensor<5x2x10xf32>, tensor<10xf32>
  // CHECK: snn.bias_add %{{.*}}, %{{.*}} : tensor<5x2x4x8x8xf32>, tensor<4xf32>
  %bc = arith.constant dense<0.5> : tensor<4xf32>
  %c1b = snn.bias_add %c1, %bc : tensor<5x2x4x8x8xf32>, tensor<4xf32>
  return %c2b : tensor<5x2x10xf32>
}

// CHECK-LABEL: func.func @losses
func.func @losses(%a: tensor<5x4x10xf32>, %labels: tensor<4xi32>) -> (f32, f32) {
  // CHECK: snn.target_spikes %{{.*}} : tensor<4xi32> -> tensor<5x4x10xf32>
  %d = snn.target_spikes %labels : tensor<4xi32> -> tensor<5x4x10xf32>
  // CHECK: snn.van_rossum_loss %{{.*}}, %{{.*}} {tau_s = 3.000000e+00 : f32} : tensor<5x4x10xf32>
  %l1, %g1 = snn.van_rossum_loss %a, %d {tau_s = 3.0 : f32} : tensor<5x4x10xf32>
  // CHECK: snn.spike_count_loss %{{.*}}, %{{.*}} : tensor<5x4x10xf32>
  %l2, %g2 = snn.spike_count_loss %a, %d : tensor<5x4x10xf32>
  return %l1, %l2 : f32, f32
}

// CHECK-LABEL: func.func @backward
func.func @backward(%g: tensor<5x2x10xf32>, %u: tensor<5x2x10xf32>, %s: tensor<5x2x10xf32>,
                    %a: tensor<5x2x36xf32>, %w: tensor<10x36xf32>,
                    %ac: tensor<5x2x1x8x8xf32>, %wc: tensor<4x1x3x3xf32>,
                    %dc: tensor<5x2x4x8x8xf32>, %gp: tensor<5x2x4x4x4xf32>,
                    %mask: tensor<2x36xf32>) {
  // CHECK: snn.psc_error_scan %{{.*}} {tau_s = 3.000000e+00 : f32} : tensor<5x2x10xf32>
  %e = snn.psc_error_scan %g {tau_s = 3.0 : f32} : tensor<5x2x10xf32>
  // CHECK: snn.na_backward %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {clip = 2.000000e+01 : f32, neuron = #snn.neuron<lif, tau_m = 4.000000e+00, threshold = 1.000000e+00, reset = subtract>, selection = "windowed"} : tensor<5x2x10xf32>
  %d = snn.na_backward %e, %g, %u, %s {clip = 20.0 : f32, selection = "windowed", neuron = #snn.neuron<lif, tau_m = 4.0, reset = subtract>} : tensor<5x2x10xf32>
  // CHECK: snn.na_backward %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<5x2x10xf32>
  %d0 = snn.na_backward %e, %g, %u, %s : tensor<5x2x10xf32>
  // CHECK: snn.stbp_backward %{{.*}}, %{{.*}}, %{{.*}} {width = 5.000000e-01 : f32} : tensor<5x2x10xf32>
  %st = snn.stbp_backward %g, %u, %s {width = 0.5 : f32} : tensor<5x2x10xf32>
  // CHECK: snn.stbp_backward %{{.*}}, %{{.*}}, %{{.*}} {detach_reset, neuron = #snn.neuron<if, threshold = 1.000000e+00, reset = subtract>, scale = 2.000000e+00 : f32, surrogate = #snn<surrogate sigmoid>} : tensor<5x2x10xf32>
  %st2 = snn.stbp_backward %g, %u, %s {neuron = #snn.neuron<if, reset = subtract>, surrogate = #snn<surrogate sigmoid>, scale = 2.0 : f32, detach_reset} : tensor<5x2x10xf32>
  // CHECK: snn.bias_grad %{{.*}} : tensor<5x2x10xf32> -> tensor<10xf32>
  %db = snn.bias_grad %g : tensor<5x2x10xf32> -> tensor<10xf32>
  // CHECK: snn.dense_grad_input %{{.*}}, %{{.*}} : tensor<5x2x10xf32>, tensor<10x36xf32> -> tensor<5x2x36xf32>
  %gi = snn.dense_grad_input %d, %w : tensor<5x2x10xf32>, tensor<10x36xf32> -> tensor<5x2x36xf32>
  // CHECK: snn.dense_grad_weight %{{.*}}, %{{.*}} : tensor<5x2x36xf32>, tensor<5x2x10xf32> -> tensor<10x36xf32>
  %gw = snn.dense_grad_weight %a, %d0 : tensor<5x2x36xf32>, tensor<5x2x10xf32> -> tensor<10x36xf32>
  // CHECK: snn.dropout_grad %{{.*}}, %{{.*}} : tensor<5x2x36xf32>, tensor<2x36xf32>
  %gd = snn.dropout_grad %gi, %mask : tensor<5x2x36xf32>, tensor<2x36xf32>
  // CHECK: snn.pool_grad sum %{{.*}} {kernel = array<i64: 2, 2>, scale = 1.100000e+00 : f32} : tensor<5x2x4x4x4xf32> -> tensor<5x2x4x8x8xf32>
  %gpool = snn.pool_grad sum %gp {kernel = array<i64: 2, 2>, scale = 1.1 : f32} : tensor<5x2x4x4x4xf32> -> tensor<5x2x4x8x8xf32>
  // CHECK: snn.encode_current_grad %{{.*}} {tau_s = 3.000000e+00 : f32} : tensor<5x2x4x8x8xf32> -> tensor<2x4x8x8xf32>
  %genc = snn.encode_current_grad %gpool {tau_s = 3.0 : f32} : tensor<5x2x4x8x8xf32> -> tensor<2x4x8x8xf32>
  // CHECK: snn.conv2d_grad_input %{{.*}}, %{{.*}} {padding = array<i64: 1, 1>} : tensor<5x2x4x8x8xf32>, tensor<4x1x3x3xf32> -> tensor<5x2x1x8x8xf32>
  %gci = snn.conv2d_grad_input %dc, %wc {padding = array<i64: 1, 1>} : tensor<5x2x4x8x8xf32>, tensor<4x1x3x3xf32> -> tensor<5x2x1x8x8xf32>
  // CHECK: snn.conv2d_grad_weight %{{.*}}, %{{.*}} {padding = array<i64: 1, 1>} : tensor<5x2x1x8x8xf32>, tensor<5x2x4x8x8xf32> -> tensor<4x1x3x3xf32>
  %gcw = snn.conv2d_grad_weight %ac, %dc {padding = array<i64: 1, 1>} : tensor<5x2x1x8x8xf32>, tensor<5x2x4x8x8xf32> -> tensor<4x1x3x3xf32>
  return
}

// CHECK-LABEL: func.func @optimizer
func.func @optimizer(%p: tensor<10x36xf32>, %g: tensor<10x36xf32>, %g2: tensor<4x1x3x3xf32>,
                     %m: tensor<10x36xf32>, %v: tensor<10x36xf32>, %step: i64, %lr: f32) {
  // CHECK: %{{.*}}:2, %{{.*}} = snn.clip_grad_norm %{{.*}}, %{{.*}} {max_norm = 1.000000e+00 : f32} : tensor<10x36xf32>, tensor<4x1x3x3xf32>
  %c:3 = snn.clip_grad_norm %g, %g2 {max_norm = 1.0 : f32} : tensor<10x36xf32>, tensor<4x1x3x3xf32>
  // CHECK: %{{.*}}:2 = snn.grad_all_reduce %{{.*}}, %{{.*}} {reduction = "mean"} : tensor<10x36xf32>, tensor<4x1x3x3xf32>
  %r:2 = snn.grad_all_reduce %g, %g2 {reduction = "mean"} : tensor<10x36xf32>, tensor<4x1x3x3xf32>
  // The default reduction is the sum.
  // CHECK: snn.grad_all_reduce %{{.*}} {reduction = "sum"} : tensor<10x36xf32>
  %r1 = snn.grad_all_reduce %g : tensor<10x36xf32>
  // CHECK: snn.adamw %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {weight_decay = 0.000000e+00 : f32} : tensor<10x36xf32>
  %p1, %m1, %v1 = snn.adamw %p, %c#0, %m, %v, %step, %lr {weight_decay = 0.0 : f32} : tensor<10x36xf32>
  // CHECK: snn.adam %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {weight_decay = 5.000000e-02 : f32} : tensor<10x36xf32>
  %p2, %m2, %v2 = snn.adam %p, %c#0, %m, %v, %step, %lr {weight_decay = 0.05 : f32} : tensor<10x36xf32>
  // CHECK: snn.sgd %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {momentum = 0.899999976 : f32, nesterov} : tensor<10x36xf32>
  %p3, %b3 = snn.sgd %p, %c#0, %m, %lr {momentum = 0.9 : f32, nesterov} : tensor<10x36xf32>
  return
}

// CHECK-LABEL: func.func @fused
func.func @fused(%c: tensor<5x2x3xf32>) -> (tensor<5x2x3xf32>, tensor<5x2x3xf32>) {
  %z = arith.constant dense<0.0> : tensor<2x3xf32>
  // CHECK: snn.time_loop ins(%{{.*}} : tensor<5x2x3xf32>) init(%{{.*}}, %{{.*}} : tensor<2x3xf32>, tensor<2x3xf32>) -> (tensor<5x2x3xf32>, tensor<5x2x3xf32>) {
  // CHECK: ^bb0(%{{.*}}: index, %{{.*}}: tensor<2x3xf32>, %{{.*}}: tensor<2x3xf32>, %{{.*}}: tensor<2x3xf32>):
  // CHECK: snn.yield %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>
  %u, %a = snn.time_loop ins(%c : tensor<5x2x3xf32>) init(%z, %z : tensor<2x3xf32>, tensor<2x3xf32>)
      -> (tensor<5x2x3xf32>, tensor<5x2x3xf32>) {
  ^bb0(%t: index, %ct: tensor<2x3xf32>, %r: tensor<2x3xf32>, %ap: tensor<2x3xf32>):
    %ut = arith.addf %r, %ct : tensor<2x3xf32>
    snn.yield %ut, %ap, %ut, %ap : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>
  }
  // CHECK: snn.time_loop reverse ins(
  %e = snn.time_loop reverse ins(%c : tensor<5x2x3xf32>) init(%z : tensor<2x3xf32>) -> (tensor<5x2x3xf32>) {
  ^bb0(%t: index, %gt: tensor<2x3xf32>, %en: tensor<2x3xf32>):
    %et = arith.addf %gt, %en : tensor<2x3xf32>
    snn.yield %et, %et : tensor<2x3xf32>, tensor<2x3xf32>
  }
  return %u, %e : tensor<5x2x3xf32>, tensor<5x2x3xf32>
}
