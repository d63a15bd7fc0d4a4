//===- NIRWriter.h - an snnc model as a NIR 1.0 graph --------------*- C++ -*-===//
//
// Writes the ONNX form of a model (ai.snn domain; what snnc imports and the
// trainer embeds, with its trained weights) as a NIR 1.0.x graph in the
// layout of NIR's own nir.write, readable by nir.read and by snnc's NIR
// reader. With dt = 1 (one step per time unit) and r = tau_mem (so that
// tau_mem / r gives the step back):
//
//   EncodeCurrent / PSC <tau_s> then Gemm|Conv [+ FilteredBias] then LIF
//     -> Linear|Affine|Conv2d, CubaLIF (tau_syn = tau_s, tau_mem = tau_m,
//        r = tau_m, w_in = 1, v_threshold = threshold, v_leak = v_reset = 0)
//        or, with tau_s = 1, LIF (tau = tau_m, r = tau_m)
//   IF -> IF (r = 1); SumPool -> SumPool2d (+ Scale); AveragePool ->
//   AvgPool2d; Flatten -> Flatten
//
// The target and the loss have no NIR form and are left out. What NIR
// cannot hold is refused with one line naming the node: reset by
// subtraction, a constant (unfiltered) bias behind a synapse.
//
//===----------------------------------------------------------------------===//
#ifndef SNNRT_NIR_NIRWRITER_H
#define SNNRT_NIR_NIRWRITER_H

#include <string>

namespace onnx {
class ModelProto;
}

namespace snnrt {

/// The NIR file's bytes (HDF5) for `model`; throws std::runtime_error with
/// one line naming the node when it has no NIR form.
std::string writeNIR(const onnx::ModelProto &model);

} // namespace snnrt

#endif
