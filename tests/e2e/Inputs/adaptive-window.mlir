// An NA backward for the adaptive-window plugin (T = 8).
func.func @layer(%e: tensor<8x2x3xf32>) -> tensor<8x2x3xf32> {
  %d = snn.na_backward %e, %e, %e, %e {selection = "adaptive-window"} : tensor<8x2x3xf32>
  return %d : tensor<8x2x3xf32>
}
