//===- JitHarness.h - compile snn IR and call it in-process -------*- C++ -*-===//
//
// For the numeric tests: runs snnc's CPU pipeline on a module, JIT-compiles
// the LLVM dialect with MLIR's ExecutionEngine (the runtime's GEMM and
// convolution entry points registered), and calls a function through the
// packed interface with the destination-passing ABI of the loops stage:
// the inputs in order, then one buffer per tensor result; scalar results
// (the loss) are returned.
//
//===----------------------------------------------------------------------===//
#ifndef SNNC_TESTS_UNIT_JITHARNESS_H
#define SNNC_TESTS_UNIT_JITHARNESS_H

#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/MLIRContext.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace snnc::test {

/// One argument of a call: a buffer with a shape, or an i64 / f32 scalar.
struct Arg {
  enum class Kind { Buffer, I64, F32 } kind;
  void *data = nullptr;
  std::vector<int64_t> shape;
  int64_t i64 = 0;
  float f32 = 0.0f;

  static Arg buffer(void *d, std::vector<int64_t> s) {
    return {Kind::Buffer, d, std::move(s)};
  }
  static Arg i(int64_t v) { return {Kind::I64, nullptr, {}, v}; }
  static Arg f(float v) { return {Kind::F32, nullptr, {}, 0, v}; }
};

class JitModule {
public:
  /// Compiles `source`; `training` runs snn-build-training-graph first.
  /// Returns null and sets `error` on failure.
  static std::unique_ptr<JitModule>
  compile(const std::string &source, bool training, std::string &error,
          const std::string &neighborhood = "snn-neighborhood-sns");
  /// Calls `name`; returns its f32 result when `hasResult`, else 0.
  float call(const std::string &name, const std::vector<Arg> &args,
             bool hasResult);

private:
  std::unique_ptr<mlir::MLIRContext> context;
  std::unique_ptr<mlir::ExecutionEngine> engine;
};

} // namespace snnc::test

#endif
