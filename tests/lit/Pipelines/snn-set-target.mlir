// RUN: snn-opt %s --snn-set-target="neuron-block=1 chain-group=4 conv-grad-input=gemm" | FileCheck %s
// RUN: not snn-opt %s --snn-set-target="chain-group=0" 2>&1 | FileCheck %s --check-prefix=BAD
// CHECK: module attributes {snn.target = #snn.target<neuron_block = 1, chain_group = 4, conv_grad_input = gemm>}
// BAD: error: #snn.target: chain_group must be from 1 to 32, got 0
module {
}
