// RUN: snn-opt %s --snn-prepare-gpu | FileCheck %s

// A lowered step in miniature: a scalar argument used by host arithmetic
// and a kernel, a runtime call, a 2-D parallel loop, a sum over neurons,
// an allocation and a scalar result.
func.func private @snnrt_matmul_nt(memref<?x?xf32>, memref<?x?xf32>, memref<?x?xf32>) attributes {llvm.emit_c_interface}

// CHECK-LABEL: func.func @step_cuda(
// CHECK-SAME: %[[W:.*]]: memref<4x8xf32>, %[[LR:.*]]: memref<1xf32>, %[[X:.*]]: memref<2x8xf32>,
// CHECK-SAME: %[[LOSS:.*]]: memref<1xf32>, %[[WS:.*]]: memref<?xi8>) {
func.func @step(%w: memref<4x8xf32>, %lr: f32, %x: memref<2x8xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  %half = arith.constant 0.5 : f32
  // Allocations become views of the workspace.
  // CHECK: %[[Y:.*]] = memref.view %[[WS]][%{{.*}}][] : memref<?xi8> to memref<2x4xf32>
  // CHECK-NOT: memref.alloc
  %y = memref.alloc() : memref<2x4xf32>
  // CHECK: call @snnrt_cuda_matmul_nt(
  %xc = memref.cast %x : memref<2x8xf32> to memref<?x?xf32>
  %wc = memref.cast %w : memref<4x8xf32> to memref<?x?xf32>
  %yc = memref.cast %y : memref<2x4xf32> to memref<?x?xf32>
  call @snnrt_matmul_nt(%xc, %wc, %yc) : (memref<?x?xf32>, memref<?x?xf32>, memref<?x?xf32>) -> ()
  // Host arithmetic on the scalar argument is recomputed in the kernel,
  // from the device buffer the argument became; the 2-D loop is collapsed.
  %scaled = arith.mulf %lr, %half : f32
  // CHECK: scf.parallel (%{{.*}}) = (%{{.*}}) to (%{{.*}}) step (%{{.*}}) {
  // CHECK: %[[L:.*]] = memref.load %[[LR]][%{{.*}}] : memref<1xf32>
  // CHECK: arith.mulf %[[L]], %{{.*}} : f32
  scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %c8) step (%c1, %c1) {
    %v = memref.load %w[%i, %j] : memref<4x8xf32>
    %d = arith.mulf %v, %scaled : f32
    memref.store %d, %w[%i, %j] : memref<4x8xf32>
    scf.reduce
  }
  // The sum over neurons: a parallel loop writing the terms, then one
  // thread adding them up in order and storing the loss.
  // CHECK: scf.parallel (%[[N:.*]]) = (%{{.*}}) to (%{{.*}}) step
  // CHECK: memref.store %{{.*}}, %[[TERMS:.*]][%{{.*}}] : memref<4xf32>
  // CHECK: scf.parallel
  // CHECK: scf.for {{.*}} iter_args
  // CHECK: memref.load %[[TERMS]]
  // CHECK: memref.store %{{.*}}, %[[LOSS]][%{{.*}}] : memref<1xf32>
  %loss = scf.for %n = %c0 to %c4 step %c1 iter_args(%acc = %zero) -> (f32) {
    %t0 = memref.load %y[%c0, %n] : memref<2x4xf32>
    %t1 = memref.load %y[%c1, %n] : memref<2x4xf32>
    %sq = arith.mulf %t0, %t1 : f32
    %next = arith.addf %acc, %sq : f32
    scf.yield %next : f32
  }
  // CHECK-NOT: memref.dealloc
  memref.dealloc %y : memref<2x4xf32>
  // CHECK: return{{$}}
  return %loss : f32
}

// A host loop with an index result (a one-neuron layer's loop nest, folded
// to the top level) runs as a one-thread kernel; its result goes through an
// 8-byte slot.
// CHECK-LABEL: func.func @index_result_cuda(
// CHECK: memref.view %{{.*}} : memref<?xi8> to memref<1xindex>
func.func @index_result(%a: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %theta = arith.constant 1.0 : f32
  %last = scf.for %t = %c0 to %c8 step %c1 iter_args(%acc = %c0) -> (index) {
    %u = memref.load %a[%t] : memref<8xf32>
    %fires = arith.cmpf oge, %u, %theta : f32
    %next = arith.addi %t, %c1 : index
    %r = arith.select %fires, %next, %acc : index
    scf.yield %r : index
  }
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    %after = arith.cmpi uge, %i, %last : index
    %v = arith.select %after, %theta, %theta : f32
    memref.store %v, %a[%i] : memref<8xf32>
    scf.reduce
  }
  return
}

// A sum loop whose iterations depend on each other through memory (it
// reads the buffer it writes) stays sequential: one thread runs it.
// CHECK-LABEL: func.func @dependent_sum_cuda(
// CHECK-NOT: memref<7xf32>
// CHECK: scf.parallel (%{{.*}}) = (%[[Z:.*]]) to (%[[O:.*]]) step
// CHECK-NEXT: arith.constant
// CHECK: scf.for
// CHECK: memref.load %{{.*}}[%{{.*}}] : memref<8xf32>
// CHECK: memref.store
func.func @dependent_sum(%a: memref<8xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  %s = scf.for %i = %c1 to %c8 step %c1 iter_args(%acc = %zero) -> (f32) {
    %prev = arith.subi %i, %c1 : index
    %p = memref.load %a[%prev] : memref<8xf32>
    %v = memref.load %a[%i] : memref<8xf32>
    %w = arith.addf %p, %v : f32
    memref.store %w, %a[%i] : memref<8xf32>
    %next = arith.addf %acc, %w : f32
    scf.yield %next : f32
  }
  return %s : f32
}

// The workspace sizes, after the functions. @step: three 256-byte aligned
// slots (y, the loss terms, the loss itself); @index_result: one.
// CHECK: llvm.mlir.global external constant @snnc_cuda_workspace_step_cuda(768 : i64)
// CHECK: llvm.mlir.global external constant @snnc_cuda_workspace_index_result_cuda(256 : i64)
// CHECK: llvm.mlir.global external constant @snnc_cuda_workspace_dependent_sum_cuda(256 : i64)
