//===- NameGPUKernels.cpp - name outlined kernels after what they compute ---===//
//
// gpu-kernel-outlining names kernels `<func>_kernel` in modules
// `<func>_kernel_<n>`. A kernel whose
// body carries an `snn.kernel = "<what>"` tag (set where snnc emits the loop:
// na_backward for a neighborhood strategy's loop nest, time_loop and
// stbp_backward for the time loops) becomes `<func>_<what>_<n>`, so that
// profilers (ncu --kernel-name regex:na_backward) find it.
//
//===----------------------------------------------------------------------===//
#include "compiler/Conversion/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"

namespace mlir::snn {
#define GEN_PASS_DEF_NAMEGPUKERNELSPASS
#include "compiler/Conversion/Passes.h.inc"
} // namespace mlir::snn

using namespace mlir;

namespace {

struct NameGPUKernelsPass
    : mlir::snn::impl::NameGPUKernelsPassBase<NameGPUKernelsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    llvm::StringMap<std::string> renamed; // "<module>::<func>" -> new name
    for (auto gpuModule : module.getOps<gpu::GPUModuleOp>())
      for (auto func : gpuModule.getOps<gpu::GPUFuncOp>()) {
        StringAttr tag;
        func.walk([&](Operation *op) {
          if (auto t = op->getAttrOfType<StringAttr>("snn.kernel"))
            tag = t;
          return tag ? WalkResult::interrupt() : WalkResult::advance();
        });
        // Outlining names the module `<f>_kernel[_<n>]` (unique) and the
        // function `<f>_kernel`.
        StringRef name = func.getName(), moduleName = gpuModule.getName();
        size_t at = moduleName.rfind("_kernel");
        if (!tag || at == StringRef::npos)
          continue;
        std::string suffix = moduleName.substr(at + 7).str(); // "" or "_<n>"
        std::string newName =
            (moduleName.substr(0, at) + "_" + tag.getValue() + suffix).str();
        renamed[(gpuModule.getName() + "::" + name).str()] = newName;
        func.setName(newName);
      }
    module.walk([&](gpu::LaunchFuncOp launch) {
      auto it = renamed.find(
          (launch.getKernelModuleName().getValue() + "::" +
           launch.getKernelName().getValue())
              .str());
      if (it == renamed.end())
        return;
      launch.setKernelAttr(SymbolRefAttr::get(
          launch.getKernelModuleName(),
          {FlatSymbolRefAttr::get(launch.getContext(), it->second)}));
    });
  }
};

} // namespace
