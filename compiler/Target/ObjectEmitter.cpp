//===- ObjectEmitter.cpp - LLVM dialect -> LLVM IR -> object file ----------===//
#include "compiler/Target/ObjectEmitter.h"

#include <mutex>

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
  // Once: the two sides ask for machines at once, on two threads.
  static std::once_flag initialized;
  std::call_once(initialized, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
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

namespace {

using mlir::snn::EntryPoint;
using Row = mlir::snn::EntryRow;

/// One side's rows: the CPU side's as `entries` name them, the CUDA side's
/// with `:cuda` and `_cuda`.
std::vector<Row> rowsOf(llvm::ArrayRef<EntryPoint> entries, bool cudaSide) {
  std::vector<Row> rows;
  for (const EntryPoint &e : entries)
    rows.push_back(cudaSide ? Row{e.name + ":cuda", e.function + "_cuda"}
                            : Row{e.name, e.function});
  return rows;
}

/// One side (a module in the LLVM dialect) in LLVM IR for `tm`, with the
/// packed wrappers of `rows` made glue, and the workspace sizes of the CUDA
/// side's rows read into them.
std::unique_ptr<llvm::Module> translateSide(ModuleOp op,
                                            llvm::LLVMContext &ctx,
                                            llvm::TargetMachine &tm,
                                            bool cudaSide,
                                            std::vector<Row> &rows,
                                            std::string &error) {
  std::unique_ptr<llvm::Module> m = translateModuleToLLVMIR(op, ctx);
  if (!m) {
    error = std::string("translation of the ") +
            (cudaSide ? "CUDA module" : "LLVM dialect") + " to LLVM IR failed";
    return nullptr;
  }
  m->setTargetTriple(tm.getTargetTriple());
  m->setDataLayout(tm.createDataLayout());
  for (Row &r : rows) {
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
    if (cudaSide)
      if (auto *g = m->getGlobalVariable("snnc_cuda_workspace_" + r.function))
        if (auto *c = llvm::dyn_cast_or_null<llvm::ConstantInt>(
                g->getInitializer()))
          r.workspace = c->getSExtValue();
  }
  return m;
}

/// Adds to `m` the table `snnc_entries` of `rows` (their wrappers declared
/// where `m` does not define them), `snnc_model_info`, `snnc_param_init`
/// and the source model.
void addTables(llvm::Module &m, llvm::ArrayRef<Row> rows,
               const std::string &modelInfo,
               llvm::ArrayRef<DenseElementsAttr> paramInits,
               const std::string &onnxModel) {
  llvm::LLVMContext &ctx = m.getContext();
  auto *ptrTy = llvm::PointerType::get(ctx, 0);
  auto *i64Ty = llvm::Type::getInt64Ty(ctx);
  auto *entryTy = llvm::StructType::get(ctx, {ptrTy, ptrTy, i64Ty});
  auto *wrapperTy =
      llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {ptrTy}, false);
  std::vector<llvm::Constant *> table;
  for (const Row &r : rows) {
    llvm::FunctionCallee wrapper =
        m.getOrInsertFunction("snnc_" + r.function, wrapperTy);
    auto *name = llvm::ConstantDataArray::getString(ctx, r.name, true);
    auto *nameVar = new llvm::GlobalVariable(
        m, name->getType(), true, llvm::GlobalValue::PrivateLinkage, name,
        "snnc_entry_name");
    table.push_back(llvm::ConstantStruct::get(
        entryTy, {nameVar, llvm::cast<llvm::Constant>(wrapper.getCallee()),
                  llvm::ConstantInt::get(i64Ty, r.workspace)}));
  }
  table.push_back(llvm::ConstantStruct::get(
      entryTy, {llvm::ConstantPointerNull::get(ptrTy),
                llvm::ConstantPointerNull::get(ptrTy),
                llvm::ConstantInt::get(i64Ty, 0)}));
  auto *entriesTy = llvm::ArrayType::get(entryTy, table.size());
  new llvm::GlobalVariable(m, entriesTy, true,
                           llvm::GlobalValue::ExternalLinkage,
                           llvm::ConstantArray::get(entriesTy, table),
                           "snnc_entries");
  auto *info = llvm::ConstantDataArray::getString(ctx, modelInfo, true);
  new llvm::GlobalVariable(m, info->getType(), true,
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
        m, data->getType(), true, llvm::GlobalValue::PrivateLinkage, data,
        "snnc_param_init_" + std::to_string(i)));
  }
  auto *onnx = llvm::ConstantDataArray::getString(ctx, onnxModel, false);
  new llvm::GlobalVariable(m, onnx->getType(), true,
                           llvm::GlobalValue::ExternalLinkage, onnx,
                           "snnc_onnx_model");
  new llvm::GlobalVariable(m, i64Ty, true, llvm::GlobalValue::ExternalLinkage,
                           llvm::ConstantInt::get(i64Ty, onnxModel.size()),
                           "snnc_onnx_model_size");
  auto *tableTy = llvm::ArrayType::get(ptrTy, inits.size());
  new llvm::GlobalVariable(m, tableTy, true, llvm::GlobalValue::ExternalLinkage,
                           llvm::ConstantArray::get(tableTy, inits),
                           "snnc_param_init");
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
  std::vector<Row> rows = rowsOf(entries, false);
  std::unique_ptr<llvm::Module> m =
      translateSide(module, ctx, *tm, false, rows, error);
  if (!m)
    return nullptr;
  if (cudaModule) {
    // The CUDA side (host code + embedded PTX) joins the same module; its
    // symbols end in _cuda, its runtime callees start with snnrt_cuda_.
    std::vector<Row> cudaRows = rowsOf(entries, true);
    std::unique_ptr<llvm::Module> g =
        translateSide(cudaModule, ctx, *tm, true, cudaRows, error);
    if (!g)
      return nullptr;
    if (llvm::Linker::linkModules(*m, std::move(g))) {
      error = "linking the CPU and CUDA modules failed";
      return nullptr;
    }
    rows.insert(rows.end(), cudaRows.begin(), cudaRows.end());
  }
  addTables(*m, rows, modelInfo, paramInits, onnxModel);
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

