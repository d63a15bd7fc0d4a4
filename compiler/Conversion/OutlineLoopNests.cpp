//===- OutlineLoopNests.cpp - one function per top-level loop nest --------===//
//
// A train step is one function holding every layer's loop nests; LLVM's
// analyses of a function (dominator trees, scalar evolution's loop guards,
// which walk back through every block before a loop) grow faster than the
// function, so a deep network's compile time grew quadratically with its
// depth. Each top-level loop nest becomes a private function called once
// (noinline), and identical nests (the same layer shape at another depth, or
// the same loop in train_step and eval_step) share one function, so that
// LLVM sees small functions, and as many as the network has distinct layers.
//
//===----------------------------------------------------------------------===//
#include "compiler/Conversion/Passes.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringMap.h"

namespace mlir::snn {
#define GEN_PASS_DEF_OUTLINELOOPNESTSPASS
#include "compiler/Conversion/Passes.h.inc"
} // namespace mlir::snn

using namespace mlir;
using namespace mlir::snn;

namespace {

bool isConstant(Value v) {
  Operation *def = v.getDefiningOp();
  return def && def->getNumOperands() == 0 && def->getNumRegions() == 0 &&
         def->hasTrait<OpTrait::ConstantLike>();
}

/// The outlined body's text with a fixed name: equal texts, equal functions.
std::string keyOf(func::FuncOp f) {
  std::string key;
  llvm::raw_string_ostream os(key);
  f.print(os, OpPrintingFlags().printGenericOpForm().useLocalScope());
  return key;
}

struct OutlineLoopNestsPass
    : mlir::snn::impl::OutlineLoopNestsPassBase<OutlineLoopNestsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    SmallVector<func::FuncOp> steps;
    for (auto f : module.getOps<func::FuncOp>())
      if (!f.isExternal())
        steps.push_back(f);
    llvm::StringMap<func::FuncOp> byKey;
    for (func::FuncOp f : steps) {
      SmallVector<Operation *> nests;
      for (Block &block : f.getBody())
        for (Operation &op : block.without_terminator())
          if (op.getNumRegions() > 0)
            nests.push_back(&op);
      if (nests.size() < static_cast<size_t>(minNests))
        continue;
      for (Operation *nest : nests)
        outline(nest, f, symbols, byKey);
    }
  }

  void outline(Operation *nest, func::FuncOp parent, SymbolTable &symbols,
               llvm::StringMap<func::FuncOp> &byKey) {
    MLIRContext *ctx = nest->getContext();
    Location loc = nest->getLoc();
    llvm::SetVector<Value> used(nest->getOperands().begin(),
                                nest->getOperands().end());
    getUsedValuesDefinedAbove(nest->getRegions(), used);
    SmallVector<Value> args, constants;
    for (Value v : used)
      (isConstant(v) ? constants : args).push_back(v);
    SmallVector<Type> argTypes;
    for (Value v : args)
      argTypes.push_back(v.getType());

    OpBuilder mb(ctx);
    auto callee = func::FuncOp::create(
        mb, loc, "nest", FunctionType::get(ctx, argTypes,
                                           nest->getResultTypes()));
    callee.setPrivate();
    Block *entry = callee.addEntryBlock();
    IRMapping map;
    for (auto [v, arg] : llvm::zip(args, entry->getArguments()))
      map.map(v, arg);
    OpBuilder b = OpBuilder::atBlockBegin(entry);
    for (Value c : constants)
      b.clone(*c.getDefiningOp(), map);
    Operation *body = b.clone(*nest, map);
    func::ReturnOp::create(b, loc, body->getResults());

    std::string key = keyOf(callee);
    auto [it, inserted] = byKey.try_emplace(key, callee);
    if (inserted) {
      callee.setName((parent.getName() + "_nest").str());
      // The module's end: after every step, so no step's lookup moves.
      symbols.insert(callee);
      callee->setAttr("no_inline", UnitAttr::get(ctx));
    } else {
      callee.erase();
      callee = it->second;
    }
    OpBuilder cb(nest);
    auto call = func::CallOp::create(cb, loc, callee, args);
    call.setNoInline(true);
    nest->replaceAllUsesWith(call.getResults());
    nest->erase();
  }
};

} // namespace
