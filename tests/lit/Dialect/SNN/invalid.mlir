// Every verifier rule of the snn dialect, one failing case each.
// RUN: snn-opt %s -split-input-file -verify-diagnostics

func.func @encode_tau(%x: tensor<2x4xf32>) {
  // expected-error @+1 {{attribute 'tau_s' must be >= 1}}
  %a = snn.encode_current %x {tau_s = 0.9 : f32} : tensor<2x4xf32> -> tensor<5x2x4xf32>
  return
}

// -----

func.func @encode_rank(%x: tensor<2x4xf32>) {
  // expected-error @+1 {{'result' must be the input with a leading time axis (rank 3)}}
  %a = snn.encode_current %x : tensor<2x4xf32> -> tensor<5x2x4x1xf32>
  return
}

// -----

func.func @encode_shape(%x: tensor<2x4xf32>) {
  // expected-error @+1 {{'result' has shape tensor<5x2x3xf32> but the op implies [5, 2, 4]}}
  %a = snn.encode_current %x : tensor<2x4xf32> -> tensor<5x2x3xf32>
  return
}

// -----

func.func @encode_zero_steps(%x: tensor<2x4xf32>) {
  // expected-error @+1 {{'result' must have at least one time step, got T = 0}}
  %a = snn.encode_current %x : tensor<2x4xf32> -> tensor<0x2x4xf32>
  return
}

// -----

func.func @events_tau(%s: tensor<5x2x4xf32>) {
  // expected-error @+1 {{attribute 'tau_s' must be >= 1}}
  %a = snn.encode_events %s {tau_s = 0.5 : f32} : tensor<5x2x4xf32>
  return
}

// -----

func.func @events_no_time(%s: tensor<4xf32>) {
  // expected-error @+1 {{'input' must have a time and a batch axis}}
  %a = snn.encode_events %s : tensor<4xf32>
  return
}

// -----

func.func @dense_rank(%a: tensor<5x2x4x1xf32>, %w: tensor<3x4xf32>) {
  // expected-error @+1 {{'input' must have rank 3}}
  %c = snn.dense %a, %w : tensor<5x2x4x1xf32>, tensor<3x4xf32> -> tensor<5x2x3xf32>
  return
}

// -----

func.func @dense_features(%a: tensor<5x2x4xf32>, %w: tensor<3x7xf32>) {
  // expected-error @+1 {{features disagree: 'input' has 4, 'weight' expects 7}}
  %c = snn.dense %a, %w : tensor<5x2x4xf32>, tensor<3x7xf32> -> tensor<5x2x3xf32>
  return
}

// -----

func.func @dense_time(%a: tensor<5x2x4xf32>, %w: tensor<3x4xf32>) {
  // expected-error @+1 {{'result' has shape tensor<6x2x3xf32> but the op implies [5, 2, 3]}}
  %c = snn.dense %a, %w : tensor<5x2x4xf32>, tensor<3x4xf32> -> tensor<6x2x3xf32>
  return
}

// -----

func.func @conv_channels(%a: tensor<5x2x3x8x8xf32>, %w: tensor<4x1x3x3xf32>) {
  // expected-error @+1 {{channels disagree: 'input' has C = 3, 'weight' expects C = 1}}
  %c = snn.conv2d %a, %w : tensor<5x2x3x8x8xf32>, tensor<4x1x3x3xf32> -> tensor<5x2x4x6x6xf32>
  return
}

// -----

func.func @conv_spatial(%a: tensor<5x2x1x8x8xf32>, %w: tensor<4x1x3x3xf32>) {
  // expected-error @+1 {{'result' has shape tensor<5x2x4x8x8xf32> but the op implies [5, 2, 4, 6, 6]}}
  %c = snn.conv2d %a, %w : tensor<5x2x1x8x8xf32>, tensor<4x1x3x3xf32> -> tensor<5x2x4x8x8xf32>
  return
}

