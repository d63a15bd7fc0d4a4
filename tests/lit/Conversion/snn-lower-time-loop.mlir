// RUN: snn-opt %s --snn-fuse-time-loop --snn-lower-time-loop | FileCheck %s

// CHECK-LABEL: func.func @lif_psc
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: %[[C5:.*]] = arith.constant 5 : index
// CHECK: scf.for %[[T:[a-z0-9]+]] = %[[C0]] to %[[C5]] step %{{.*}} iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (tensor<5x2x3xf32>, tensor<5x2x3xf32>, tensor<5x2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>)
// CHECK: tensor.extract_slice %{{.*}}[%[[T]], 0, 0] [1, 2, 3] [1, 1, 1] : tensor<5x2x3xf32> to tensor<2x3xf32>
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[%[[T]], 0, 0] [1, 2, 3] [1, 1, 1]
// CHECK: scf.yield
// CHECK-NOT: snn.time_loop
func.func @lif_psc(%c: tensor<5x2x3xf32>) -> tensor<5x2x3xf32> {
  %u, %s = snn.lif %c : tensor<5x2x3xf32>
  %a = snn.psc %s : tensor<5x2x3xf32>
  return %a : tensor<5x2x3xf32>
}

// CHECK-LABEL: func.func @reverse
// t = T - 1 - i
// CHECK: scf.for %[[I:[a-z0-9]+]] =
// CHECK: %[[T:.*]] = arith.subi %{{.*}}, %[[I]] : index
// CHECK: tensor.extract_slice %{{.*}}[%[[T]], 0, 0]
func.func @reverse(%g: tensor<5x2x3xf32>) -> tensor<5x2x3xf32> {
  %e = snn.psc_error_scan %g : tensor<5x2x3xf32>
  return %e : tensor<5x2x3xf32>
}
