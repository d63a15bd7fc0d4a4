// RUN: snn-opt %s --snn-neighborhood-pairs | FileCheck %s

// CHECK-LABEL: func.func @pairs
// CHECK-NOT: snn.na_backward
// The tridiagonal normal equations: diag, off, rhs scratch.
// CHECK: memref.alloc() : memref<5x6xf32>
// CHECK: memref.alloc() : memref<5x6xf32>
// CHECK: memref.alloc() : memref<5x6xf32>
// CHECK: scf.parallel
// Single flips (T of them), then double flips (T - 1), each with the chain effect.
// CHECK: scf.for
// CHECK: scf.while
// CHECK: math.absf
// CHECK: %[[TM1:.*]] = arith.constant 4 : index
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[TM1]]
// CHECK: scf.while
// CHECK: math.sqrt
// Thomas algorithm: forward elimination and back substitution.
// CHECK: scf.for
// CHECK: arith.divf
// CHECK: scf.for
// CHECK: bufferization.to_tensor
func.func @pairs(%e: tensor<5x2x3xf32>, %c: tensor<5x2x3xf32>, %u: tensor<5x2x3xf32>, %s: tensor<5x2x3xf32>) -> tensor<5x2x3xf32> {
  %d = snn.na_backward %e, %c, %u, %s {selection = "pairs"} : tensor<5x2x3xf32>
  return %d : tensor<5x2x3xf32>
}