// -----

func.func @conv_stride(%a: tensor<5x2x1x8x8xf32>, %w: tensor<4x1x3x3xf32>) {
  // expected-error @+1 {{attribute 'strides' entries must be >= 1, got [0, 1]}}
  %c = snn.conv2d %a, %w {strides = array<i64: 0, 1>} : tensor<5x2x1x8x8xf32>, tensor<4x1x3x3xf32> -> tensor<5x2x4x6x6xf32>
  return
}

// -----

func.func @conv_padding(%a: tensor<5x2x1x8x8xf32>, %w: tensor<4x1x3x3xf32>) {
  // expected-error @+1 {{attribute 'padding' entries must be >= 0, got [-1, 0]}}
  %c = snn.conv2d %a, %w {padding = array<i64: -1, 0>} : tensor<5x2x1x8x8xf32>, tensor<4x1x3x3xf32> -> tensor<5x2x4x6x6xf32>
  return
}

// -----

func.func @conv_pair(%a: tensor<5x2x1x8x8xf32>, %w: tensor<4x1x3x3xf32>) {
  // expected-error @+1 {{attribute 'strides' must have 2 entries [h, w], got 3}}
  %c = snn.conv2d %a, %w {strides = array<i64: 1, 1, 1>} : tensor<5x2x1x8x8xf32>, tensor<4x1x3x3xf32> -> tensor<5x2x4x6x6xf32>
  return
}

// -----

func.func @conv_rank(%a: tensor<5x2x8x8xf32>, %w: tensor<4x1x3x3xf32>) {
  // expected-error @+1 {{'input' must have rank 5}}
  %c = snn.conv2d %a, %w : tensor<5x2x8x8xf32>, tensor<4x1x3x3xf32> -> tensor<5x2x4x6x6xf32>
  return
}

// -----

func.func @pool_scale(%a: tensor<5x2x4x8x8xf32>) {
  // expected-error @+1 {{attribute 'scale' must be > 0, got 0}}
  %p = snn.pool sum %a {kernel = array<i64: 2, 2>, scale = 0.0 : f32} : tensor<5x2x4x8x8xf32> -> tensor<5x2x4x4x4xf32>
  return
}

// -----

func.func @pool_kernel(%a: tensor<5x2x4x8x8xf32>) {
  // expected-error @+1 {{attribute 'kernel' entries must be >= 1, got [0, 2]}}
  %p = snn.pool sum %a {kernel = array<i64: 0, 2>} : tensor<5x2x4x8x8xf32> -> tensor<5x2x4x4x4xf32>
  return
}

// -----

func.func @pool_shape(%a: tensor<5x2x4x8x8xf32>) {
  // expected-error @+1 {{'result' has shape tensor<5x2x4x8x8xf32> but the op implies [5, 2, 4, 4, 4]}}
  %p = snn.pool avg %a {kernel = array<i64: 2, 2>} : tensor<5x2x4x8x8xf32> -> tensor<5x2x4x8x8xf32>
  return
}

// -----

func.func @flatten_count(%a: tensor<5x2x4x3x3xf32>) {
  // expected-error @+1 {{'result' has shape tensor<5x2x35xf32> but the op implies [5, 2, 36]}}
  %f = snn.flatten %a : tensor<5x2x4x3x3xf32> -> tensor<5x2x35xf32>
  return
}

// -----

func.func @flatten_rank(%a: tensor<5x2x4x3x3xf32>) {
  // expected-error @+1 {{'result' must have rank 3}}
  %f = snn.flatten %a : tensor<5x2x4x3x3xf32> -> tensor<5x2x4x9xf32>
  return
}

// -----

func.func @dropout_rate(%a: tensor<5x2x4xf32>, %k: i64) {
  // expected-error @+1 {{attribute 'rate' must be in [0, 1), got 1}}
  %y, %m = snn.dropout %a, %k {rate = 1.0 : f32} : tensor<5x2x4xf32> -> tensor<2x4xf32>
  return
}

