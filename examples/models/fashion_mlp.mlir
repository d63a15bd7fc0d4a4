// Fashion-MNIST MLP 784-400-400-10 (NA_SPEC section 5: tau_s 3, T 5),
// batch 100, written directly in the snn dialect.
func.func @forward(%w1: tensor<400x784xf32> {snn.param},
                   %w2: tensor<400x400xf32> {snn.param},
                   %w3: tensor<10x400xf32> {snn.param},
                   %x: tensor<100x784xf32>, %labels: tensor<100xi32>)
    -> (f32, tensor<5x100x10xf32>) attributes {snn.na_clip = 10.0 : f32} {
  %a0 = snn.encode_current %x {tau_s = 3.0 : f32} : tensor<100x784xf32> -> tensor<5x100x784xf32>
  %c1 = snn.dense %a0, %w1 : tensor<5x100x784xf32>, tensor<400x784xf32> -> tensor<5x100x400xf32>
  %u1, %s1 = snn.lif %c1 {tau_m = 5.0 : f32, threshold = 1.0 : f32} : tensor<5x100x400xf32>
  %a1 = snn.psc %s1 {tau_s = 3.0 : f32} : tensor<5x100x400xf32>
  %c2 = snn.dense %a1, %w2 : tensor<5x100x400xf32>, tensor<400x400xf32> -> tensor<5x100x400xf32>
  %u2, %s2 = snn.lif %c2 {tau_m = 5.0 : f32, threshold = 1.0 : f32} : tensor<5x100x400xf32>
  %a2 = snn.psc %s2 {tau_s = 3.0 : f32} : tensor<5x100x400xf32>
  %c3 = snn.dense %a2, %w3 : tensor<5x100x400xf32>, tensor<10x400xf32> -> tensor<5x100x10xf32>
  %u3, %s3 = snn.lif %c3 {tau_m = 5.0 : f32, threshold = 1.0 : f32} : tensor<5x100x10xf32>
  %a3 = snn.psc %s3 {tau_s = 3.0 : f32} : tensor<5x100x10xf32>
  %d = snn.target_spikes %labels : tensor<100xi32> -> tensor<5x100x10xf32>
  %loss, %g = snn.van_rossum_loss %a3, %d {tau_s = 3.0 : f32} : tensor<5x100x10xf32>
  return %loss, %s3 : f32, tensor<5x100x10xf32>
}