/// Splits a side's steps' glue (the `optnone` wrappers of translateForHost)
/// from the rest, for code generation at -O0: `optnone` already gives it
/// FastISel, but the register allocator is chosen per pipeline, and the
/// greedy one is superlinear in a function of hundreds of thousands of
/// instructions (a 1,000-layer MLP: 9.4 of its 29.5 s of code generation;
/// all at -O0: 9.6 s). The glue stays in `module`; everything else (the
/// loop nests, shared by every layer of a shape, and the CUDA side's kernel
/// binaries: the smaller part, so that is what is copied) moves to the
/// module returned, null when there is no glue. What the two share becomes
/// hidden external symbols named with `prefix` (unique per side: the sides'
/// objects are joined too).
std::unique_ptr<llvm::Module> splitGlue(llvm::Module &module,
                                        const std::string &prefix) {
  auto isGlue = [](const llvm::GlobalValue *gv) {
    auto *f = llvm::dyn_cast<llvm::Function>(gv);
    return f && !f->isDeclaration() &&
           f->hasFnAttribute(llvm::Attribute::OptimizeNone);
  };
  if (llvm::none_of(module.functions(),
                    [&](llvm::Function &f) { return isGlue(&f); }) ||
      !module.alias_empty() || !module.ifunc_empty())
    return nullptr;
  unsigned anonymous = 0;
  for (llvm::GlobalValue &gv : module.global_values()) {
    if (isGlue(&gv) || gv.isDeclaration() || gv.hasAppendingLinkage())
      continue;
    if (!gv.hasName())
      gv.setName(prefix + std::to_string(anonymous++));
    else if (gv.hasLocalLinkage())
      gv.setName(prefix + gv.getName());
    if (gv.hasLocalLinkage()) {
      gv.setLinkage(llvm::GlobalValue::ExternalLinkage);
      gv.setVisibility(llvm::GlobalValue::HiddenVisibility);
    }
  }
  llvm::ValueToValueMapTy map;
  std::unique_ptr<llvm::Module> code =
      llvm::CloneModule(module, map, [&](const llvm::GlobalValue *gv) {
        return !isGlue(gv);
      });
  // What moved leaves `module` as declarations; the constructor tables and
  // llvm.used (appending) went whole.
  std::vector<llvm::GlobalVariable *> appending;
  for (llvm::GlobalVariable &g : module.globals()) {
    if (g.hasAppendingLinkage()) {
      appending.push_back(&g);
    } else if (!g.isDeclaration()) {
      g.setInitializer(nullptr);
      g.setComdat(nullptr);
      g.setLinkage(llvm::GlobalValue::ExternalLinkage);
    }
  }
  for (llvm::GlobalVariable *g : appending)
    g->eraseFromParent();
  for (llvm::Function &f : module.functions())
    if (!f.isDeclaration() && !isGlue(&f)) {
      f.deleteBody();
      f.setComdat(nullptr);
    }
  return code;
}