// -----

func.func @dropout_mask(%a: tensor<5x2x4xf32>, %k: i64) {
  // expected-error @+1 {{'mask' has shape tensor<5x2x4xf32> but the op implies [2, 4]}}
  %y, %m = snn.dropout %a, %k {rate = 0.5 : f32} : tensor<5x2x4xf32> -> tensor<5x2x4xf32>
  return
}

// -----

func.func @lif_tau(%c: tensor<5x2x4xf32>) {
  // expected-error @+1 {{neuron parameter 'tau_m' must be finite and >= 1 (a leak of 1 - 1/tau_m in [0, 1)), got 0.5}}
  %u, %s = snn.neuron %c <lif, tau_m = 0.5> : tensor<5x2x4xf32>
  return
}

// -----

func.func @if_tau(%c: tensor<5x2x4xf32>) {
  // expected-error @+1 {{unknown parameter 'tau_m' of a if neuron}}
  %u, %s = snn.neuron %c <if, tau_m = 5.0> : tensor<5x2x4xf32>
  return
}

// -----

func.func @neuron_kind(%c: tensor<5x2x4xf32>) {
  // expected-error @+1 {{unknown neuron kind 'izhikevich' (lif or if)}}
  %u, %s = snn.neuron %c <izhikevich> : tensor<5x2x4xf32>
  return
}

// -----

func.func @neuron_reset(%c: tensor<5x2x4xf32>) {
  // expected-error @+1 {{unknown reset 'half' (zero or subtract)}}
  %u, %s = snn.neuron %c <lif, reset = half> : tensor<5x2x4xf32>
  return
}

// -----

func.func @bias_shape(%c: tensor<5x2x4xf32>, %b: tensor<3xf32>) {
  // expected-error @+1 {{'bias' has shape tensor<3xf32> but the op implies [4]}}
  %y = snn.bias_add %c, %b : tensor<5x2x4xf32>, tensor<3xf32>
  return
}

// -----

func.func @bias_grad_shape(%d: tensor<5x2x4xf32>) {
  // expected-error @+1 {{'result' has shape tensor<5xf32> but the op implies [4]}}
  %db = snn.bias_grad %d : tensor<5x2x4xf32> -> tensor<5xf32>
  return
}

// -----

func.func @lif_threshold(%c: tensor<5x2x4xf32>) {
  // expected-error @+1 {{neuron parameter 'threshold' must be finite and > 0, got -1}}
  %u, %s = snn.neuron %c <lif, threshold = -1.0> : tensor<5x2x4xf32>
  return
}

// -----

