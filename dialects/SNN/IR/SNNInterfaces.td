//===- SNNInterfaces.td - snn op interfaces -----------------*- tablegen -*-===//
#ifndef SNN_INTERFACES_TD
#define SNN_INTERFACES_TD

include "mlir/IR/OpBase.td"

def SNN_TimeRecurrentOpInterface : OpInterface<"TimeRecurrentOp"> {
  let cppNamespace = "::mlir::snn";
  let description = [{
    An op whose result at step t depends on its state at step t-1 (or t+1 for
    reverse scans): the ops that the time-loop fusion pass may fuse into one
    loop over T with the state carried as loop arguments.
  }];
  let methods = [
    InterfaceMethod<"Number of time steps T (the leading dimension).",
                    "int64_t", "getNumTimeSteps", (ins), [{}], [{
      return ::llvm::cast<::mlir::RankedTensorType>(
          $_op->getResult(0).getType()).getDimSize(0);
    }]>,
    InterfaceMethod<"True when the recurrence runs from t = T-1 down to 0.",
                    "bool", "isReverseInTime", (ins), [{}], [{ return false; }]>,
  ];
}

#endif // SNN_INTERFACES_TD
