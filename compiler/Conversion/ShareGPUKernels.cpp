//===- ShareGPUKernels.cpp - one kernel for identical outlined kernels -----===//
//
// gpu-kernel-outlining makes one gpu.module per launch; a network with many
// layers of one shape launches the same kernel from every layer, and each
// module is compiled to PTX on its own (NVPTX's pipeline, then the embedded
// binary and its load and unload functions). Modules that print the same,
// their names aside, are one module: the first stays, its launches' users
// follow, the others go.
//
//===----------------------------------------------------------------------===//
#include "compiler/Conversion/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "llvm/ADT/StringMap.h"

namespace mlir::snn {
#define GEN_PASS_DEF_SHAREGPUKERNELSPASS
#include "compiler/Conversion/Passes.h.inc"
} // namespace mlir::snn

using namespace mlir;

namespace {

/// The module's text with its own name and its kernel's name made equal.
std::string keyOf(gpu::GPUModuleOp module, gpu::GPUFuncOp kernel) {
  StringAttr moduleName = module.getSymNameAttr();
  StringAttr kernelName = kernel.getNameAttr();
  MLIRContext *ctx = module.getContext();
  module.setSymNameAttr(StringAttr::get(ctx, "m"));
  SymbolTable::setSymbolName(kernel, StringAttr::get(ctx, "k"));
  std::string key;
  llvm::raw_string_ostream os(key);
  module->print(os, OpPrintingFlags().printGenericOpForm().useLocalScope());
  module.setSymNameAttr(moduleName);
  SymbolTable::setSymbolName(kernel, kernelName);
  return key;
}

struct ShareGPUKernelsPass
    : mlir::snn::impl::ShareGPUKernelsPassBase<ShareGPUKernelsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    llvm::StringMap<SymbolRefAttr> first;    // key -> kept @module::@kernel
    llvm::StringMap<SymbolRefAttr> replaced; // "<module>::<kernel>" -> kept
    SmallVector<gpu::GPUModuleOp> erase;
    for (auto gpuModule : module.getOps<gpu::GPUModuleOp>()) {
      auto kernels = gpuModule.getOps<gpu::GPUFuncOp>();
      if (std::distance(kernels.begin(), kernels.end()) != 1)
        continue;
      gpu::GPUFuncOp kernel = *kernels.begin();
      auto ref = SymbolRefAttr::get(
          gpuModule.getSymNameAttr(),
          {FlatSymbolRefAttr::get(kernel.getNameAttr())});
      auto [it, inserted] = first.try_emplace(keyOf(gpuModule, kernel), ref);
      if (inserted)
        continue;
      replaced[(gpuModule.getName() + "::" + kernel.getName()).str()] =
          it->second;
      erase.push_back(gpuModule);
    }
    module.walk([&](gpu::LaunchFuncOp launch) {
      auto it = replaced.find((launch.getKernelModuleName().getValue() +
                               "::" + launch.getKernelName().getValue())
                                  .str());
      if (it != replaced.end())
        launch.setKernelAttr(it->second);
    });
    for (gpu::GPUModuleOp m : erase)
      m.erase();
  }
};

} // namespace
