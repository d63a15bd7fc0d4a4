//===- ONNXImporter.h - ONNX models -> the snn dialect ------------*- C++ -*-===//
//
// Reads a ModelProto (binary .onnx, or ONNX's textual syntax .onnxtxt),
// validates it with onnx's checker and shape inference (the ai.snn schemas
// registered), and builds `func.func @forward(params..., x, labels[, key])
// -> (loss, output spikes)` for snn-build-training-graph. Activations in the
// ONNX graph are [T*B, ...]; in the snn dialect they become [T, B, ...].
//
// Parameters are the weights of Conv (W) and Gemm (B, transB = 1): their
// initializers become `snn.init` attributes (else Kaiming at train time).
// metadata_props with keys `snn.<setting>` become `snn.<setting>` attributes
// of @forward (see README, "Model settings").
//
// Every error is one line naming the file and the line:column (text) or the
// node (name, index, op type) and goes to the diagnostic engine; the result
// is then null.
//
//===----------------------------------------------------------------------===//
#ifndef SNNC_COMPILER_IMPORT_ONNXIMPORTER_H
#define SNNC_COMPILER_IMPORT_ONNXIMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

#include <string>

namespace mlir::snn {

/// The largest model file snnc reads (protobuf's own limit is 2 GiB).
constexpr size_t kMaxModelBytes = size_t(2) << 30;

/// Imports `path` (.onnx or .onnxtxt); prints a one-line error on failure.
/// `serialized`, when given, receives the model as binary protobuf (the
/// trainer embeds it for --export).
OwningOpRef<ModuleOp> importONNXFile(llvm::StringRef path, MLIRContext &ctx,
                                     std::string *serialized = nullptr);

/// Imports model bytes; `text` selects the textual syntax. On failure
/// returns null and sets `error` to one line (without the file name).
OwningOpRef<ModuleOp> importONNX(llvm::StringRef bytes, bool text,
                                 MLIRContext &ctx, std::string &error,
                                 std::string *serialized = nullptr);

} // namespace mlir::snn

#endif
