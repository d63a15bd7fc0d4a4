// RUN: snn-opt %s --snn-fuse-time-loop | FileCheck %s

// CHECK-LABEL: func.func @lif_psc
// LIF and the PSC of its spikes: one loop, state (r, a) as loop arguments.
// CHECK: %[[Z:.*]] = arith.constant dense<0.000000e+00> : tensor<2x3xf32>
// CHECK: %[[L:.*]]:3 = snn.time_loop ins(%{{.*}} : tensor<5x2x3xf32>) init(%[[Z]], %[[Z]] : tensor<2x3xf32>, tensor<2x3xf32>) -> (tensor<5x2x3xf32>, tensor<5x2x3xf32>, tensor<5x2x3xf32>) {
// CHECK: ^bb0(%{{.*}}: index, %[[C:.*]]: tensor<2x3xf32>, %[[R:.*]]: tensor<2x3xf32>, %[[A:.*]]: tensor<2x3xf32>):
// u = (1 - 1/tau_m) r + c with tau_m = 4
// CHECK: %[[DM:.*]] = arith.constant dense<7.500000e-01>
// CHECK: %[[MR:.*]] = arith.mulf %[[DM]], %[[R]]
// CHECK: %[[U:.*]] = arith.addf %[[MR]], %[[C]]
// CHECK: %[[F:.*]] = arith.cmpf oge, %[[U]]
// CHECK: %[[S:.*]] = arith.select %[[F]]
// CHECK: %[[RN:.*]] = arith.select %[[F]], %{{.*}}, %[[U]]
// CHECK: %[[AN:.*]] = arith.addf
// CHECK: snn.yield %[[U]], %[[S]], %[[AN]], %[[RN]], %[[AN]]
// CHECK-NOT: snn.neuron
// CHECK-NOT: snn.psc
// CHECK: return %[[L]]#2, %[[L]]#0
func.func @lif_psc(%c: tensor<5x2x3xf32>) -> (tensor<5x2x3xf32>, tensor<5x2x3xf32>) {
  %u, %s = snn.neuron %c <lif, tau_m = 4.0> : tensor<5x2x3xf32>
  %a = snn.psc %s : tensor<5x2x3xf32>
  return %a, %u : tensor<5x2x3xf32>, tensor<5x2x3xf32>
}

// CHECK-LABEL: func.func @scan
// The PSC-error scan runs backwards in time.
// CHECK: snn.time_loop reverse ins(
// CHECK: snn.yield %[[E:.*]], %[[E]]
// It is named for what it computes (the lowering's kernel name).
// CHECK: } {snn.kernel = "psc_error_scan"}
func.func @scan(%g: tensor<5x2x3xf32>) -> tensor<5x2x3xf32> {
  %e = snn.psc_error_scan %g : tensor<5x2x3xf32>
  return %e : tensor<5x2x3xf32>
}

// CHECK-LABEL: func.func @encode
// A current input has no time axis: the loop has no inputs and reads %x.
// CHECK: snn.time_loop init(
// CHECK: arith.mulf %{{.*}}, %{{.*}}
func.func @encode(%x: tensor<2x3xf32>) -> tensor<5x2x3xf32> {
  %a = snn.encode_current %x : tensor<2x3xf32> -> tensor<5x2x3xf32>
  return %a : tensor<5x2x3xf32>
}
