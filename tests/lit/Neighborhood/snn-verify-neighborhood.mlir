// RUN: snn-opt %s --snn-neighborhood-sns --snn-verify-neighborhood -verify-diagnostics

func.func @unknown_strategy(%e: tensor<5x2x3xf32>) -> tensor<5x2x3xf32> {
  // expected-error @+1 {{neighborhood strategy 'mystery' is not in the neighborhood-selection slot}}
  %d = snn.na_backward %e, %e, %e, %e {selection = "mystery"} : tensor<5x2x3xf32>
  return %d : tensor<5x2x3xf32>
}
