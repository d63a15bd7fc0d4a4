//===- SNNDialect.h - the snn dialect -----------------------------*- C++ -*-===//
#ifndef SNNC_DIALECTS_SNN_IR_SNNDIALECT_H
#define SNNC_DIALECTS_SNN_IR_SNNDIALECT_H

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Dialect.h"

#include "dialects/SNN/IR/SNNDialect.h.inc"

#endif
