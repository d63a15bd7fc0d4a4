//===- Passes.h - training-graph passes ---------------------------*- C++ -*-===//
#ifndef SNNC_COMPILER_TRAINING_PASSES_H
#define SNNC_COMPILER_TRAINING_PASSES_H

#include "dialects/SNN/IR/SNNOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace mlir::snn {
#define GEN_PASS_DECL
#include "compiler/Training/Passes.h.inc"
#define GEN_PASS_REGISTRATION
#include "compiler/Training/Passes.h.inc"
} // namespace mlir::snn

#endif
