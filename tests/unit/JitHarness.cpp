//===- JitHarness.cpp - compile snn IR and call it in-process ---------------===//
#include "tests/unit/JitHarness.h"

#include "compiler/Pipelines/Pipelines.h"
#include "dialects/SNN/IR/SNNDialect.h"
#include "snnrt/snnrt.h"

#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"
#include "llvm/ExecutionEngine/Orc/Mangling.h"
#include "llvm/Support/TargetSelect.h"

#include <cstring>
#include <deque>
#include <mutex>

using namespace mlir;

namespace snnc::test {

std::unique_ptr<JitModule> JitModule::compile(const std::string &source,
                                              bool training, std::string &error,
                                              const std::string &neighborhood) {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    snn::registerAllSNNPasses();
  });
  auto jit = std::unique_ptr<JitModule>(new JitModule());
  DialectRegistry registry;
  snn::registerSNNCDialects(registry);
  jit->context = std::make_unique<MLIRContext>(registry);
  llvm::raw_string_ostream err(error);
  ScopedDiagnosticHandler handler(jit->context.get(), [&](Diagnostic &d) {
    err << d.str() << "\n";
    return success();
  });
  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>(source, jit->context.get());
  if (!module)
    return nullptr;
  snn::TrainingOptions opts;
  opts.neighborhood = neighborhood;
  if (training) {
    // snnc's stages (compiler/Pipelines), the CPU side.
    if (failed(snn::runStages(
            *module, nullptr, opts, snn::GPUOptions(), snn::Stage::LLVM,
            [](PassManager &pm) {
              pm.enableVerifier(true);
              return success();
            },
            err)))
      return nullptr;
  } else {
    // A module of backward ops without a training graph: the stages after
    // it.
    PassManager pm(jit->context.get());
    if (failed(snn::buildSelectedStage(pm, opts, err)))
      return nullptr;
    snn::buildFusedStage(pm);
    snn::buildLoopsStage(pm);
    snn::buildLLVMStage(pm);
    if (failed(pm.run(*module)))
      return nullptr;
  }

  ExecutionEngineOptions eo;
  eo.transformer = makeOptimizingTransformer(2, 0, nullptr);
  // The neuron loops are OpenMP parallel loops.
  static const std::string libomp = SNNC_LIBOMP;
  static llvm::StringRef libs[] = {libomp};
  eo.sharedLibPaths = libs;
  auto engine = ExecutionEngine::create(*module, eo);
  if (!engine) {
    err << llvm::toString(engine.takeError());
    return nullptr;
  }
  jit->engine = std::move(*engine);
  jit->engine->registerSymbols([](llvm::orc::MangleAndInterner interner) {
    llvm::orc::SymbolMap map;
    auto add = [&](const char *name, auto *fn) {
      map[interner(name)] = {llvm::orc::ExecutorAddr::fromPtr(fn),
                             llvm::JITSymbolFlags::Exported};
    };
    add("_mlir_ciface_snnrt_matmul_nt", &_mlir_ciface_snnrt_matmul_nt);
    add("_mlir_ciface_snnrt_matmul_nn", &_mlir_ciface_snnrt_matmul_nn);
    add("_mlir_ciface_snnrt_matmul_tn", &_mlir_ciface_snnrt_matmul_tn);
    add("_mlir_ciface_snnrt_solve_batched", &_mlir_ciface_snnrt_solve_batched);
    add("snnrt_ide_solver_report", &snnrt_ide_solver_report);
    add("_mlir_ciface_snnrt_conv2d_forward", &_mlir_ciface_snnrt_conv2d_forward);
    add("_mlir_ciface_snnrt_conv2d_grad_input",
        &_mlir_ciface_snnrt_conv2d_grad_input);
    add("_mlir_ciface_snnrt_conv2d_grad_weight",
        &_mlir_ciface_snnrt_conv2d_grad_weight);
    add("_mlir_ciface_snnrt_conv2d_grad_cols",
        &_mlir_ciface_snnrt_conv2d_grad_cols);
    add("_mlir_ciface_snnrt_grad_all_reduce",
        &_mlir_ciface_snnrt_grad_all_reduce);
    return map;
  });
  return jit;
}

float JitModule::call(const std::string &name, const std::vector<Arg> &args,
                      bool hasResult) {
  // Every expanded scalar lives here; deque keeps addresses stable.
  std::deque<uint64_t> slots;
  std::vector<void *> packed;
  auto push = [&](uint64_t bits) {
    slots.push_back(bits);
    packed.push_back(&slots.back());
  };
  for (const Arg &a : args) {
    switch (a.kind) {
    case Arg::Kind::Buffer: {
      push(reinterpret_cast<uint64_t>(a.data)); // allocated
      push(reinterpret_cast<uint64_t>(a.data)); // aligned
      push(0);                                  // offset
      for (int64_t d : a.shape)
        push(static_cast<uint64_t>(d));
      int64_t stride = 1;
      std::vector<int64_t> strides(a.shape.size());
      for (size_t i = a.shape.size(); i-- > 0;) {
        strides[i] = stride;
        stride *= a.shape[i];
      }
      for (int64_t s : strides)
        push(static_cast<uint64_t>(s));
      break;
    }
    case Arg::Kind::I64:
      push(static_cast<uint64_t>(a.i64));
      break;
    case Arg::Kind::F32: {
      uint64_t bits = 0;
      std::memcpy(&bits, &a.f32, sizeof(float));
      push(bits);
      break;
    }
    }
  }
  float result = 0.0f;
  if (hasResult)
    packed.push_back(&result);
  llvm::Error e = engine->invokePacked(name, packed);
  if (e)
    llvm::report_fatal_error(std::move(e));
  return result;
}

} // namespace snnc::test
