// RUN: snn-opt %s --snn-fuse-time-loop --snn-lower-time-loop | FileCheck %s

// CHECK-LABEL: func.func @lif_psc
// One scalar loop nest: parallel over the 6 neurons, time inside, the
// state (r, a) as f32 iteration arguments.
// CHECK: %[[C:.*]] = memref.collapse_shape %{{.*}} {{\[\[}}0], [1, 2]] : memref<5x2x3xf32> into memref<5x6xf32>
// CHECK: scf.parallel (%[[N:.*]]) = (%{{.*}}) to (%{{.*}}) step
// CHECK: scf.for %[[T:[a-z0-9]+]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[R:.*]] = %{{.*}}, %[[A:.*]] = %{{.*}}) -> (f32, f32)
// CHECK: %[[CT:.*]] = memref.load %[[C]][%[[T]], %[[N]]] : memref<5x6xf32>
// CHECK: %[[MR:.*]] = arith.mulf %{{.*}}, %[[R]] : f32
// CHECK: %[[U:.*]] = arith.addf %[[MR]], %[[CT]] : f32
// CHECK: arith.cmpf oge, %[[U]]
// CHECK: memref.store %[[U]], %{{.*}}[%[[T]], %[[N]]]
// CHECK: scf.yield
// CHECK-NOT: snn.time_loop
func.func @lif_psc(%c: tensor<5x2x3xf32>) -> tensor<5x2x3xf32> {
  %u, %s = snn.lif %c : tensor<5x2x3xf32>
  %a = snn.psc %s : tensor<5x2x3xf32>
  return %a : tensor<5x2x3xf32>
}

// CHECK-LABEL: func.func @reverse
// t = T - 1 - i
// CHECK: scf.for %[[I:[a-z0-9]+]] =
// CHECK: %[[T:.*]] = arith.subi %{{.*}}, %[[I]] : index
// CHECK: memref.load %{{.*}}[%[[T]], %{{.*}}]
func.func @reverse(%g: tensor<5x2x3xf32>) -> tensor<5x2x3xf32> {
  %e = snn.psc_error_scan %g : tensor<5x2x3xf32>
  return %e : tensor<5x2x3xf32>
}

// CHECK-LABEL: func.func @captured_input
// A current input is read at [n] every step.
// CHECK: memref.collapse_shape %{{.*}} {{\[\[}}0, 1]] : memref<2x3xf32> into memref<6xf32>
// CHECK: scf.for
// CHECK: memref.load %{{.*}}[%{{.*}}] : memref<6xf32>
func.func @captured_input(%x: tensor<2x3xf32>) -> tensor<5x2x3xf32> {
  %a = snn.encode_current %x : tensor<2x3xf32> -> tensor<5x2x3xf32>
  return %a : tensor<5x2x3xf32>
}
