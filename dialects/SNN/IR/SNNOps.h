//===- SNNOps.h - snn operations ----------------------------------*- C++ -*-===//
#ifndef SNNC_DIALECTS_SNN_IR_SNNOPS_H
#define SNNC_DIALECTS_SNN_IR_SNNOPS_H

#include "dialects/SNN/IR/SNNDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/SNN/IR/SNNEnums.h.inc"
#define GET_ATTRDEF_CLASSES
#include "dialects/SNN/IR/SNNAttrs.h.inc"
#include "dialects/SNN/IR/SNNInterfaces.h.inc"
#define GET_OP_CLASSES
#include "dialects/SNN/IR/SNNOps.h.inc"

namespace mlir::snn {
/// Spatial output size of a convolution: (in + 2 pad - kernel) / stride + 1.
int64_t convOutputSize(int64_t in, int64_t kernel, int64_t stride, int64_t pad);
} // namespace mlir::snn

#endif
