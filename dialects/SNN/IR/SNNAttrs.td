//===- SNNAttrs.td - snn attributes -------------------------*- tablegen -*-===//
#ifndef SNN_ATTRS_TD
#define SNN_ATTRS_TD

include "dialects/SNN/IR/SNNBase.td"
include "mlir/IR/EnumAttr.td"
include "mlir/IR/AttrTypeBase.td"

def SNN_PoolKindSum : I32EnumAttrCase<"sum", 0>;
def SNN_PoolKindAvg : I32EnumAttrCase<"avg", 1>;
def SNN_PoolKind : I32EnumAttr<"PoolKind", "pooling reduction",
                               [SNN_PoolKindSum, SNN_PoolKindAvg]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::snn";
}
def SNN_PoolKindAttr : EnumAttr<SNN_Dialect, SNN_PoolKind, "pool_kind">;

#endif // SNN_ATTRS_TD
