// RUN: snn-opt %s --split-input-file --snn-neighborhood-sns | FileCheck %s

// The eq. (7) scan is fused into the per-neuron loop nest.
// CHECK-LABEL: func.func @fused_scan
// CHECK-NOT: snn.psc_error_scan
// CHECK-NOT: snn.na_backward
// CHECK: %[[OUT:.*]] = memref.alloc() : memref<5x2x3xf32>
// CHECK: memref.alloc() : memref<5x6xf32>
// CHECK: memref.alloc() : memref<6x6xf32>
// One neuron per parallel iteration (N = B * features = 6).
// CHECK: scf.parallel (%[[N:.*]]) = (%{{.*}}) to (%{{.*}}) step
// The reverse scans e and E.
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (f32, f32)
// The perturbation times p, and the chain effect until the rejoin.
// CHECK: scf.for
// CHECK: scf.while
// CHECK: arith.cmpf oge
// CHECK: scf.yield
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
// WINDOW: scf.for %[[P:[a-z0-9]+]] =
// WINDOW: %[[T0:.*]] = arith.addi %[[P]], %{{.*}} : index
// WINDOW: %[[W:.*]] = arith.constant 2 : index
// WINDOW: %[[SUM:.*]] = arith.addi %[[T0]], %[[W]] : index
// WINDOW: %[[STOP:.*]] = arith.minui %{{.*}}, %[[SUM]] : index
// WINDOW: scf.while
// WINDOW: arith.cmpi ult, %{{.*}}, %[[STOP]] : index
func.func @windowed(%e: tensor<5x2x3xf32>) -> tensor<5x2x3xf32> {
  %d = snn.na_backward %e, %e, %e, %e {selection = "windowed"} : tensor<5x2x3xf32>
  return %d : tensor<5x2x3xf32>
}
