// RUN: snn-opt %s --snn-coarsen-parallel-loops=min-iterations=16 | FileCheck %s
// RUN: snn-opt %s --snn-coarsen-parallel-loops=min-iterations=0 | FileCheck %s --check-prefix=ONE
// RUN: snn-opt %s --snn-coarsen-parallel-loops | FileCheck %s --check-prefix=ROWS

// CHECK-LABEL: func.func @pool
// 5 * 4 = 20 >= 16 parallel iterations: (t, b) stay parallel, (c, y, x)
// become sequential loops around the original body; attributes are kept.
// CHECK: scf.parallel (%[[T:.*]], %[[B:.*]]) = (%c0, %c0) to (%c5, %c4) step (%c1, %c1) {
// CHECK-NEXT: scf.for %[[C:.*]] = %c0 to %c3 step %c1 {
// CHECK-NEXT: scf.for %[[Y:.*]] = %c0 to %c4 step %c1 {
// CHECK-NEXT: scf.for %[[X:.*]] = %c0 to %c4 step %c1 {
// CHECK-NEXT: %[[Y2:.*]] = arith.muli %[[Y]], %c2
// CHECK-NEXT: %[[X2:.*]] = arith.muli %[[X]], %c2
// CHECK-NEXT: %[[V:.*]] = memref.load %arg0[%[[T]], %[[B]], %[[C]], %[[Y2]], %[[X2]]]
// CHECK-NEXT: memref.store %[[V]], %arg1[%[[T]], %[[B]], %[[C]], %[[Y]], %[[X]]]
// CHECK: } {snn.kernel = "pool"}
// Whatever the threshold, one dimension stays parallel.
// ONE-LABEL: func.func @pool
// ONE: scf.parallel (%{{.*}}) = (%c0) to (%c5) step (%c1) {
// ONE-COUNT-4: scf.for
func.func @pool(%in: memref<5x4x3x8x8xf32>, %out: memref<5x4x3x4x4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %c5 = arith.constant 5 : index
  scf.parallel (%t, %b, %c, %y, %x) = (%c0, %c0, %c0, %c0, %c0) to (%c5, %c4, %c3, %c4, %c4) step (%c1, %c1, %c1, %c1, %c1) {
    %y2 = arith.muli %y, %c2 : index
    %x2 = arith.muli %x, %c2 : index
    %v = memref.load %in[%t, %b, %c, %y2, %x2] : memref<5x4x3x8x8xf32>
    memref.store %v, %out[%t, %b, %c, %y, %x] : memref<5x4x3x4x4xf32>
  } {snn.kernel = "pool"}
  return
}

// CHECK-LABEL: func.func @unchanged
// Every dimension is needed (3 * 4 = 12 < 16), one-dimensional loops, and
// loops with reductions stay as they are.
// CHECK: scf.parallel (%{{.*}}, %{{.*}}) = (%c0, %c0) to (%c3, %c4)
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%c100)
// CHECK: scf.parallel (%{{.*}}, %{{.*}}) = (%c0, %c0) to (%c100, %c4) step (%c1, %c1) init
// CHECK-NOT: scf.for
func.func @unchanged(%m: memref<3x4xf32>, %v: memref<100xf32>, %w: memref<100x4xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %c100 = arith.constant 100 : index
  %zero = arith.constant 0.0 : f32
  scf.parallel (%i, %j) = (%c0, %c0) to (%c3, %c4) step (%c1, %c1) {
    memref.store %zero, %m[%i, %j] : memref<3x4xf32>
  }
  scf.parallel (%i) = (%c0) to (%c100) step (%c1) {
    memref.store %zero, %v[%i] : memref<100xf32>
  }
  %sum = scf.parallel (%i, %j) = (%c0, %c0) to (%c100, %c4) step (%c1, %c1) init (%zero) -> f32 {
    %x = memref.load %w[%i, %j] : memref<100x4xf32>
    scf.reduce(%x : f32) {
    ^bb0(%a: f32, %b: f32):
      %s = arith.addf %a, %b : f32
      scf.reduce.return %s : f32
    }
  }
  return %sum : f32
}

// With the defaults (min-iterations 1024, min-rows 32, min-inner 16) no
// prefix of [128, 400] reaches 1024, but its 128 rows are enough for the
// cores and 400 is long enough to vectorize: the last dimension becomes a
// counted loop. [128, 10] (a short row) and [16, 400] (few rows) stay.
// CHECK-LABEL: func.func @rows
// ROWS-LABEL: func.func @rows
// ROWS: scf.parallel (%[[B:.*]]) = (%c0) to (%c128) step (%c1) {
// ROWS-NEXT: scf.for %[[N:.*]] = %c0 to %c400 step %c1 {
// ROWS-NEXT: memref.load %arg0[%[[B]], %[[N]]]
// ROWS: scf.parallel (%{{.*}}, %{{.*}}) = (%c0, %c0) to (%c128, %c10)
// ROWS: scf.parallel (%{{.*}}, %{{.*}}) = (%c0, %c0) to (%c16, %c400)
// ROWS-NOT: scf.for
func.func @rows(%a: memref<128x400xf32>, %b: memref<128x10xf32>, %c: memref<16x400xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c10 = arith.constant 10 : index
  %c16 = arith.constant 16 : index
  %c128 = arith.constant 128 : index
  %c400 = arith.constant 400 : index
  %two = arith.constant 2.0 : f32
  scf.parallel (%i, %j) = (%c0, %c0) to (%c128, %c400) step (%c1, %c1) {
    %x = memref.load %a[%i, %j] : memref<128x400xf32>
    %y = arith.mulf %x, %two : f32
    memref.store %y, %a[%i, %j] : memref<128x400xf32>
  }
  scf.parallel (%i, %j) = (%c0, %c0) to (%c128, %c10) step (%c1, %c1) {
    memref.store %two, %b[%i, %j] : memref<128x10xf32>
  }
  scf.parallel (%i, %j) = (%c0, %c0) to (%c16, %c400) step (%c1, %c1) {
    memref.store %two, %c[%i, %j] : memref<16x400xf32>
  }
  return
}
