//===- ObjectEmitter.cpp - LLVM dialect -> LLVM IR -> object file ----------===//
#include "compiler/Target/ObjectEmitter.h"

#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/Linker/Linker.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Passes/StandardInstrumentations.h"
#include "llvm/Transforms/Scalar/Reg2Mem.h"
#include "llvm/Transforms/Scalar/InstSimplifyPass.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/Program.h"
#include "llvm/Transforms/Utils/Cloning.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"

using namespace mlir;

namespace {

std::unique_ptr<llvm::TargetMachine>
hostMachine(std::string &error, const std::string &cpu,
            llvm::CodeGenOptLevel level = llvm::CodeGenOptLevel::Aggressive) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return nullptr;
  // "host": this machine's CPU with exactly the features it has; a named
  // CPU: that CPU's features, so the trainer runs on any machine with them.
  std::string features;
  if (cpu == "host")
    for (auto &f : llvm::sys::getHostCPUFeatures())
      features += (f.second ? "+" : "-") + f.first().str() + ",";
  return std::unique_ptr<llvm::TargetMachine>(target->createTargetMachine(
      triple, cpu == "host" ? llvm::sys::getHostCPUName() : llvm::StringRef(cpu),
      features, llvm::TargetOptions(), llvm::Reloc::PIC_, std::nullopt,
      level));
}

/// `snnc_<name>(void **args)`: `name`'s body, reading argument i from
/// *args[i] and storing the result in *args[n], like ExecutionEngine's packed
/// interface. The body moves into the packed function rather than being
/// called from it: a step takes every parameter, gradient and optimizer
/// state as a memref descriptor (5-7 scalars each), and a call with
/// thousands of stack arguments makes instruction selection quadratic in the
/// network's depth (one DAG holding every argument store; 15 of the 22 s of
/// code generation for a 25-layer MLP). Nothing else calls `name`.
llvm::Function *addPackedWrapper(llvm::Module &m, llvm::StringRef name) {
  llvm::Function *f = m.getFunction(name);
  if (!f || f->isDeclaration() || !f->use_empty())
    return nullptr;
  llvm::LLVMContext &ctx = m.getContext();
  auto *ptrTy = llvm::PointerType::get(ctx, 0);
  auto *packed = llvm::Function::Create(
      llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {ptrTy}, false),
      llvm::GlobalValue::ExternalLinkage, ("snnc_" + name).str(), m);
  packed->setAttributes(llvm::AttributeList::get(
      ctx, f->getAttributes().getFnAttrs(), llvm::AttributeSet(), {}));
  packed->splice(packed->end(), f);
  // Each use loads its argument where it is: a value loaded once at the
  // entry would stay live across the whole step (thousands of calls), and
  // the register allocator's global splitting of thousands of such ranges
  // was most of a deep network's code generation.
  llvm::Value *args = packed->getArg(0);
  for (auto [i, param] : llvm::enumerate(f->args())) {
    llvm::SmallVector<llvm::Use *> uses;
    for (llvm::Use &u : param.uses())
      uses.push_back(&u);
    for (llvm::Use *u : uses) {
      auto *user = llvm::cast<llvm::Instruction>(u->getUser());
      llvm::Instruction *at =
          llvm::isa<llvm::PHINode>(user)
              ? llvm::cast<llvm::PHINode>(user)
                    ->getIncomingBlock(*u)
                    ->getTerminator()
              : user;
      llvm::IRBuilder<> b(at);
      llvm::Value *slot =
          b.CreateLoad(ptrTy, b.CreateConstGEP1_64(ptrTy, args, i));
      u->set(b.CreateLoad(param.getType(), slot));
    }
  }
  llvm::SmallVector<llvm::ReturnInst *> returns;
  for (llvm::BasicBlock &bb : *packed)
    if (auto *ret = llvm::dyn_cast<llvm::ReturnInst>(bb.getTerminator()))
      returns.push_back(ret);
  for (llvm::ReturnInst *ret : returns) {
    llvm::IRBuilder<> rb(ret);
    if (llvm::Value *result = ret->getReturnValue()) {
      llvm::Value *slot = rb.CreateLoad(
          ptrTy, rb.CreateConstGEP1_64(ptrTy, args, f->arg_size()));
      rb.CreateStore(result, slot);
    }
    rb.CreateRetVoid();
    ret->eraseFromParent();
  }
  f->eraseFromParent();
  return packed;
}

