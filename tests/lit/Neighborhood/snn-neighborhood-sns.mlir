// RUN: snn-opt %s --split-input-file --snn-neighborhood-sns | FileCheck %s

// The eq. (7) scan is fused into the loop nest.
// CHECK-LABEL: func.func @fused_scan
// CHECK-NOT: snn.psc_error_scan
// CHECK-NOT: snn.na_backward
// CHECK: %[[OUT:.*]] = memref.alloc() : memref<5x2x3xf32>
// No whole-layer scratch: the scans and the chain state are the block's own.
// CHECK-NOT: memref.alloc()
// Blocks of neurons in parallel; each loop over a block's neurons is innermost.
// CHECK: scf.parallel (%{{.*}}) = (%{{.*}}) to (%{{.*}}) step
// CHECK: %[[N1:.*]] = arith.minui
// The block's e and E scans and its chain state (r, diff, dL, active), on
// the stack, min(256, N) = N = B * features = 6 wide.
// CHECK: memref.alloca() : memref<5x6xf32>
// CHECK: memref.alloca() : memref<6x6xf32>
// CHECK-COUNT-4: memref.alloca() : memref<6xf32>
// The reverse scans e and E.
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[N1]] step
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[N1]] step
// The perturbation times p: the flip, then the chain effect step by step.
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[N1]] step
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[N1]] step
// CHECK: arith.cmpf oge
// Eq. (17): clip(1 / d^3, -b, b) with b = 4.
// CHECK: arith.divf
// CHECK: arith.maximumf %{{.*}}, %{{.*}}
// CHECK: arith.minimumf %{{.*}}, %{{.*}}
// CHECK: bufferization.to_tensor %[[OUT]] restrict writable
func.func @fused_scan(%g: tensor<5x2x3xf32>, %c: tensor<5x2x3xf32>, %u: tensor<5x2x3xf32>, %s: tensor<5x2x3xf32>) -> tensor<5x2x3xf32> {
  %e = snn.psc_error_scan %g : tensor<5x2x3xf32>
  %d = snn.na_backward %e, %c, %u, %s {clip = 4.0 : f32} : tensor<5x2x3xf32>
  return %d : tensor<5x2x3xf32>
}

// -----

// A scan with another user stays; the kernel reads its result.
// CHECK-LABEL: func.func @shared_scan
// CHECK: %[[E:.*]] = snn.psc_error_scan
// CHECK: bufferization.to_buffer %[[E]]
// CHECK: scf.parallel
// CHECK: return
func.func @shared_scan(%g: tensor<5x2x3xf32>, %c: tensor<5x2x3xf32>, %u: tensor<5x2x3xf32>, %s: tensor<5x2x3xf32>) -> (tensor<5x2x3xf32>, tensor<5x2x3xf32>) {
  %e = snn.psc_error_scan %g : tensor<5x2x3xf32>
  %d = snn.na_backward %e, %c, %u, %s : tensor<5x2x3xf32>
  return %d, %e : tensor<5x2x3xf32>, tensor<5x2x3xf32>
}

// -----

// Other strategies are left to their own passes.
// CHECK-LABEL: func.func @other_strategy
// CHECK: snn.na_backward {{.*}}selection = "windowed"
func.func @other_strategy(%e: tensor<5x2x3xf32>) -> tensor<5x2x3xf32> {
  %d = snn.na_backward %e, %e, %e, %e {selection = "windowed"} : tensor<5x2x3xf32>
  return %d : tensor<5x2x3xf32>
}

// -----

// Windowed SNS: the chain effect stops at min(T, p + 1 + w).
// RUN: snn-opt %s --split-input-file --snn-neighborhood-sns="window=2 selection=windowed" | FileCheck %s --check-prefix=WINDOW
// WINDOW-LABEL: func.func @windowed
// WINDOW: %[[W:.*]] = arith.constant 2 : index
// WINDOW: %[[SUM:.*]] = arith.addi %{{.*}}, %[[W]] : index
// WINDOW: %[[STOP:.*]] = arith.minui %{{.*}}, %[[SUM]] : index
// WINDOW: scf.for %{{.*}} = %{{.*}} to %[[STOP]] step
func.func @windowed(%e: tensor<5x2x3xf32>) -> tensor<5x2x3xf32> {
  %d = snn.na_backward %e, %e, %e, %e {selection = "windowed"} : tensor<5x2x3xf32>
  return %d : tensor<5x2x3xf32>
}

// -----

// GPU form with the chains in groups (#snn.target chain_group = 2, T = 3): per
// neuron, steps 0 and 1 unrolled (flip 0 at t = 0; chain 0 steps and flip 1
// at t = 1), then one sweep from t = 2 carrying the two chain states
// (r, diff, dL, open) while t < T and a chain is open; then flip 2 at
// t = 2, which ends at T with no sweep.
// CHECK-LABEL: func.func @grouped
// CHECK: scf.parallel (%[[N:.*]]) = (%c0) to (%c6) step (%c1) {
// CHECK-NOT: scf.while
// CHECK: %{{.*}}:9 = scf.while (%[[T:.*]] = %c2{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %[[O0:.*]] = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %[[O1:.*]] = %{{.*}}) : (index, f32, f32, f32, i1, f32, f32, f32, i1)
// CHECK: %[[BUSY:.*]] = arith.ori %[[O0]], %[[O1]] : i1
// CHECK: %[[IN:.*]] = arith.cmpi ult, %[[T]], %c3
// CHECK: %[[GO:.*]] = arith.andi %[[IN]], %[[BUSY]] : i1
// CHECK: scf.condition(%[[GO]])
// CHECK: memref.store %{{.*}}, %{{.*}}[%c0{{.*}}, %[[N]]] : memref<3x6xf32>
// CHECK: memref.store %{{.*}}, %{{.*}}[%c1{{.*}}, %[[N]]] : memref<3x6xf32>
// CHECK-NOT: scf.while
// CHECK: memref.store %{{.*}}, %{{.*}}[%c2{{.*}}, %[[N]]] : memref<3x6xf32>
module attributes {snn.target = #snn.target<neuron_block = 1, max_register_steps = 0, chain_group = 2>} {
  func.func @grouped(%e: tensor<3x2x3xf32>, %c: tensor<3x2x3xf32>, %u: tensor<3x2x3xf32>, %s: tensor<3x2x3xf32>) -> tensor<3x2x3xf32> {
    %d = snn.na_backward %e, %c, %u, %s : tensor<3x2x3xf32>
    return %d : tensor<3x2x3xf32>
  }
}
