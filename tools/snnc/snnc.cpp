//===- snnc.cpp - the snn compiler driver -----------------------------------===//
//
//   snnc model.{onnx,onnxtxt,mlir} [-o trainer] [--emit=STAGE]
//
// STAGE: snn | train | selected | fused | loops | gpu | ptx | llvm | obj | exe
// (default); --target=cuda shows the CUDA side of selected/fused/loops.
// Each stage stops the pipeline there and prints (or writes) the result, as
// the Toy tutorial's `-emit=` action does.
//
//===----------------------------------------------------------------------===//
#include "compiler/Import/NIRReader.h"
#include "compiler/Import/ONNXImporter.h"
#include "compiler/Pipelines/Pipelines.h"
#include "compiler/Training/Methods.h"
#include "compiler/Target/ModelInfo.h"
#include "compiler/Target/ObjectEmitter.h"
#include "dialects/SNN/IR/SNNDialect.h"
#include "dialects/SNN/IR/SNNOps.h"
#include "runtime/core/OutputFile.h"
#include "runtime/nir/NIRWriter.h"

#include <onnx/onnx_pb.h>

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"
#include "mlir/Tools/Plugins/PassPlugin.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace mlir;
namespace cl = llvm::cl;

namespace {

enum class Stage {
  Onnx, Nir, Snn, Train, Selected, Fused, Loops, GPU, PTX, LLVM, Obj, Exe
};
enum class Target { CPU, CUDA };

cl::opt<std::string> inputFile(cl::Positional, cl::desc("<model>"),
                               cl::Required);
cl::opt<std::string> outputFile("o", cl::desc("Output file"),
                                cl::value_desc("path"), cl::init(""));
cl::opt<Stage> emit(
    "emit", cl::desc("Stop after this stage and write its result"),
    cl::init(Stage::Exe),
    cl::values(
        clEnumValN(Stage::Onnx, "onnx",
                   "the checked model as binary ONNX (converts .onnxtxt)"),
        clEnumValN(Stage::Nir, "nir",
                   "the model as a NIR 1.0 graph (HDF5; converts ONNX)"),
        clEnumValN(Stage::Snn, "snn", "the imported forward graph (snn IR)"),
        clEnumValN(Stage::Train, "train", "train_step / eval_step with NA"),
        clEnumValN(Stage::Selected, "selected",
                   "after the neighborhood-selection slot"),
        clEnumValN(Stage::Fused, "fused", "after input-encoding factoring and time-loop fusion"),
        clEnumValN(Stage::Loops, "loops", "loops on memrefs"),
        clEnumValN(Stage::GPU, "gpu",
                   "CUDA side: host code launching outlined gpu.func kernels"),
        clEnumValN(Stage::PTX, "ptx", "CUDA side: the kernels' PTX"),
        clEnumValN(Stage::LLVM, "llvm", "LLVM IR"),
        clEnumValN(Stage::Obj, "obj", "a host object file"),
        clEnumValN(Stage::Exe, "exe", "a trainer executable")));
cl::opt<std::string> neighborhood(
    "neighborhood",
    cl::desc("Pass pipeline in the neighborhood-selection slot (on func.func)"),
    cl::init(snn::TrainingOptions::kBuiltinStrategies));
cl::opt<std::string> selection(
    "selection",
    cl::desc("Strategy named on every snn.na_backward (default: the model's "
             "snn.neighborhood setting, else sns)"),
    cl::init(""));
cl::opt<float> naClip("na-clip", cl::desc("NA clip bound b (eq. 17)"),
                      cl::init(-1.0f));
cl::opt<float> maxGradNorm("max-grad-norm",
                           cl::desc("Gradient-norm clipping (0: off)"),
                           cl::init(0.0f));
cl::opt<float> weightDecay(
    "weight-decay",
    cl::desc("Weight decay: decoupled for AdamW, added to the gradient for "
             "Adam and SGD (default: the model's snn.weight_decay, else "
             "0.01 for AdamW and 0 for Adam and SGD, as PyTorch)"),
    cl::init(-1.0f));
cl::opt<std::string> optimizer(
    "optimizer",
    cl::desc("The update compiled into the train step: adamw (default), "
             "adam or sgd (default: the model's snn.optimizer)"),
    cl::init(""));
cl::opt<float> momentum("momentum",
                        cl::desc("SGD momentum (default: the model's "
                                 "snn.momentum, else 0)"),
                        cl::init(-1.0f));
cl::opt<bool> nesterov("nesterov",
                       cl::desc("SGD with Nesterov momentum (default: the "
                                "model's snn.nesterov)"),
                       cl::init(false));
cl::list<std::string> methods(
    "methods", cl::CommaSeparated,
    cl::desc("The training methods whose steps the trainer holds, by name "
             "(default na,stbp; trainer --backward picks one of them)"));
cl::opt<std::string> stbpSurrogate(
    "stbp-surrogate",
    cl::desc("The STBP step's surrogate of ds/du: rect:WIDTH (the default, "
             "rect:1) or sigmoid:SCALE,TEMPERATURE (NA_SPEC section 6: "
             "sigmoid:5,3 is SCALE * sig'(u - theta) with sig(x) = 1/(1 + "
             "exp(-x/TEMPERATURE)))"),
    cl::init("rect:1"));
cl::opt<bool> stbpDetachReset(
    "stbp-detach-reset",
    cl::desc("The STBP step passes no gradient through the reset's "
             "dependence on the spike (NA_SPEC section 8)"),
    cl::init(false));
cl::opt<Target> target(
    "target",
    cl::desc("Which side --emit=selected|fused|loops|llvm shows"),
    cl::init(Target::CPU),
    cl::values(clEnumValN(Target::CPU, "cpu", "the CPU train step"),
               clEnumValN(Target::CUDA, "cuda", "the CUDA train step")));
cl::opt<bool> ideOfficialBNStats(
    "ide-official-bn-stats",
    cl::desc("IDE: move the BatchNorm running statistics twice per step, as "
             "the official code does (its save/restore is a no-op, IDE_SPEC "
             "sections 8 and 10): r := (1-m)^2 r + (1-(1-m)^2) s (default: "
             "once, as intended)"),
    cl::init(false));
cl::opt<std::string> ideJacobian(
    "ide-jacobian",
    cl::desc("IDE, multi-layer modules (ai.snn.FeedbackRing): the Jacobian "
             "of the linear system, overriding the model's 'jacobian': eval "
             "(f with BatchNorm on the running statistics the simulation "
             "used, at the rates), official (the official code's: at f(rates) "
             "with the statistics f has moved, IDE_SPEC section 10.4) or "
             "train (f's own, training-mode BatchNorm, batch-coupled)"),
    cl::init(""));
cl::opt<bool> verifyEach(
    "verify-each",
    cl::desc("Run the IR verifier after every pass, as mlir-opt does, to find "
             "the pass that breaks the IR (default: once after each stage; "
             "per pass it is a third of a deep network's compile time)"),
    cl::init(false));
cl::opt<bool> withCUDA(
    "cuda",
    cl::desc("Compile the CUDA train step into objects and trainers too "
             "(needs a CUDA toolkit's libdevice; default on)"),
    cl::init(true));
cl::opt<std::string> gpuChip("gpu-chip",
                             cl::desc("PTX target of the CUDA kernels"),
                             cl::init("sm_80"));
cl::opt<int> gpuBlock("gpu-block", cl::desc("Threads per block of the neuron loops"),
                      cl::init(256));
cl::opt<int> gpuChainGroup(
    "gpu-chain-group",
    cl::desc("NA kernel for T > 8 on the GPU: advance the SNS chains in "
             "groups of N in registers (default 6, by measurement; 1: one "
             "chain at a time)"),
    cl::init(6));
cl::opt<std::string> gpuConvGradInput(
    "gpu-conv-grad-input",
    cl::desc("Gradient through a convolution on the GPU: cudnn (the "
             "default) or gemm (one batched cuBLAS GEMM into the im2col "
             "matrix's gradient and a generated col2im kernel; on an H100 "
             "4% faster for the MNIST CNN at T = 5, 4% slower at T = 30, "
             "38% slower for CIFAR-10 AlexNet)"),
    cl::init("cudnn"));
cl::opt<std::string> driver(
    "driver",
    cl::desc("The main program --emit=exe links: trainer (default) or "
             "single-neuron (the NA paper's single-neuron experiment)"),
    cl::init("trainer"));
cl::opt<std::string> cpuName(
    "cpu",
    cl::desc("Processor the trainer's CPU code is tuned for: host (the "
             "default: this machine's CPU and features) or an LLVM CPU name "
             "(x86-64-v3 runs on any AVX2 machine, x86-64-v4 on any AVX-512 "
             "one, x86-64 anywhere) for trainers carried to other machines"),
    cl::init("host"));
cl::opt<double> nirDt(
    "nir-dt",
    cl::desc("NIR input: the simulation step in the file's time unit "
             "(default: inferred as tau_mem / r, snnTorch's convention; "
             "Norse writes with 1e-3, SpikingJelly with 1e-4)"),
    cl::init(0.0));
cl::opt<int64_t> nirSteps("T",
                          cl::desc("NIR input: the number of time steps "
                                   "(NIR stores none)"),
                          cl::init(0));
cl::opt<int64_t> nirBatch("batch",
                          cl::desc("NIR input: the compiled batch size "
                                   "(default 64)"),
                          cl::init(64));
cl::opt<std::string> nirLoss(
    "loss",
    cl::desc("NIR input: the loss NIR lacks: van-rossum (default) or "
             "spike-count"),
    cl::init("van-rossum"));
cl::list<std::string> passPlugins("load-pass-plugin",
                                  cl::desc("Load a pass plugin library"));

int fail(const llvm::Twine &message) {
  llvm::errs() << "snnc: error: " << message << "\n";
  return 1;
}

/// Where the result goes: -o, else the stage's default ("-": stdout).
std::string outputPath() {
  if (!outputFile.empty())
    return outputFile;
  switch (emit) {
  case Stage::Onnx:
    return "model.onnx";
  case Stage::Nir:
    return "model.nir";
  case Stage::Obj:
    return "model.o";
  case Stage::Exe:
    return "trainer";
  default:
    return "-";
  }
}

/// Writes a text or binary result: to stdout for "-", else by the output
/// rules of runtime/core/OutputFile.h (atomic replace, devices written
/// through).
int writeResult(const std::string &bytes) {
  std::string path = outputPath();
  if (path == "-") {
    llvm::outs() << bytes;
    llvm::outs().flush();
    return 0;
  }
  snnrt::io::writeOutput(path, bytes);
  return 0;
}

int writeText(ModuleOp module) {
  std::string text;
  llvm::raw_string_ostream os(text);
  module.print(os);
  return writeResult(text);
}

/// The PTX of every kernel module (gpu.binary objects in isa format).
int writePTX(ModuleOp module) {
  std::string text;
  llvm::raw_string_ostream os(text);
  module.walk([&](gpu::BinaryOp binary) {
    for (Attribute a : binary.getObjects())
      if (auto object = dyn_cast<gpu::ObjectAttr>(a))
        os << "// gpu.module @" << binary.getSymName() << "\n"
           << object.getObject().getValue() << "\n";
  });
  return writeResult(text);
}

/// The directory holding libsnnrt.a and libsnntrainer.a: ../lib next to snnc.
std::string runtimeLibDir(const char *argv0) {
  std::string exe = llvm::sys::fs::getMainExecutable(
      argv0, reinterpret_cast<void *>(&runtimeLibDir));
  llvm::SmallString<256> dir(llvm::sys::path::parent_path(exe));
  llvm::sys::path::append(dir, "..", "lib");
  return std::string(dir);
}

int linkTrainer(const char *argv0, const std::vector<std::string> &objects,
                const std::string &output) {
  auto cxx = llvm::sys::findProgramByName("c++");
  if (!cxx)
    return fail("no C++ linker driver ('c++') on PATH to link the trainer");
  std::string lib = runtimeLibDir(argv0);
  std::string tmp = snnrt::io::temporaryPathFor(output);
  std::string main = driver == "single-neuron" ? "-lsnnsingleneuron"
                                               : "-lsnntrainer";
  std::vector<std::string> owned{*cxx};
  owned.insert(owned.end(), objects.begin(), objects.end());
  owned.push_back("-L" + lib);
  owned.push_back(main);
  for (const char *a : {"-lsnndata", "-lsnncore", "-lsnnnir", "-lsnnrt",
                        "-ldnnl", "-lonnx_proto", "-lprotobuf", "-lz"})
    owned.push_back(a);
  // HDF5 (the NIR export), as CMake found it.
  llvm::SmallVector<llvm::StringRef> hdf5;
  llvm::StringRef(SNNC_HDF5_LIBS).split(hdf5, ',', -1, false);
  for (llvm::StringRef l : hdf5)
    owned.push_back(l.str());
  for (const char *a : {"-L" SNNC_LIBOMP_DIR, "-lomp",
                        "-Wl,-rpath," SNNC_LIBOMP_DIR, "-pthread", "-o"})
    owned.push_back(a);
  owned.push_back(tmp);
  std::vector<llvm::StringRef> refs(owned.begin(), owned.end());
  std::string error;
  int rc = llvm::sys::ExecuteAndWait(*cxx, refs, std::nullopt, {}, 0, 0,
                                     &error);
  if (rc != 0) {
    llvm::sys::fs::remove(tmp);
    return fail("linking '" + output + "' failed" +
                (error.empty() ? "" : ": " + error));
  }
  snnrt::io::commitOutput(tmp, output, /*executable=*/true);
  return 0;
}

OwningOpRef<ModuleOp> loadModel(MLIRContext &ctx, std::string &onnxBytes) {
  llvm::StringRef ext = llvm::sys::path::extension(inputFile);
  if (ext == ".onnx" || ext == ".onnxtxt")
    return snn::importONNXFile(inputFile, ctx, &onnxBytes);
  if (ext == ".nir") {
    snn::NIROptions o;
    o.dt = nirDt;
    o.steps = nirSteps;
    o.batch = nirBatch;
    o.loss = nirLoss;
    std::string error;
    std::vector<std::string> notes;
    if (!snn::readNIR(inputFile, o, onnxBytes, error, notes)) {
      llvm::errs() << "snnc: error: " << error << "\n";
      return nullptr;
    }
    for (const std::string &n : notes)
      llvm::errs() << "snnc: note: " << n << "\n";
    std::string importError;
    std::string bytes = onnxBytes;
    auto m = snn::importONNX(bytes, /*text=*/false, ctx, importError,
                             &onnxBytes);
    if (!m)
      llvm::errs() << "snnc: error: " << inputFile
                   << ": the converted model does not import: "
                   << importError << "\n";
    return m;
  }
  if (ext == ".mlir") {
    llvm::SourceMgr sm;
    std::string text =
        snnrt::io::readInputFile(inputFile, snn::kMaxModelBytes, "the model");
    sm.AddNewSourceBuffer(llvm::MemoryBuffer::getMemBufferCopy(text, inputFile),
                          llvm::SMLoc());
    return parseSourceFile<ModuleOp>(sm, &ctx);
  }
  llvm::errs() << "snnc: error: '" << inputFile
               << "': unknown model format (expected .onnx, .onnxtxt, .nir "
                  "or .mlir)\n";
  return nullptr;
}

} // namespace

