//===- SNNDialect.cpp - the snn dialect ------------------------------------===//
#include "dialects/SNN/IR/SNNDialect.h"
#include "dialects/SNN/IR/SNNOps.h"

#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::snn;

#include "dialects/SNN/IR/SNNDialect.cpp.inc"
#include "dialects/SNN/IR/SNNEnums.cpp.inc"
#define GET_ATTRDEF_CLASSES
#include "dialects/SNN/IR/SNNAttrs.cpp.inc"

void SNNDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/SNN/IR/SNNOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/SNN/IR/SNNAttrs.cpp.inc"
      >();
}