/// Instruction selection works on one basic block at a time, and its DAG
/// combiner is superlinear in the block's length (store merging and alias
/// queries compare memory operations with each other): a step's glue, one
/// block of calls and launches that O3 does not touch (optnone, below), is
/// cut into pieces of at most kMaxBlock instructions. The pieces follow one
/// another; the branches between them cost nothing that matters here.
constexpr unsigned kMaxBlock = 512;

void splitLongBlocks(llvm::Function &f) {
  std::vector<llvm::BasicBlock *> blocks;
  for (llvm::BasicBlock &bb : f)
    blocks.push_back(&bb);
  for (llvm::BasicBlock *bb : blocks) {
    std::vector<llvm::Instruction *> cuts;
    unsigned n = 0;
    for (auto it = bb->getFirstNonPHIOrDbgOrAlloca(); it != bb->end(); ++it)
      if (++n % kMaxBlock == 0 && !it->isTerminator())
        cuts.push_back(&*it);
    // The last cut first: each split moves only the piece after it.
    for (llvm::Instruction *at : llvm::reverse(cuts))
      bb->splitBasicBlock(at);
  }
}

/// Moves every fixed-size alloca of `f` to the head of its entry block
/// (where splitLongBlocks leaves them in the entry block). The glue's
/// allocas are the argument arrays of kernel launches and the descriptors
/// of C-interface calls, each used by its one call only; left where MLIR's
/// lowering puts them (after the first call, or in a loop's block) they are
/// dynamic allocas: FastISel gives up on the block, and the stack grows with
/// every launch (in a loop, with every iteration).
void hoistStaticAllocas(llvm::Function &f) {
  llvm::BasicBlock &entry = f.getEntryBlock();
  llvm::Instruction *at = &*entry.getFirstNonPHIOrDbgOrAlloca();
  std::vector<llvm::AllocaInst *> moved;
  for (llvm::BasicBlock &bb : f)
    for (llvm::Instruction &inst : bb)
      if (auto *a = llvm::dyn_cast<llvm::AllocaInst>(&inst))
        if (llvm::isa<llvm::ConstantInt>(a->getArraySize()))
          moved.push_back(a);
  for (llvm::AllocaInst *a : moved)
    a->moveBefore(at->getIterator());
}

/// Makes a step's glue cheap to generate code for, with linear passes only
/// (it is `optnone` for the rest of the pipeline):
/// - its fixed-size allocas move to the entry block (static allocas);
/// - it builds and takes apart memref descriptors around every call
///   (insertvalue/extractvalue chains, three quarters of its instructions):
///   InstSimplify folds them;
/// - its blocks are cut to kMaxBlock instructions;
/// - every value used in another block than its own (a layer's buffer,
///   used again by its backward thousands of calls later) goes through a
///   stack slot (reg2mem), so that the register allocator sees only short
///   ranges: splitting thousands of ranges that cross the whole step was
///   most of a deep network's code generation.
void simplifyGlue(llvm::Function &f) {
  llvm::FunctionAnalysisManager fam;
  llvm::PassBuilder pb;
  pb.registerFunctionAnalyses(fam);
  llvm::FunctionPassManager simplify;
  simplify.addPass(llvm::InstSimplifyPass());
  simplify.run(f, fam);
  hoistStaticAllocas(f);
  splitLongBlocks(f);
  fam.clear();
  llvm::FunctionPassManager demote;
  demote.addPass(llvm::RegToMemPass());
  demote.run(f, fam);
}

