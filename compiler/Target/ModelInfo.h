//===- ModelInfo.h - what the trainer needs to know about a model -*- C++ -*-===//
//
// The compiled object carries a text description of its train_step /
// eval_step arguments (a global `snnc_model_info`), so that one generic
// trainer binary can allocate buffers and parse settings. One entry a line:
//   snnc-model 2
//   fingerprint <16 hex digits>       (the network, without its settings)
//   param <name> <d0> <d1> ...        (f32, in argument order)
//   input <name> f32|i32 <d0> ...      (after step and lr in train_step)
//   input <name> i64                    (a scalar: the dropout key)
//   output spikes <T> <B> <N>
//   setting <key> <value>             (the forward function's snn.* attrs)
// Names and values are tokens in runtime/core/Settings.h's escapeToken
// encoding (any string round-trips: spaces, newlines, '%').
//
//===----------------------------------------------------------------------===//
#ifndef SNNC_COMPILER_TARGET_MODELINFO_H
#define SNNC_COMPILER_TARGET_MODELINFO_H

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <string>

namespace mlir::snn {

/// Describes `forward` (before snn-build-training-graph removes it), or
/// fails with a diagnostic.
FailureOr<std::string> describeModel(func::FuncOp forward);

} // namespace mlir::snn

#endif
