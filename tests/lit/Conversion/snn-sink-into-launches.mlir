// RUN: snn-opt %s --gpu-launch-sink-index-computations > %t.upstream
// RUN: snn-opt %s --snn-sink-into-launches > %t.ours
// RUN: diff %t.upstream %t.ours
// RUN: FileCheck %s < %t.ours

// The same result as upstream's pass (diffed above): constants shared by two
// launches, a memref.dim and a cmpi/select chain on them are cloned into
// each launch; a function argument and an addf stay outside.
// CHECK-LABEL: func.func @step
// CHECK: %[[S:.*]] = arith.addf
// CHECK: gpu.launch
// CHECK-DAG: arith.constant 2.000000e+00 : f32
// CHECK-DAG: memref.dim
// CHECK-DAG: arith.cmpi
// CHECK-DAG: arith.select
// CHECK: memref.store %[[S]]
// CHECK: gpu.launch
// CHECK: arith.constant 2.000000e+00 : f32
// CHECK: gpu.terminator
func.func @step(%m: memref<?xf32>, %x: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %two = arith.constant 2.0 : f32
  %n = memref.dim %m, %c0 : memref<?xf32>
  %big = arith.cmpi sgt, %n, %c1 : index
  %last = arith.select %big, %n, %c1 : index
  %s = arith.addf %x, %two : f32
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    %v = memref.load %m[%last] : memref<?xf32>
    %w = arith.mulf %v, %two : f32
    memref.store %w, %m[%c0] : memref<?xf32>
    memref.store %s, %m[%c1] : memref<?xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    memref.store %two, %m[%c0] : memref<?xf32>
    gpu.terminator
  }
  return
}
