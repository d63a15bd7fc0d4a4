//===- SNNBase.td - the snn dialect -------------------------*- tablegen -*-===//
#ifndef SNN_BASE_TD
#define SNN_BASE_TD

include "mlir/IR/OpBase.td"

def SNN_Dialect : Dialect {
  let name = "snn";
  let cppNamespace = "::mlir::snn";
  let summary = "Spiking neural networks and their Neighborhood Aggregation training";
  let description = [{
    The snn dialect represents discrete-time spiking networks (LIF and IF
    neurons, `#snn.neuron`) with a first-order post-synaptic-current (PSC)
    kernel, and the backward passes of their training methods:
    Neighborhood Aggregation (NA; Yang, Zhang & Li, ICML 2021) and STBP.
    Activations are ranked f32 tensors with an explicit leading time axis,
    `[T, batch, features...]`. The exact semantics are NA_SPEC.md.
  }];
  let useDefaultAttributePrinterParser = 1;
  // `snn.target` must be a #snn.target (the tuning knobs in one place).
  let hasOperationAttrVerify = 1;
  let dependentDialects = ["::mlir::tensor::TensorDialect"];
}

class SNN_Op<string mnemonic, list<Trait> traits = []>
    : Op<SNN_Dialect, mnemonic, traits>;

// Activation tensors: f32, ranked, with a leading time axis.
def SNN_F32Tensor : RankedTensorOf<[F32]>;
def SNN_TimeTensor : RankedTensorOf<[F32]>;

#endif // SNN_BASE_TD
