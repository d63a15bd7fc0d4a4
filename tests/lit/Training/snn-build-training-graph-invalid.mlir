// RUN: snn-opt %s -split-input-file --snn-build-training-graph -verify-diagnostics

// expected-error @+1 {{snn-build-training-graph: no function @forward}}
module {
  func.func @other() { return }
}

// -----

// expected-error @+1 {{has no argument marked {snn.param}}}
func.func @forward(%a: tensor<5x2x3xf32>, %d: tensor<5x2x3xf32>) -> (f32, tensor<5x2x3xf32>) {
  %loss, %g = snn.van_rossum_loss %a, %d : tensor<5x2x3xf32>
  return %loss, %a : f32, tensor<5x2x3xf32>
}

// -----

// expected-error @+1 {{its first result must be the loss of an snn.van_rossum_loss, snn.spike_count_loss or snn.cross_entropy_loss}}
func.func @forward(%w: tensor<3x3xf32> {snn.param}, %l: f32) -> (f32, tensor<3x3xf32>) {
  return %l, %w : f32, tensor<3x3xf32>
}

// -----

func.func @forward(%w: tensor<3x4xf32> {snn.param}, %a: tensor<5x2x4xf32>, %d: tensor<5x2x3xf32>) -> (f32, tensor<5x2x3xf32>) {
  %c = snn.dense %a, %w : tensor<5x2x4xf32>, tensor<3x4xf32> -> tensor<5x2x3xf32>
  // expected-error @+1 {{spikes reach the loss without passing through snn.psc}}
  %u, %s = snn.neuron %c <lif> : tensor<5x2x3xf32>
  %loss, %g = snn.van_rossum_loss %s, %d : tensor<5x2x3xf32>
  return %loss, %s : f32, tensor<5x2x3xf32>
}

// -----

func.func @forward(%w: tensor<3x4xf32> {snn.param}, %a: tensor<5x2x4xf32>, %d: tensor<5x2x3xf32>) -> (f32, tensor<5x2x3xf32>) {
  %c = snn.dense %a, %w : tensor<5x2x4xf32>, tensor<3x4xf32> -> tensor<5x2x3xf32>
  // expected-error @+1 {{the NA backward needs the input of snn.psc to be the spikes of an snn.neuron}}
  %p = snn.psc %c : tensor<5x2x3xf32>
  %loss, %g = snn.van_rossum_loss %p, %d : tensor<5x2x3xf32>
  return %loss, %p : f32, tensor<5x2x3xf32>
}