/// The steps a trainer exports: one per method, and eval_step.
std::vector<snn::EntryPoint>
entryPoints(const std::vector<std::string> &methodNames) {
  std::vector<snn::EntryPoint> entries;
  for (const std::string &name : methodNames)
    entries.push_back({"train:" + name,
                       snn::lookupTrainingMethod(name)->trainStep});
  entries.push_back({"eval", "eval_step"});
  return entries;
}

int compile(int argc, char **argv) {
  registerAllPasses();
  snn::registerAllSNNPasses();
  registerPassManagerCLOptions();
  registerMLIRContextCLOptions();
  registerAsmPrinterCLOptions();
  registerDefaultTimingManagerCLOptions();
  // --help lists snnc's own options; --help-hidden also the MLIR and LLVM
  // ones (--mlir-print-ir-after-all, ...), which all still work.
  static cl::OptionCategory snncOptions("snnc options");
  auto show = [&](auto &...options) { (options.addCategory(snncOptions), ...); };
  show(inputFile, outputFile, emit, neighborhood, selection, naClip,
       maxGradNorm, weightDecay, optimizer, momentum, nesterov, methods, stbpSurrogate, stbpDetachReset, target, withCUDA, gpuChip, gpuBlock,
       gpuChainGroup, gpuConvGradInput, driver, cpuName, nirDt, nirSteps,
       nirBatch, nirLoss, passPlugins);
  cl::HideUnrelatedOptions(snncOptions);
  cl::ParseCommandLineOptions(argc, argv,
                              "snnc: compile a spiking network into a trainer\n"
                              "(--help-hidden: the MLIR and LLVM options too)\n");
  if (gpuBlock < 1 || gpuBlock > 1024)
    return fail("--gpu-block must be from 1 to 1024 threads, not " +
                std::to_string(gpuBlock));
  if (gpuChainGroup < 1 || gpuChainGroup > 32)
    return fail("--gpu-chain-group must be from 1 to 32, not " +
                std::to_string(gpuChainGroup));
  if (gpuConvGradInput != "gemm" && gpuConvGradInput != "cudnn")
    return fail("--gpu-conv-grad-input must be gemm or cudnn, not '" +
                gpuConvGradInput + "'");
  if (!snn::isKnownCPU(cpuName))
    return fail("--cpu '" + cpuName +
                "' is not a CPU LLVM knows (host, x86-64, x86-64-v2, "
                "x86-64-v3, x86-64-v4, skylake-avx512, znver4, ...)");
  snn::TrainingOptions opts;
  if (std::string problem = snn::parseSTBPSurrogate(stbpSurrogate, opts);
      !problem.empty())
    return fail("--stbp-surrogate '" + stbpSurrogate + "': " + problem);
  std::vector<std::string> methodList(methods.begin(), methods.end());
  // Without --methods: NA and STBP, or IDE alone for a model whose spiking
  // layers are all feedback modules (decided after the import).
  const bool defaultMethods = methodList.empty();
  if (methodList.empty())
    methodList = {"na", "stbp"};
  for (size_t i = 0; i < methodList.size(); ++i) {
    if (!snn::lookupTrainingMethod(methodList[i])) {
      std::string known;
      for (const std::string &m : snn::trainingMethodNames())
        known += (known.empty() ? "" : ", ") + m;
      return fail("--methods: unknown training method '" + methodList[i] +
                  "' (" + known + ")");
    }
    for (size_t j = 0; j < i; ++j)
      if (methodList[j] == methodList[i])
        return fail("--methods: '" + methodList[i] + "' is given twice");
  }
  if (driver == "single-neuron" &&
      (std::find(methodList.begin(), methodList.end(), "na") == methodList.end() ||
       std::find(methodList.begin(), methodList.end(), "stbp") == methodList.end()))
    return fail("--driver=single-neuron compares NA with STBP: --methods "
                "must hold na and stbp");
  if (driver != "trainer" && driver != "single-neuron")
    return fail("--driver must be trainer or single-neuron, not '" + driver +
                "'");
  // Every output is checked before any work: no compile ends in a path
  // that cannot be written, and no output replaces an input.
  std::vector<std::string> inputs{inputFile};
  inputs.insert(inputs.end(), passPlugins.begin(), passPlugins.end());
  if (outputPath() != "-")
    snnrt::io::checkOutput(outputPath(), "the output (-o)", inputs);
  for (const std::string &path : passPlugins) {
    auto plugin = PassPlugin::load(path);
    if (!plugin)
      return fail("cannot load pass plugin '" + path +
                  "': " + llvm::toString(plugin.takeError()));
    plugin->registerPassRegistryCallbacks();
  }

  DialectRegistry registry;
  snn::registerSNNCDialects(registry);
  MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();

  // --mlir-timing: one report over the import, every stage's passes, the
  // translation and the code generation.
  DefaultTimingManager timing;
  applyDefaultTimingManagerCLOptions(timing);
  TimingScope timingRoot = timing.getRootScope();
  TimingScope importTimer = timingRoot.nest("import (ONNX/NIR to snn IR)");
  std::string onnxBytes;
  OwningOpRef<ModuleOp> module = loadModel(ctx, onnxBytes);
  if (!module)
    return 1;
  if (emit == Stage::Onnx) {
    if (onnxBytes.empty())
      return fail("--emit=onnx needs an ONNX input");
    return writeResult(onnxBytes);
  }
  if (emit == Stage::Nir) {
    onnx::ModelProto model;
    if (onnxBytes.empty() || !model.ParseFromString(onnxBytes))
      return fail("--emit=nir needs an ONNX or NIR input");
    try {
      return writeResult(snnrt::writeNIR(model));
    } catch (const std::runtime_error &e) {
      return fail(inputFile + ": " + e.what());
    }
  }
  if (failed(verify(*module)))
    return 1;
  if (ideOfficialBNStats) {
    bool feedback = false;
    module->walk([&](Operation *op) {
      feedback |= isa<snn::FeedbackOp, snn::FeedbackRingOp>(op);
    });
    if (!feedback)
      return fail("--ide-official-bn-stats: '" + inputFile +
                  "' has no feedback module (ai.snn.Feedback) to train by "
                  "IDE");
    module->walk([&](snn::BatchNormOp bn) { bn.setUpdates(2); });
  }
  if (!ideJacobian.empty()) {
    std::optional<snn::IDEJacobian> j = snn::symbolizeIDEJacobian(ideJacobian);
    if (!j)
      return fail("--ide-jacobian: '" + ideJacobian +
                  "' is not eval, official or train");
    bool ring = false;
    module->walk([&](snn::FeedbackRingOp op) {
      op.setJacobian(*j);
      ring = true;
    });
    if (!ring)
      return fail("--ide-jacobian: '" + inputFile +
                  "' has no multi-layer feedback module (ai.snn.FeedbackRing)");
  }
  importTimer.stop();
  if (emit == Stage::Snn)
    return writeText(*module);

  auto forward = module->lookupSymbol<func::FuncOp>("forward");
  if (!forward)
    return fail("'" + inputFile + "' has no function @forward");
  {
    bool feedback = false, layers = false;
    forward.walk([&](Operation *op) {
      feedback |= isa<snn::FeedbackOp, snn::FeedbackRingOp>(op);
      layers |= isa<snn::NeuronOp>(op);
    });
    if (feedback && !layers) {
      if (defaultMethods)
        methodList = {"ide"};
      for (const std::string &m : methodList)
        if (m == "na" || m == "stbp")
          return fail("--methods: '" + m + "' trains spiking layers with a "
                      "PSC; every spiking layer of this model is a feedback "
                      "module (ai.snn.Feedback), which trains by 'ide'");
    }
  }
  if (auto b = forward->getAttrOfType<StringAttr>("snn.backward");
      b && std::find(methodList.begin(), methodList.end(), b.str()) ==
               methodList.end())
    return fail("the model's setting snn.backward = '" + b.str() +
                "' is not among the compiled methods (--methods)");
  FailureOr<std::string> info = snn::describeModel(forward);
  if (failed(info))
    return 1;
  SmallVector<DenseElementsAttr> paramInits;
  for (unsigned i = 0; i < forward.getNumArguments(); ++i)
    if (forward.getArgAttr(i, "snn.param"))
      paramInits.push_back(
          forward.getArgAttrOfType<DenseElementsAttr>(i, "snn.init"));

  opts.naClip = naClip;
  opts.maxGradNorm = maxGradNorm;
  opts.weightDecay = weightDecay;
  opts.optimizer = optimizer;
  opts.momentum = momentum;
  if (nesterov)
    opts.nesterov = "1";
  opts.neighborhood = neighborhood;
  opts.selection = selection;
  opts.stbpDetachReset = stbpDetachReset;
  opts.methods = methodList;

  // The CUDA side is a copy of the training graph lowered with one thread
  // per neuron; trainers hold both and pick at run time (--device).
  bool showCUDA = target == Target::CUDA || emit == Stage::GPU ||
                  emit == Stage::PTX;
  bool buildCUDA = showCUDA || (emit >= Stage::LLVM && withCUDA);
  snn::GPUOptions gpuOpts;
  gpuOpts.chip = gpuChip;
  gpuOpts.blockSize = gpuBlock;
  gpuOpts.toolkit = snn::findCUDAToolkit();
  gpuOpts.chainGroup = gpuChainGroup;
  gpuOpts.convGradInputGemm = gpuConvGradInput == "gemm";
  // libdevice is linked into the kernels at the PTX stage.
  if (buildCUDA && gpuOpts.toolkit.empty() && emit >= Stage::PTX) {
    if (showCUDA)
      return fail("no CUDA toolkit with nvvm/libdevice/libdevice.10.bc "
                  "($CUDA_PATH, $CUDA_HOME or /usr/local/cuda)");
    llvm::errs() << "snnc: note: no CUDA toolkit found; the trainer runs on "
                    "the CPU only\n";
    buildCUDA = false;
  }
  // IDE's feedback modules have no GPU lowering yet: their steps run on the
  // CPU (the GPU step would have to capture the solver loop in the CUDA
  // graph, issue 16).
  bool feedback = false;
  module->walk([&](Operation *op) {
    feedback |= isa<snn::FeedbackOp, snn::FeedbackRingOp>(op);
  });
  if (feedback && buildCUDA) {
    if (showCUDA)
      return fail("feedback modules (ai.snn.Feedback) have no CUDA lowering "
                  "yet; they compile for the CPU");
    llvm::errs() << "snnc: note: feedback modules (ai.snn.Feedback) run on "
                    "the CPU only for now; the trainer holds no CUDA step\n";
    buildCUDA = false;
  }
  // The stages (compiler/Pipelines), each printable with --emit.
  snn::Stage last = emit == Stage::Train      ? snn::Stage::Train
                    : emit == Stage::Selected ? snn::Stage::Selected
                    : emit == Stage::Fused    ? snn::Stage::Fused
                    : emit == Stage::Loops    ? snn::Stage::Loops
                    : emit == Stage::GPU      ? snn::Stage::GPU
                    : emit == Stage::PTX      ? snn::Stage::PTX
                                              : snn::Stage::LLVM;
  OwningOpRef<ModuleOp> cuda;
  // An object or a trainer: each side goes on from the LLVM dialect to its
  // objects on its own thread, the CPU side while the CUDA side is lowered.
  bool objects = emit == Stage::Obj || emit == Stage::Exe;
  snn::HostObjects host(entryPoints(methodList), cpuName);
  std::string sideErrors[2];
  auto lowered = [&](ModuleOp side, bool cudaSide) -> LogicalResult {
    TimingScope t = timingRoot.nest(
        cudaSide ? "LLVM IR, O3 and objects: CUDA side"
                 : "LLVM IR, O3 and objects: CPU side");
    return host.addSide(side, cudaSide, sideErrors[cudaSide]);
  };
  LogicalResult stages = snn::runStages(
      *module, buildCUDA ? &cuda : nullptr, opts, gpuOpts, last,
      [&](PassManager &pm) {
        if (failed(applyPassManagerCLOptions(pm)))
          return failure();
        pm.enableVerifier(verifyEach);
        pm.enableTiming(timingRoot);
        return success();
      },
      llvm::errs(),
      objects ? function_ref<LogicalResult(ModuleOp, bool)>(lowered)
              : nullptr);
  for (const std::string &e : sideErrors)
    if (!e.empty())
      return fail(e);
  if (failed(stages))
    return 1;
  if (emit == Stage::Train)
    return writeText(*module);
  if (emit == Stage::Selected || emit == Stage::Fused || emit == Stage::Loops ||
      emit == Stage::GPU)
    return writeText(showCUDA ? *cuda : *module);
  if (emit == Stage::PTX)
    return writePTX(*cuda);

  std::string error;
  if (emit == Stage::LLVM) {
    llvm::LLVMContext llvmCtx;
    TimingScope translateTimer =
        timingRoot.nest("translation to LLVM IR and LLVM's O3");
    auto llvmModule =
        snn::translateForHost(*module, cuda ? *cuda : ModuleOp(), llvmCtx,
                              entryPoints(methodList), *info, paramInits,
                              onnxBytes, error, cpuName);
    if (!llvmModule)
      return fail(error);
    std::string text;
    llvm::raw_string_ostream os(text);
    llvmModule->print(os, nullptr);
    return writeResult(text);
  }
  if (failed(host.addTables(*info, paramInits, onnxBytes, error)))
    return fail(error);
  if (emit == Stage::Obj) {
    TimingScope joinTimer = timingRoot.nest("joining the objects");
    std::string path = outputPath();
    std::string tmp = snnrt::io::temporaryPathFor(path);
    if (failed(host.join(tmp, error))) {
      llvm::sys::fs::remove(tmp);
      return fail(error);
    }
    snnrt::io::commitOutput(tmp, path);
    return 0;
  }
  std::string exe = outputPath();
  TimingScope linkTimer = timingRoot.nest("linking the trainer");
  return linkTrainer(argv[0], host.objects(), exe);
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  try {
    return compile(argc, argv);
  } catch (const snnrt::io::OutputError &e) {
    return fail(e.what());
  }
}
