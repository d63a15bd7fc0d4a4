//===- ImportFuzzer.cpp - libFuzzer target for the ONNX importer -----------===//
//
// The first byte chooses the syntax (odd: textual ONNX, even: binary
// protobuf); the rest is the model. Any input must give a module or a
// one-line error, never a crash.
//
//===----------------------------------------------------------------------===//
#include "compiler/Import/ONNXImporter.h"
#include "dialects/SNN/IR/SNNDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Diagnostics.h"

#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static mlir::MLIRContext *ctx = [] {
    auto *c = new mlir::MLIRContext();
    c->loadDialect<mlir::snn::SNNDialect, mlir::func::FuncDialect,
                   mlir::tensor::TensorDialect>();
    return c;
  }();
  if (size == 0)
    return 0;
  mlir::ScopedDiagnosticHandler quiet(ctx, [](mlir::Diagnostic &) {
    return mlir::success();
  });
  std::string error;
  auto module = mlir::snn::importONNX(
      llvm::StringRef(reinterpret_cast<const char *>(data) + 1, size - 1),
      data[0] & 1, *ctx, error);
  if (!module && (error.empty() || error.find('\n') != std::string::npos))
    std::abort(); // every failure must be one line
  return 0;
}