/// LLVM's O3 pipeline, as MLIR's makeOptimizingTransformer builds it, plus
/// the standard instrumentations: they make the passes skip `optnone`
/// functions (and give -time-passes its report).
void optimize(llvm::Module &m, llvm::TargetMachine &tm) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassInstrumentationCallbacks pic;
  llvm::StandardInstrumentations si(m.getContext(), /*DebugLogging=*/false);
  si.registerCallbacks(pic, &mam);
  llvm::PipelineTuningOptions tuning;
  tuning.LoopUnrolling = true;
  tuning.LoopInterleaving = true;
  tuning.LoopVectorization = true;
  tuning.SLPVectorization = true;
  llvm::PassBuilder pb(&tm, tuning, std::nullopt, &pic);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3).run(m, mam);
}

} // namespace

std::unique_ptr<llvm::Module>
mlir::snn::translateForHost(ModuleOp module, ModuleOp cudaModule,
                            llvm::LLVMContext &ctx,
                            llvm::ArrayRef<EntryPoint> entries,
                            const std::string &modelInfo,
                            llvm::ArrayRef<DenseElementsAttr> paramInits,
                            const std::string &onnxModel, std::string &error,
                            const std::string &cpu) {
  auto tm = hostMachine(error, cpu);
  if (!tm)
    return nullptr;
  // Translates one LLVM-dialect module for the host target.
  auto translate = [&](ModuleOp op, const char *what) {
    std::unique_ptr<llvm::Module> out = translateModuleToLLVMIR(op, ctx);
    if (!out) {
      error = std::string("translation of the ") + what + " to LLVM IR failed";
      return out;
    }
    out->setTargetTriple(tm->getTargetTriple());
    out->setDataLayout(tm->createDataLayout());
    return out;
  };
  std::unique_ptr<llvm::Module> m = translate(module, "LLVM dialect");
  if (!m)
    return nullptr;
  // The table's rows: (name, function, workspace global or "").
  struct Row {
    std::string name, function, workspace;
  };
  std::vector<Row> rows;
  for (const EntryPoint &e : entries)
    rows.push_back({e.name, e.function, ""});
  if (cudaModule) {
    // The CUDA side (host code + embedded PTX) joins the same object; its
    // symbols end in _cuda, its runtime callees start with snnrt_cuda_.
    std::unique_ptr<llvm::Module> g = translate(cudaModule, "CUDA module");
    if (!g)
      return nullptr;
    if (llvm::Linker::linkModules(*m, std::move(g))) {
      error = "linking the CPU and CUDA modules failed";
      return nullptr;
    }
    for (const EntryPoint &e : entries)
      rows.push_back({e.name + ":cuda", e.function + "_cuda",
                      "snnc_cuda_workspace_" + e.function + "_cuda"});
  }
  auto *ptrTy = llvm::PointerType::get(ctx, 0);
  auto *i64Ty = llvm::Type::getInt64Ty(ctx);
  auto *entryTy = llvm::StructType::get(ctx, {ptrTy, ptrTy, i64Ty});
  std::vector<llvm::Constant *> table;
  for (const Row &r : rows) {
    llvm::Function *wrapper = addPackedWrapper(*m, r.function);
    if (!wrapper) {
      error = "the model has no function @" + r.function + " for entry '" +
              r.name + "'";
      return nullptr;
    }
    // A step is glue: every loop nest of a CPU step is a function of its own
    // (snn-outline-loop-nests), optimized there; a CUDA step's host code
    // runs while the step's CUDA graph is captured, then the graph replays.
    // What is left is one long block of calls and launches, on which O3 and
    // the register allocator are superlinear (live values across thousands
    // of calls: a 200-layer MLP spent most of its 40 s there). FastISel and
    // the fast register allocator are linear.
    simplifyGlue(*wrapper);
    wrapper->addFnAttr(llvm::Attribute::NoInline);
    wrapper->addFnAttr(llvm::Attribute::OptimizeNone);
    int64_t workspace = 0;
    if (!r.workspace.empty())
      if (auto *g = m->getGlobalVariable(r.workspace))
        if (auto *c = llvm::dyn_cast_or_null<llvm::ConstantInt>(
                g->getInitializer()))
          workspace = c->getSExtValue();
    auto *name = llvm::ConstantDataArray::getString(ctx, r.name, true);
    auto *nameVar = new llvm::GlobalVariable(
        *m, name->getType(), true, llvm::GlobalValue::PrivateLinkage, name,
        "snnc_entry_name");
    table.push_back(llvm::ConstantStruct::get(
        entryTy, {nameVar, wrapper, llvm::ConstantInt::get(i64Ty, workspace)}));
  }
  table.push_back(llvm::ConstantStruct::get(
      entryTy, {llvm::ConstantPointerNull::get(ptrTy),
                llvm::ConstantPointerNull::get(ptrTy),
                llvm::ConstantInt::get(i64Ty, 0)}));
  auto *entriesTy = llvm::ArrayType::get(entryTy, table.size());
  new llvm::GlobalVariable(*m, entriesTy, true,
                           llvm::GlobalValue::ExternalLinkage,
                           llvm::ConstantArray::get(entriesTy, table),
                           "snnc_entries");
  auto *info = llvm::ConstantDataArray::getString(ctx, modelInfo, true);
  new llvm::GlobalVariable(*m, info->getType(), true,
                           llvm::GlobalValue::ExternalLinkage, info,
                           "snnc_model_info");
  std::vector<llvm::Constant *> inits;
  for (auto [i, init] : llvm::enumerate(paramInits)) {
    if (!init) {
      inits.push_back(llvm::ConstantPointerNull::get(ptrTy));
      continue;
    }
    std::vector<float> values(init.getValues<float>().begin(),
                              init.getValues<float>().end());
    auto *data = llvm::ConstantDataArray::get(ctx, values);
    inits.push_back(new llvm::GlobalVariable(
        *m, data->getType(), true, llvm::GlobalValue::PrivateLinkage, data,
        "snnc_param_init_" + std::to_string(i)));
  }
  auto *onnx = llvm::ConstantDataArray::getString(ctx, onnxModel, false);
  new llvm::GlobalVariable(*m, onnx->getType(), true,
                           llvm::GlobalValue::ExternalLinkage, onnx,
                           "snnc_onnx_model");
  new llvm::GlobalVariable(*m, i64Ty, true, llvm::GlobalValue::ExternalLinkage,
                           llvm::ConstantInt::get(i64Ty, onnxModel.size()),
                           "snnc_onnx_model_size");
  auto *tableTy = llvm::ArrayType::get(ptrTy, inits.size());
  new llvm::GlobalVariable(*m, tableTy, true, llvm::GlobalValue::ExternalLinkage,
                           llvm::ConstantArray::get(tableTy, inits),
                           "snnc_param_init");
  optimize(*m, *tm);
  return m;
}

