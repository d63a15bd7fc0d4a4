// RUN: snn-opt %s --snn-outline-loop-nests | FileCheck %s
// RUN: snn-opt %s --snn-outline-loop-nests=min-nests=4 | FileCheck %s --check-prefix=FEW

// Every top-level loop nest becomes a call of a private noinline function
// that takes what the nest uses (constants are cloned in) and returns its
// results; identical nests, in one step or in two, share one function.
// CHECK-LABEL: func.func @step(
// CHECK-SAME: %[[A:.*]]: memref<8xf32>, %[[B:.*]]: memref<8xf32>, %[[X:.*]]: f32)
// CHECK-NOT: scf.for
// CHECK: call @step_nest(%[[X]], %[[A]]) {no_inline} : (f32, memref<8xf32>) -> ()
// CHECK-NEXT: call @step_nest(%[[X]], %[[B]]) {no_inline} : (f32, memref<8xf32>) -> ()
// CHECK-NEXT: %[[S:.*]] = call @step_nest_0(%[[A]]) {no_inline} : (memref<8xf32>) -> f32
// CHECK-NEXT: return %[[S]]
// CHECK-LABEL: func.func @other(
// CHECK: call @step_nest(
// CHECK-LABEL: func.func private @step_nest(
// CHECK-SAME: %[[V:.*]]: f32, %[[M:.*]]: memref<8xf32>) attributes {no_inline}
// CHECK-DAG: arith.constant 0 : index
// CHECK-DAG: arith.constant 8 : index
// CHECK: scf.for
// CHECK: memref.store %[[V]], %[[M]]
// CHECK: return
// CHECK-LABEL: func.func private @step_nest_0(
// CHECK: %[[R:.*]] = scf.for
// CHECK: return %[[R]] : f32
// CHECK-NOT: func.func private

// FEW-LABEL: func.func @step(
// FEW-NOT: call
// FEW: return
func.func @step(%a: memref<8xf32>, %b: memref<8xf32>, %x: f32) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  scf.for %i = %c0 to %c8 step %c1 {
    memref.store %x, %a[%i] : memref<8xf32>
  }
  scf.for %i = %c0 to %c8 step %c1 {
    memref.store %x, %b[%i] : memref<8xf32>
  }
  %s = scf.for %i = %c0 to %c8 step %c1 iter_args(%acc = %zero) -> f32 {
    %v = memref.load %a[%i] : memref<8xf32>
    %n = arith.addf %acc, %v : f32
    scf.yield %n : f32
  }
  return %s : f32
}

func.func @other(%a: memref<8xf32>, %x: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  scf.for %i = %c0 to %c8 step %c1 {
    memref.store %x, %a[%i] : memref<8xf32>
  }
  return
}
