// RUN: snn-opt %s --split-input-file --snn-fuse-time-loop --snn-lower-time-loop | FileCheck %s

// CHECK-LABEL: func.func @lif_psc
// CPU form (the default, 256 neurons a block): parallel over blocks; per
// step, a loop over the block's neurons (innermost, so that it vectorizes)
// with the state (r, a) in the block's own stack buffers between steps.
// Only a is read, so only a gets a buffer: u and s are not stored.
// CHECK: %[[C:.*]] = memref.collapse_shape %{{.*}} {{\[\[}}0], [1, 2]] : memref<5x2x3xf32> into memref<5x6xf32>
// CHECK: %[[OUT:.*]] = memref.alloc() : memref<5x2x3xf32>
// CHECK: %[[O:.*]] = memref.collapse_shape %[[OUT]]
// CHECK-NOT: memref.alloc()
// CHECK: %[[B256:.*]] = arith.constant 256 : index
// CHECK: scf.parallel (%[[BLK:.*]]) = (%{{.*}}) to (%{{.*}}) step
// CHECK: %[[N0:.*]] = arith.muli %[[BLK]], %[[B256]]
// CHECK: %[[N1:.*]] = arith.minui
// CHECK: %[[RB:.*]] = memref.alloca() : memref<6xf32>
// CHECK: %[[AB:.*]] = memref.alloca() : memref<6xf32>
// Initial state.
// CHECK: scf.for %[[N:[a-z0-9]+]] = %[[N0]] to %[[N1]]
// CHECK: %[[J:.*]] = arith.subi %[[N]], %[[N0]]
// CHECK: memref.store %{{.*}}, %[[RB]][%[[J]]]
// Time, then neurons.
// CHECK: scf.for %[[T:[a-z0-9]+]] = %{{.*}} to %{{.*}} step
// CHECK: scf.for %[[M:[a-z0-9]+]] = %[[N0]] to %[[N1]]
// CHECK: %[[K:.*]] = arith.subi %[[M]], %[[N0]]
// CHECK: %[[R:.*]] = memref.load %[[RB]][%[[K]]]
// CHECK: %[[CT:.*]] = memref.load %[[C]][%[[T]], %[[M]]] : memref<5x6xf32>
// CHECK: %[[MR:.*]] = arith.mulf %{{.*}}, %[[R]] : f32
// CHECK: %[[U:.*]] = arith.addf %[[MR]], %[[CT]] : f32
// CHECK: %[[F:.*]] = arith.cmpf oge, %[[U]]
// CHECK: %[[RN:.*]] = arith.select %[[F]], %{{.*}}, %[[U]]
// CHECK-NOT: memref.store %[[U]]
// CHECK: %[[AN:.*]] = arith.addf
// CHECK: memref.store %[[AN]], %[[O]][%[[T]], %[[M]]]
// CHECK: memref.store %[[RN]], %[[RB]][%[[K]]]
// CHECK: memref.store %[[AN]], %[[AB]][%[[K]]]
// CHECK: } {snn.kernel = "time_loop"}
// CHECK-NOT: snn.time_loop
func.func @lif_psc(%c: tensor<5x2x3xf32>) -> tensor<5x2x3xf32> {
  %u, %s = snn.neuron %c <lif> : tensor<5x2x3xf32>
  %a = snn.psc %s : tensor<5x2x3xf32>
  return %a : tensor<5x2x3xf32>
}

// -----

// CHECK-LABEL: func.func @lif_psc_gpu
// GPU form (#snn.target neuron_block = 1): one neuron per parallel iteration, time
// inside, the state (r, a) as f32 iteration arguments.
// CHECK: %[[C:.*]] = memref.collapse_shape %{{.*}} {{\[\[}}0], [1, 2]] : memref<5x2x3xf32> into memref<5x6xf32>
// CHECK: scf.parallel (%[[N:.*]]) = (%{{.*}}) to (%{{.*}}) step
// CHECK: scf.for %[[T:[a-z0-9]+]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[R:.*]] = %{{.*}}, %[[A:.*]] = %{{.*}}) -> (f32, f32)
// CHECK: %[[CT:.*]] = memref.load %[[C]][%[[T]], %[[N]]] : memref<5x6xf32>
// CHECK: %[[MR:.*]] = arith.mulf %{{.*}}, %[[R]] : f32
// CHECK: %[[U:.*]] = arith.addf %[[MR]], %[[CT]] : f32
// CHECK: arith.cmpf oge, %[[U]]
// CHECK-NOT: memref.store %[[U]]
// CHECK: memref.store %{{.*}}, %{{.*}}[%[[T]], %[[N]]]
// CHECK: scf.yield
// CHECK-NOT: snn.time_loop
module attributes {snn.target = #snn.target<neuron_block = 1>} {
  func.func @lif_psc_gpu(%c: tensor<5x2x3xf32>) -> tensor<5x2x3xf32> {
    %u, %s = snn.neuron %c <lif> : tensor<5x2x3xf32>
    %a = snn.psc %s : tensor<5x2x3xf32>
    return %a : tensor<5x2x3xf32>
  }
}

// -----

// CHECK-LABEL: func.func @reverse
// t = T - 1 - i
// CHECK: scf.for %[[I:[a-z0-9]+]] =
// CHECK: %[[T:.*]] = arith.subi %{{.*}}, %[[I]] : index
// CHECK: memref.load %{{.*}}[%[[T]], %{{.*}}]
func.func @reverse(%g: tensor<5x2x3xf32>) -> tensor<5x2x3xf32> {
  %e = snn.psc_error_scan %g : tensor<5x2x3xf32>
  return %e : tensor<5x2x3xf32>
}

// -----

// CHECK-LABEL: func.func @captured_input
// A current input is read at [n] every step.
// CHECK: memref.collapse_shape %{{.*}} {{\[\[}}0, 1]] : memref<2x3xf32> into memref<6xf32>
// CHECK: scf.for
// CHECK: memref.load %{{.*}}[%{{.*}}] : memref<6xf32>
func.func @captured_input(%x: tensor<2x3xf32>) -> tensor<5x2x3xf32> {
  %a = snn.encode_current %x : tensor<2x3xf32> -> tensor<5x2x3xf32>
  return %a : tensor<5x2x3xf32>
}