namespace {

/// `module` as an object file at `path` by `tm`.
LogicalResult writeObject(llvm::Module &module, llvm::TargetMachine &tm,
                          const std::string &path, std::string &error) {
  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec, llvm::sys::fs::OF_None);
  if (ec) {
    error = "cannot write '" + path + "': " + ec.message();
    return failure();
  }
  llvm::legacy::PassManager pm;
  if (tm.addPassesToEmitFile(pm, out, nullptr,
                             llvm::CodeGenFileType::ObjectFile)) {
    error = "the host target cannot emit object files";
    return failure();
  }
  pm.run(module);
  out.close();
  if (out.has_error()) {
    error = "cannot write '" + path + "': " + out.error().message();
    out.clear_error();
    return failure();
  }
  return success();
}

/// A step's glue (the `optnone` wrappers of translateForHost) moved into a
/// module of its own, for code generation at -O0: `optnone` already gives
/// it FastISel, but the register allocator is chosen per pipeline, and the
/// greedy one is superlinear in a function of hundreds of thousands of
/// instructions (a 1,000-layer MLP: 9.4 of its 29.5 s of code generation;
/// all at -O0: 9.6 s). What the two modules share becomes hidden external
/// symbols of `module`, which keeps every other definition; null when
/// there is no glue.
std::unique_ptr<llvm::Module> splitGlue(llvm::Module &module) {
  auto isGlue = [](const llvm::GlobalValue *gv) {
    auto *f = llvm::dyn_cast<llvm::Function>(gv);
    return f && !f->isDeclaration() &&
           f->hasFnAttribute(llvm::Attribute::OptimizeNone);
  };
  if (llvm::none_of(module.functions(),
                    [&](llvm::Function &f) { return isGlue(&f); }))
    return nullptr;
  unsigned anonymous = 0;
  for (llvm::GlobalValue &gv : module.global_values()) {
    if (isGlue(&gv) || gv.isDeclaration())
      continue;
    if (!gv.hasName())
      gv.setName("snnc.shared." + std::to_string(anonymous++));
    if (gv.hasLocalLinkage()) {
      gv.setLinkage(llvm::GlobalValue::ExternalLinkage);
      gv.setVisibility(llvm::GlobalValue::HiddenVisibility);
    }
  }
  llvm::ValueToValueMapTy map;
  std::unique_ptr<llvm::Module> glue =
      llvm::CloneModule(module, map, [&](const llvm::GlobalValue *gv) {
        return isGlue(gv);
      });
  for (llvm::Function &f : module.functions())
    if (isGlue(&f))
      f.deleteBody();
  return glue;
}

} // namespace

