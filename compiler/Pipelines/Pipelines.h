//===- Pipelines.h - snnc pass pipelines --------------------------*- C++ -*-===//
#ifndef SNNC_COMPILER_PIPELINES_PIPELINES_H
#define SNNC_COMPILER_PIPELINES_PIPELINES_H

namespace mlir::snn {
/// Registers every snn pass and pipeline with the global registry (snn-opt,
/// snnc and pass plugins see the same set).
void registerAllSNNPasses();
} // namespace mlir::snn

#endif
