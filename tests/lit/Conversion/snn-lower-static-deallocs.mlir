// RUN: snn-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(snn-lower-static-deallocs))" | FileCheck %s

// Owned (true), distinct allocations, nothing retained: one memref.dealloc
// each.
// CHECK-LABEL: func.func @owned
// CHECK-NOT: bufferization.dealloc
// CHECK: memref.dealloc %[[A:.*]] : memref<4xf32>
// CHECK: memref.dealloc %{{.*}} : memref<2x3xf32>
func.func @owned() {
  %true = arith.constant true
  %a = memref.alloc() : memref<4xf32>
  %b = memref.alloc() : memref<2x3xf32>
  bufferization.dealloc (%a, %b : memref<4xf32>, memref<2x3xf32>) if (%true, %true)
  return
}

// -----

// A condition only known at run time: left for the upstream passes.
// CHECK-LABEL: func.func @dynamic
// CHECK: bufferization.dealloc
// CHECK-NOT: memref.dealloc
func.func @dynamic(%c: i1) {
  %true = arith.constant true
  %a = memref.alloc() : memref<4xf32>
  %b = memref.alloc() : memref<4xf32>
  bufferization.dealloc (%a, %b : memref<4xf32>, memref<4xf32>) if (%c, %true)
  return
}

// -----

// A retained value may alias a freed one: left as it is.
// CHECK-LABEL: func.func @retained
// CHECK: bufferization.dealloc
func.func @retained(%r: memref<4xf32>) -> i1 {
  %true = arith.constant true
  %a = memref.alloc() : memref<4xf32>
  %k = bufferization.dealloc (%a : memref<4xf32>) if (%true) retain (%r : memref<4xf32>)
  return %k : i1
}

// -----

// A memref that is not an allocation of this function (an argument, a
// view): its origin is unknown, left as it is.
// CHECK-LABEL: func.func @argument
// CHECK: bufferization.dealloc
func.func @argument(%m: memref<4xf32>) {
  %true = arith.constant true
  bufferization.dealloc (%m : memref<4xf32>) if (%true)
  return
}