func.func @lif_types(%c: tensor<5x2x4xf32>) {
  // expected-error @+1 {{all of {input, potential, spikes} have same type}}
  %u, %s = "snn.neuron"(%c) {model = #snn.neuron<lif>} : (tensor<5x2x4xf32>) -> (tensor<5x2x4xf32>, tensor<4x2x4xf32>)
  return
}

// -----

func.func @psc_tau(%s: tensor<5x2x4xf32>) {
  // expected-error @+1 {{attribute 'tau_s' must be >= 1}}
  %a = snn.psc %s {tau_s = 0.9 : f32} : tensor<5x2x4xf32>
  return
}

// -----

func.func @psc_zero_steps(%s: tensor<0x2x4xf32>) {
  // expected-error @+1 {{'input' must have at least one time step, got T = 0}}
  %a = snn.psc %s : tensor<0x2x4xf32>
  return
}

// -----

func.func @target_batch(%l: tensor<3xi32>) {
  // expected-error @+1 {{batch axes disagree: 'labels' has B = 3, 'result' has B = 2}}
  %d = snn.target_spikes %l : tensor<3xi32> -> tensor<5x2x10xf32>
  return
}

// -----

func.func @target_rank(%l: tensor<2xi32>) {
  // expected-error @+1 {{'result' must have rank 3}}
  %d = snn.target_spikes %l : tensor<2xi32> -> tensor<5x2x10x1xf32>
  return
}

// -----

func.func @loss_tau(%a: tensor<5x2x10xf32>, %d: tensor<5x2x10xf32>) {
  // expected-error @+1 {{attribute 'tau_s' must be >= 1}}
  %l, %g = snn.van_rossum_loss %a, %d {tau_s = 0.0 : f32} : tensor<5x2x10xf32>
  return
}

// -----

func.func @loss_types(%a: tensor<5x2x10xf32>, %d: tensor<4x2x10xf32>) {
  // expected-error @+1 {{all of {output, desired, grad} have same type}}
  %l, %g = "snn.van_rossum_loss"(%a, %d) : (tensor<5x2x10xf32>, tensor<4x2x10xf32>) -> (f32, tensor<5x2x10xf32>)
  return
}

// -----

func.func @count_loss_rank(%a: tensor<10xf32>, %d: tensor<10xf32>) {
  // expected-error @+1 {{'output' must have a time and a batch axis}}
  %l, %g = snn.spike_count_loss %a, %d : tensor<10xf32>
  return
}

// -----

func.func @scan_tau(%g: tensor<5x2x10xf32>) {
  // expected-error @+1 {{attribute 'tau_s' must be >= 1}}
  %e = snn.psc_error_scan %g {tau_s = 0.5 : f32} : tensor<5x2x10xf32>
  return
}

// -----

func.func @na_tau_m(%e: tensor<5x2x10xf32>) {
  // expected-error @+1 {{neuron parameter 'tau_m' must be finite and >= 1}}
  %d = snn.na_backward %e, %e, %e, %e {neuron = #snn.neuron<lif, tau_m = 0.9>} : tensor<5x2x10xf32>
  return
}

// -----

func.func @na_tau_s(%e: tensor<5x2x10xf32>) {
  // expected-error @+1 {{attribute 'tau_s' must be >= 1}}
  %d = snn.na_backward %e, %e, %e, %e {tau_s = 0.0 : f32} : tensor<5x2x10xf32>
  return
}

// -----

func.func @na_threshold(%e: tensor<5x2x10xf32>) {
  // expected-error @+1 {{neuron parameter 'threshold' must be finite and > 0, got 0}}
  %d = snn.na_backward %e, %e, %e, %e {neuron = #snn.neuron<lif, threshold = 0.0>} : tensor<5x2x10xf32>
  return
}

// -----

func.func @na_clip(%e: tensor<5x2x10xf32>) {
  // expected-error @+1 {{attribute 'clip' must be > 0, got -2}}
  %d = snn.na_backward %e, %e, %e, %e {clip = -2.0 : f32} : tensor<5x2x10xf32>
  return
}

// -----

func.func @na_selection(%e: tensor<5x2x10xf32>) {
  // expected-error @+1 {{attribute 'selection' must name a neighborhood-selection strategy}}
  %d = snn.na_backward %e, %e, %e, %e {selection = ""} : tensor<5x2x10xf32>
  return
}

// -----

func.func @na_types(%e: tensor<5x2x10xf32>, %u: tensor<4x2x10xf32>) {
  // expected-error @+1 {{all of {error, input, potential, spikes, delta} have same type}}
  %d = "snn.na_backward"(%e, %e, %u, %e) : (tensor<5x2x10xf32>, tensor<5x2x10xf32>, tensor<4x2x10xf32>, tensor<5x2x10xf32>) -> tensor<5x2x10xf32>
  return
}

// -----

func.func @stbp_width(%g: tensor<5x2x10xf32>) {
  // expected-error @+1 {{attribute 'width' must be > 0, got 0}}
  %d = snn.stbp_backward %g, %g, %g {width = 0.0 : f32} : tensor<5x2x10xf32>
  return
}

// -----

func.func @stbp_temperature(%g: tensor<5x2x10xf32>) {
  // expected-error @+1 {{attribute 'temperature' must be > 0, got -1}}
  %d = snn.stbp_backward %g, %g, %g {surrogate = #snn<surrogate sigmoid>, temperature = -1.0 : f32} : tensor<5x2x10xf32>
  return
}

// -----

func.func @grad_input_features(%d: tensor<5x2x10xf32>, %w: tensor<9x36xf32>) {
  // expected-error @+1 {{features disagree: 'delta' has 10, 'weight' has 9 outputs}}
  %g = snn.dense_grad_input %d, %w : tensor<5x2x10xf32>, tensor<9x36xf32> -> tensor<5x2x36xf32>
  return
}

// -----

func.func @grad_input_shape(%d: tensor<5x2x10xf32>, %w: tensor<10x36xf32>) {
  // expected-error @+1 {{'result' has shape tensor<5x2x35xf32> but the op implies [5, 2, 36]}}
  %g = snn.dense_grad_input %d, %w : tensor<5x2x10xf32>, tensor<10x36xf32> -> tensor<5x2x35xf32>
  return
}

// -----

func.func @grad_weight_time(%a: tensor<4x2x36xf32>, %d: tensor<5x2x10xf32>) {
  // expected-error @+1 {{time axes disagree: 'input' has T = 4, 'delta' has T = 5}}
  %g = snn.dense_grad_weight %a, %d : tensor<4x2x36xf32>, tensor<5x2x10xf32> -> tensor<10x36xf32>
  return
}

// -----

func.func @grad_weight_batch(%a: tensor<5x3x36xf32>, %d: tensor<5x2x10xf32>) {
  // expected-error @+1 {{batch axes disagree: 'input' has B = 3, 'delta' has B = 2}}
  %g = snn.dense_grad_weight %a, %d : tensor<5x3x36xf32>, tensor<5x2x10xf32> -> tensor<10x36xf32>
  return
}

// -----

func.func @grad_weight_shape(%a: tensor<5x2x36xf32>, %d: tensor<5x2x10xf32>) {
  // expected-error @+1 {{'result' has shape tensor<36x10xf32> but the op implies [10, 36]}}
  %g = snn.dense_grad_weight %a, %d : tensor<5x2x36xf32>, tensor<5x2x10xf32> -> tensor<36x10xf32>
  return
}

// -----

func.func @conv_grad_input_channels(%d: tensor<5x2x3x8x8xf32>, %w: tensor<4x1x3x3xf32>) {
  // expected-error @+1 {{channels disagree: 'delta' has 3, 'weight' has 4 outputs}}
  %g = snn.conv2d_grad_input %d, %w {padding = array<i64: 1, 1>} : tensor<5x2x3x8x8xf32>, tensor<4x1x3x3xf32> -> tensor<5x2x1x8x8xf32>
  return
}

// -----

func.func @conv_grad_input_spatial(%d: tensor<5x2x4x8x8xf32>, %w: tensor<4x1x3x3xf32>) {
  // expected-error @+1 {{'delta' has shape tensor<5x2x4x8x8xf32> but the op implies [5, 2, 4, 6, 6]}}
  %g = snn.conv2d_grad_input %d, %w : tensor<5x2x4x8x8xf32>, tensor<4x1x3x3xf32> -> tensor<5x2x1x8x8xf32>
  return
}

// -----

func.func @conv_grad_weight_time(%a: tensor<4x2x1x8x8xf32>, %d: tensor<5x2x4x6x6xf32>) {
  // expected-error @+1 {{time axes disagree: 'input' has T = 4, 'delta' has T = 5}}
  %g = snn.conv2d_grad_weight %a, %d : tensor<4x2x1x8x8xf32>, tensor<5x2x4x6x6xf32> -> tensor<4x1x3x3xf32>
  return
}

// -----

func.func @conv_grad_weight_channels(%a: tensor<5x2x1x8x8xf32>, %d: tensor<5x2x4x6x6xf32>) {
  // expected-error @+1 {{channels disagree: 'delta' has 4, 'result' has 5 outputs}}
  %g = snn.conv2d_grad_weight %a, %d : tensor<5x2x1x8x8xf32>, tensor<5x2x4x6x6xf32> -> tensor<5x1x3x3xf32>
  return
}

// -----

func.func @conv_grad_weight_stride(%a: tensor<5x2x1x8x8xf32>, %d: tensor<5x2x4x6x6xf32>) {
  // expected-error @+1 {{attribute 'strides' entries must be >= 1}}
  %g = snn.conv2d_grad_weight %a, %d {strides = array<i64: 1, -1>} : tensor<5x2x1x8x8xf32>, tensor<5x2x4x6x6xf32> -> tensor<4x1x3x3xf32>
  return
}

// -----

func.func @pool_grad_shape(%g: tensor<5x2x4x4x4xf32>) {
  // expected-error @+1 {{'grad' has shape tensor<5x2x4x4x4xf32> but the op implies [5, 2, 4, 3, 3]}}
  %r = snn.pool_grad sum %g {kernel = array<i64: 2, 2>} : tensor<5x2x4x4x4xf32> -> tensor<5x2x4x6x6xf32>
  return
}

// -----

func.func @pool_grad_scale(%g: tensor<5x2x4x4x4xf32>) {
  // expected-error @+1 {{attribute 'scale' must be > 0}}
  %r = snn.pool_grad sum %g {kernel = array<i64: 2, 2>, scale = -1.0 : f32} : tensor<5x2x4x4x4xf32> -> tensor<5x2x4x8x8xf32>
  return
}

// -----

func.func @dropout_grad_mask(%g: tensor<5x2x4xf32>, %m: tensor<3x4xf32>) {
  // expected-error @+1 {{'mask' has shape tensor<3x4xf32> but the op implies [2, 4]}}
  %r = snn.dropout_grad %g, %m : tensor<5x2x4xf32>, tensor<3x4xf32>
  return
}

// -----

func.func @clip_norm(%g: tensor<4xf32>) {
  // expected-error @+1 {{attribute 'max_norm' must be > 0, got 0}}
  %c:2 = snn.clip_grad_norm %g {max_norm = 0.0 : f32} : tensor<4xf32>
  return
}

// -----

func.func @clip_count(%g: tensor<4xf32>) {
  // expected-error @+1 {{has 1 gradients but 2 clipped results}}
  %c:3 = "snn.clip_grad_norm"(%g) {max_norm = 1.0 : f32} : (tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, f32)
  return
}

// -----

func.func @clip_types(%g: tensor<4xf32>) {
  // expected-error @+1 {{clipped result #0 has type 'tensor<5xf32>' but gradient #0 has type 'tensor<4xf32>'}}
  %c:2 = "snn.clip_grad_norm"(%g) {max_norm = 1.0 : f32} : (tensor<4xf32>) -> (tensor<5xf32>, f32)
  return
}

// -----

func.func @all_reduce_kind(%g: tensor<4xf32>) {
  // expected-error @+1 {{attribute 'reduction' must be "sum" or "mean", got "max"}}
  %r = snn.grad_all_reduce %g {reduction = "max"} : tensor<4xf32>
  return
}

// -----

func.func @all_reduce_types(%g: tensor<4xf32>) {
  // expected-error @+1 {{reduced result #0 has type 'tensor<5xf32>' but gradient #0 has type 'tensor<4xf32>'}}
  %r = "snn.grad_all_reduce"(%g) : (tensor<4xf32>) -> tensor<5xf32>
  return
}

// -----

func.func @adamw_beta(%p: tensor<4xf32>, %s: i64, %lr: f32) {
  // expected-error @+1 {{attribute 'beta1' must be in [0, 1), got 1}}
  %a, %b, %c = snn.adamw %p, %p, %p, %p, %s, %lr {beta1 = 1.0 : f32} : tensor<4xf32>
  return
}

// -----

func.func @adamw_beta2(%p: tensor<4xf32>, %s: i64, %lr: f32) {
  // expected-error @+1 {{attribute 'beta2' must be in [0, 1), got -0.5}}
  %a, %b, %c = snn.adamw %p, %p, %p, %p, %s, %lr {beta2 = -0.5 : f32} : tensor<4xf32>
  return
}

// -----

func.func @adamw_eps(%p: tensor<4xf32>, %s: i64, %lr: f32) {
  // expected-error @+1 {{attribute 'eps' must be > 0, got 0}}
  %a, %b, %c = snn.adamw %p, %p, %p, %p, %s, %lr {eps = 0.0 : f32} : tensor<4xf32>
  return
}

// -----

func.func @adamw_wd(%p: tensor<4xf32>, %s: i64, %lr: f32) {
  // expected-error @+1 {{attribute 'weight_decay' must be finite and >= 0, got -0.1}}
  %a, %b, %c = snn.adamw %p, %p, %p, %p, %s, %lr {weight_decay = -0.1 : f32} : tensor<4xf32>
  return
}

// -----

func.func @loop_time(%a: tensor<5x2x3xf32>, %b: tensor<4x2x3xf32>) {
  // expected-error @+1 {{time axes disagree: input #1 has T = 4, the loop runs T = 5}}
  %r = snn.time_loop ins(%a, %b : tensor<5x2x3xf32>, tensor<4x2x3xf32>) -> (tensor<5x2x3xf32>) {
  ^bb0(%t: index, %x: tensor<2x3xf32>, %y: tensor<2x3xf32>):
    snn.yield %x : tensor<2x3xf32>
  }
  return
}

// -----

func.func @loop_result_time(%a: tensor<5x2x3xf32>) {
  // expected-error @+1 {{time axes disagree: result #0 has T = 6, the loop runs T = 5}}
  %r = snn.time_loop ins(%a : tensor<5x2x3xf32>) -> (tensor<6x2x3xf32>) {
  ^bb0(%t: index, %x: tensor<2x3xf32>):
    snn.yield %x : tensor<2x3xf32>
  }
  return
}

// -----

func.func @loop_no_results(%a: tensor<5x2x3xf32>) {
  // expected-error @+1 {{must have at least one stacked result}}
  "snn.time_loop"(%a) ({
  ^bb0(%t: index, %x: tensor<2x3xf32>):
    snn.yield
  }) {operandSegmentSizes = array<i32: 1, 0>} : (tensor<5x2x3xf32>) -> ()
  return
}

// -----

func.func @loop_args(%a: tensor<5x2x3xf32>) {
  // expected-error @+1 {{body must take (t, 1 input slices, 0 state values), got 1 arguments}}
  %r = snn.time_loop ins(%a : tensor<5x2x3xf32>) -> (tensor<5x2x3xf32>) {
  ^bb0(%t: index):
    %z = arith.constant dense<0.0> : tensor<2x3xf32>
    snn.yield %z : tensor<2x3xf32>
  }
  return
}

// -----

func.func @loop_index(%a: tensor<5x2x3xf32>) {
  // expected-error @+1 {{body argument #0 (t) must be index}}
  %r = snn.time_loop ins(%a : tensor<5x2x3xf32>) -> (tensor<5x2x3xf32>) {
  ^bb0(%t: i32, %x: tensor<2x3xf32>):
    snn.yield %x : tensor<2x3xf32>
  }
  return
}

// -----

func.func @loop_slice(%a: tensor<5x2x3xf32>) {
  // expected-error @+1 {{body argument #1 must be 'tensor<2x3xf32>' (one step of input #0)}}
  %r = snn.time_loop ins(%a : tensor<5x2x3xf32>) -> (tensor<5x2x3xf32>) {
  ^bb0(%t: index, %x: tensor<5x2x3xf32>):
    %z = arith.constant dense<0.0> : tensor<2x3xf32>
    snn.yield %z : tensor<2x3xf32>
  }
  return
}

// -----

func.func @loop_state(%a: tensor<5x2x3xf32>, %z: tensor<2x3xf32>) {
  // expected-error @+1 {{body argument #2 must match init #0 ('tensor<2x3xf32>')}}
  %r = snn.time_loop ins(%a : tensor<5x2x3xf32>) init(%z : tensor<2x3xf32>) -> (tensor<5x2x3xf32>) {
  ^bb0(%t: index, %x: tensor<2x3xf32>, %s: tensor<3xf32>):
    snn.yield %x, %z : tensor<2x3xf32>, tensor<2x3xf32>
  }
  return
}

// -----

func.func @loop_yield_count(%a: tensor<5x2x3xf32>, %z: tensor<2x3xf32>) {
  %r = snn.time_loop ins(%a : tensor<5x2x3xf32>) init(%z : tensor<2x3xf32>) -> (tensor<5x2x3xf32>) {
  ^bb0(%t: index, %x: tensor<2x3xf32>, %s: tensor<2x3xf32>):
    // expected-error @+1 {{must yield 1 step outputs and 1 state values, got 1}}
    snn.yield %x : tensor<2x3xf32>
  }
  return
}

// -----

func.func @loop_yield_type(%a: tensor<5x2x3xf32>) {
  %r = snn.time_loop ins(%a : tensor<5x2x3xf32>) -> (tensor<5x2x3xf32>) {
  ^bb0(%t: index, %x: tensor<2x3xf32>):
    %z = arith.constant dense<0.0> : tensor<3xf32>
    // expected-error @+1 {{value #0 must be 'tensor<2x3xf32>' (one step of result #0)}}
    snn.yield %z : tensor<3xf32>
  }
  return
}

// -----

func.func @loop_yield_state(%a: tensor<5x2x3xf32>, %z: tensor<2x3xf32>) {
  %r = snn.time_loop ins(%a : tensor<5x2x3xf32>) init(%z : tensor<2x3xf32>) -> (tensor<5x2x3xf32>) {
  ^bb0(%t: index, %x: tensor<2x3xf32>, %s: tensor<2x3xf32>):
    %w = arith.constant dense<0.0> : tensor<3xf32>
    // expected-error @+1 {{state value #0 must be 'tensor<2x3xf32>'}}
    snn.yield %x, %w : tensor<2x3xf32>, tensor<3xf32>
  }
  return
}

// -----

func.func @yield_parent() {
  // expected-error @+1 {{expects parent op 'snn.time_loop'}}
  snn.yield
}

// -----

func.func @encode_grad_shape(%g: tensor<5x2x4xf32>) {
  // expected-error @+1 {{'result' has shape tensor<2x3xf32> but the op implies [2, 4]}}
  %r = snn.encode_current_grad %g : tensor<5x2x4xf32> -> tensor<2x3xf32>
  return
}

// -----

func.func @sgd_nesterov(%p: tensor<4xf32>, %lr: f32) {
  // expected-error @+1 {{Nesterov momentum needs 'momentum' > 0}}
  %a, %b = snn.sgd %p, %p, %p, %lr {nesterov} : tensor<4xf32>
  return
}

// -----

func.func @sgd_momentum(%p: tensor<4xf32>, %lr: f32) {
  // expected-error @+1 {{attribute 'momentum' must be finite and >= 0, got -1}}
  %a, %b = snn.sgd %p, %p, %p, %lr {momentum = -1.0 : f32} : tensor<4xf32>
  return
}
