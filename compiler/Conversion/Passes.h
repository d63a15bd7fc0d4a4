//===- Passes.h - lowering of the snn dialect ---------------------*- C++ -*-===//
#ifndef SNNC_COMPILER_CONVERSION_PASSES_H
#define SNNC_COMPILER_CONVERSION_PASSES_H

#include "dialects/SNN/IR/SNNOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace mlir::snn {
#define GEN_PASS_DECL
#include "compiler/Conversion/Passes.h.inc"
#define GEN_PASS_REGISTRATION
#include "compiler/Conversion/Passes.h.inc"
} // namespace mlir::snn

#endif
