//===- Passes.h - snn -> snn transformations ----------------------*- C++ -*-===//
#ifndef SNNC_COMPILER_TRANSFORMS_PASSES_H
#define SNNC_COMPILER_TRANSFORMS_PASSES_H

#include "dialects/SNN/IR/SNNOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace mlir::snn {
#define GEN_PASS_DECL
#include "compiler/Transforms/Passes.h.inc"
#define GEN_PASS_REGISTRATION
#include "compiler/Transforms/Passes.h.inc"
} // namespace mlir::snn

#endif