/// Joins relocatable objects into one at `path` with the C++ driver
/// (`c++ -r`), which also links the trainer.
LogicalResult joinObjects(llvm::ArrayRef<std::string> objects,
                          const std::string &path, std::string &error) {
  auto cxx = llvm::sys::findProgramByName("c++");
  if (!cxx) {
    error = "no C++ driver ('c++') on PATH to join the object files";
    return failure();
  }
  std::vector<llvm::StringRef> args{*cxx, "-r", "-nostdlib"};
  args.insert(args.end(), objects.begin(), objects.end());
  args.push_back("-o");
  args.push_back(path);
  std::string why;
  if (llvm::sys::ExecuteAndWait(*cxx, args, std::nullopt, {}, 0, 0, &why) != 0) {
    error = "joining the object files into '" + path + "' failed" +
            (why.empty() ? "" : ": " + why);
    return failure();
  }
  return success();
}

} // namespace

mlir::snn::HostObjects::HostObjects(llvm::ArrayRef<EntryPoint> entries,
                                    std::string cpu)
    : entries(entries.begin(), entries.end()), cpu(std::move(cpu)) {}

mlir::snn::HostObjects::~HostObjects() {
  for (const Side &side : sides)
    for (const std::string &o : side.objects)
      llvm::sys::fs::remove(o);
  for (const std::string &o : tableObjects)
    llvm::sys::fs::remove(o);
}

LogicalResult mlir::snn::HostObjects::temporary(std::vector<std::string> &into,
                                                std::string &error) {
  llvm::SmallString<128> path;
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("snnc-part", "o", path)) {
    error = "cannot create a temporary object file: " + ec.message();
    return failure();
  }
  into.push_back(std::string(path));
  return success();
}

LogicalResult mlir::snn::HostObjects::addSide(ModuleOp side, bool cudaSide,
                                              std::string &error) {
  Side &s = sides[cudaSide];
  auto tm = hostMachine(error, cpu);
  auto tm0 = hostMachine(error, cpu, llvm::CodeGenOptLevel::None);
  if (!tm || !tm0)
    return failure();
  // A context of its own: the two sides compile at once on two threads.
  llvm::LLVMContext ctx;
  s.rows = rowsOf(entries, cudaSide);
  std::unique_ptr<llvm::Module> m =
      translateSide(side, ctx, *tm, cudaSide, s.rows, error);
  if (!m)
    return failure();
  // The CUDA side's code outside its glue is only the kernels' binaries and
  // their loading: the split comes first and O3 skips the glue's
  // module-level analyses; the CPU side's nests are optimized with their
  // callers in view.
  if (!cudaSide)
    optimize(*m, *tm);
  std::unique_ptr<llvm::Module> code =
      splitGlue(*m, cudaSide ? "snnc.cuda." : "snnc.cpu.");
  if (cudaSide)
    optimize(code ? *code : *m, *tm);
  llvm::Module *glue = code ? m.get() : nullptr;
  if (failed(temporary(s.objects, error)) ||
      failed(writeObject(code ? *code : *m, *tm, s.objects.back(), error)))
    return failure();
  if (glue && (failed(temporary(s.objects, error)) ||
               failed(writeObject(*glue, *tm0, s.objects.back(), error))))
    return failure();
  s.added = true;
  return success();
}

LogicalResult
mlir::snn::HostObjects::addTables(const std::string &modelInfo,
                                  llvm::ArrayRef<DenseElementsAttr> paramInits,
                                  const std::string &onnxModel,
                                  std::string &error) {
  auto tm = hostMachine(error, cpu, llvm::CodeGenOptLevel::None);
  if (!tm)
    return failure();
  llvm::LLVMContext ctx;
  llvm::Module m("snnc_tables", ctx);
  m.setTargetTriple(tm->getTargetTriple());
  m.setDataLayout(tm->createDataLayout());
  std::vector<Row> rows;
  for (const Side &side : sides)
    if (side.added)
      rows.insert(rows.end(), side.rows.begin(), side.rows.end());
  ::addTables(m, rows, modelInfo, paramInits, onnxModel);
  if (failed(temporary(tableObjects, error)))
    return failure();
  return writeObject(m, *tm, tableObjects.back(), error);
}

std::vector<std::string> mlir::snn::HostObjects::objects() const {
  std::vector<std::string> all(tableObjects);
  for (const Side &side : sides)
    all.insert(all.end(), side.objects.begin(), side.objects.end());
  return all;
}

LogicalResult mlir::snn::HostObjects::join(const std::string &path,
                                           std::string &error) const {
  return joinObjects(objects(), path, error);
}

bool mlir::snn::isKnownCPU(const std::string &cpu) {
  if (cpu == "host")
    return true;
  std::string error;
  auto tm = hostMachine(error, "host");
  return tm && tm->getMCSubtargetInfo()->isCPUStringValid(cpu);
}
