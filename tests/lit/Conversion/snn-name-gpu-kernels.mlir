// RUN: snn-opt %s --pass-pipeline='builtin.module(snn-prepare-gpu, func.func(scf-parallel-loop-tiling{parallel-loop-tile-sizes=256 no-min-max-bounds=true}, gpu-map-parallel-loops, convert-parallel-loops-to-gpu), gpu-kernel-outlining, snn-name-gpu-kernels)' | FileCheck %s

// A tagged loop's kernel is named after the tag, an untagged one keeps the
// outlining's name; launches follow.
// CHECK-LABEL: func.func @step_cuda
// CHECK: gpu.launch_func @step_cuda_kernel::@step_cuda_na_backward blocks
// CHECK: gpu.launch_func @step_cuda_kernel_0::@step_cuda_kernel blocks
// CHECK: gpu.module @step_cuda_kernel
// CHECK: gpu.func @step_cuda_na_backward(
// CHECK: gpu.module @step_cuda_kernel_0
// CHECK: gpu.func @step_cuda_kernel(
func.func @step(%a: memref<1000xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c1000 = arith.constant 1000 : index
  %two = arith.constant 2.0 : f32
  scf.parallel (%i) = (%c0) to (%c1000) step (%c1) {
    %v = memref.load %a[%i] : memref<1000xf32>
    %d = arith.mulf %v, %two : f32
    memref.store %d, %a[%i] : memref<1000xf32>
    scf.reduce
  } {snn.kernel = "na_backward"}
  scf.parallel (%i) = (%c0) to (%c1000) step (%c1) {
    %v = memref.load %a[%i] : memref<1000xf32>
    %d = arith.addf %v, %two : f32
    memref.store %d, %a[%i] : memref<1000xf32>
    scf.reduce
  }
  return
}
