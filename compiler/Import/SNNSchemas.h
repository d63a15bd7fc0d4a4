//===- SNNSchemas.h - the ai.snn ONNX operator domain -------------*- C++ -*-===//
//
// ai.snn (version 1): what ONNX lacks for spiking networks. Activations in
// an ONNX model are [T*B, ...] (time-major, n = t*B + b) so that the standard
// ops (Conv, Gemm, AveragePool, Flatten, Dropout) act per step and sample.
//
//   EncodeCurrent(x[B,...]) -> a[T*B,...]   attrs T (required), tau_s
//   EncodeEvents(s[T*B,...]) -> a           attrs T (optional once known), tau_s
//   LIF(c) -> (potential, spikes)           attrs tau_m, threshold
//   PSC(s) -> a                             attr tau_s
//   SumPool(a) -> p                         attrs kernel_shape, scale
//   TargetSpikes(labels[B] int32) -> d[T*B, num_classes]  attrs T, num_classes
//   VanRossumLoss(a, d) -> loss             attr tau_s
//   SpikeCountLoss(a, d) -> loss
//
//===----------------------------------------------------------------------===//
#ifndef SNNC_COMPILER_IMPORT_SNNSCHEMAS_H
#define SNNC_COMPILER_IMPORT_SNNSCHEMAS_H

namespace snnc::onnx_schemas {
/// Registers the ai.snn domain and its OpSchemas once (thread-safe).
void registerSNNDomain();
} // namespace snnc::onnx_schemas

#endif
