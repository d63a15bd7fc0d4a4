// RUN: snn-opt %s --snn-share-gpu-kernels | FileCheck %s

// Kernel modules that differ only in their names become the first of them;
// launches follow. A kernel with another body stays.
// CHECK-LABEL: func.func @step
// CHECK: gpu.launch_func @k_1::@f_1 blocks
// CHECK: gpu.launch_func @k_1::@f_1 blocks
// CHECK: gpu.launch_func @k_3::@f_3 blocks
// CHECK: gpu.module @k_1
// CHECK-NOT: gpu.module @k_2
// CHECK: gpu.module @k_3
// CHECK: arith.constant 2.0
module attributes {gpu.container_module} {
  func.func @step(%a: memref<4xf32>) {
    %c1 = arith.constant 1 : index
    gpu.launch_func @k_1::@f_1 blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<4xf32>)
    gpu.launch_func @k_2::@f_2 blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<4xf32>)
    gpu.launch_func @k_3::@f_3 blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<4xf32>)
    return
  }
  gpu.module @k_1 {
    gpu.func @f_1(%m: memref<4xf32>) kernel {
      %c0 = arith.constant 0 : index
      %v = arith.constant 1.0 : f32
      memref.store %v, %m[%c0] : memref<4xf32>
      gpu.return
    }
  }
  gpu.module @k_2 {
    gpu.func @f_2(%m: memref<4xf32>) kernel {
      %c0 = arith.constant 0 : index
      %v = arith.constant 1.0 : f32
      memref.store %v, %m[%c0] : memref<4xf32>
      gpu.return
    }
  }
  gpu.module @k_3 {
    gpu.func @f_3(%m: memref<4xf32>) kernel {
      %c0 = arith.constant 0 : index
      %v = arith.constant 2.0 : f32
      memref.store %v, %m[%c0] : memref<4xf32>
      gpu.return
    }
  }
}