LogicalResult mlir::snn::emitObjectFile(llvm::Module &module,
                                        const std::string &path,
                                        std::string &error,
                                        const std::string &cpu) {
  auto tm = hostMachine(error, cpu);
  if (!tm)
    return failure();
  // The caller writes to a temporary path and moves it into place
  // (runtime/core/OutputFile.h).
  std::unique_ptr<llvm::Module> glue = splitGlue(module);
  if (!glue)
    return writeObject(module, *tm, path, error);
  auto tm0 = hostMachine(error, cpu, llvm::CodeGenOptLevel::None);
  if (!tm0)
    return failure();
  // Two objects, joined into one relocatable object by the C++ driver
  // (`c++ -r`), which also links the trainer.
  llvm::SmallString<128> code, glueObject;
  for (auto *p : {&code, &glueObject})
    if (std::error_code ec =
            llvm::sys::fs::createTemporaryFile("snnc-part", "o", *p)) {
      error = "cannot create a temporary object file: " + ec.message();
      return failure();
    }
  llvm::FileRemover removeCode(code), removeGlue(glueObject);
  if (failed(writeObject(module, *tm, std::string(code), error)) ||
      failed(writeObject(*glue, *tm0, std::string(glueObject), error)))
    return failure();
  auto cxx = llvm::sys::findProgramByName("c++");
  if (!cxx) {
    error = "no C++ driver ('c++') on PATH to join the object files";
    return failure();
  }
  std::vector<llvm::StringRef> args{*cxx, "-r", "-nostdlib", code,
                                    glueObject, "-o", path};
  std::string why;
  if (llvm::sys::ExecuteAndWait(*cxx, args, std::nullopt, {}, 0, 0, &why) != 0) {
    error = "joining the object files into '" + path + "' failed" +
            (why.empty() ? "" : ": " + why);
    return failure();
  }
  return success();
}

bool mlir::snn::isKnownCPU(const std::string &cpu) {
  if (cpu == "host")
    return true;
  std::string error;
  auto tm = hostMachine(error, "host");
  return tm && tm->getMCSubtargetInfo()->isCPUStringValid(cpu);
}
