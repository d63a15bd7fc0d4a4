//===- Pipelines.cpp - snnc's stages and their registration ----------------===//
#include "compiler/Pipelines/Pipelines.h"
#include "compiler/Conversion/Passes.h"
#include "compiler/Neighborhood/Passes.h"
#include "compiler/Training/Passes.h"
#include "compiler/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/FileSystem.h"

#include <cmath>
#include <cstdlib>
#include <thread>

using namespace mlir;
using namespace mlir::snn;

void mlir::snn::buildTrainStage(OpPassManager &pm, const TrainingOptions &o) {
  BuildTrainingGraphPassOptions opts;
  if (o.naClip > 0.0f)
    opts.naClip = o.naClip;
  opts.maxGradNorm = o.maxGradNorm;
  if (!o.selection.empty())
    opts.neighborhood = o.selection;
  opts.weightDecay = o.weightDecay;
  opts.optimizer = o.optimizer;
  opts.momentum = o.momentum;
  opts.nesterov = o.nesterov;
  opts.stbpSurrogate = o.stbpSurrogate;
  opts.stbpWidth = o.stbpWidth;
  opts.stbpScale = o.stbpScale;
  opts.stbpTemperature = o.stbpTemperature;
  opts.stbpDetachReset = o.stbpDetachReset;
  for (auto [i, method] : llvm::enumerate(o.methods)) {
    BuildTrainingGraphPassOptions m = opts;
    m.backward = method;
    m.buildEval = i == 0;
    pm.addPass(createBuildTrainingGraphPass(m));
  }
  // The forward function is only the template of train_step and eval_step.
  pm.addPass(createSymbolDCEPass());
}

std::string mlir::snn::parseSTBPSurrogate(llvm::StringRef spec,
                                          TrainingOptions &o) {
  auto [kind, args] = spec.split(':');
  SmallVector<StringRef> nums;
  if (!args.empty())
    args.split(nums, ',');
  std::vector<float> values;
  for (StringRef n : nums) {
    double v;
    if (n.trim().getAsDouble(v) || !std::isfinite(v) || !(v > 0))
      return "'" + n.str() + "' is not a positive number";
    values.push_back(static_cast<float>(v));
  }
  if (kind == "rect") {
    if (values.size() > 1)
      return "rect takes one number, the width (rect:1)";
    o.stbpSurrogate = "rect";
    if (!values.empty())
      o.stbpWidth = values[0];
    return "";
  }
  if (kind == "sigmoid") {
    if (values.size() != 0 && values.size() != 2)
      return "sigmoid takes two numbers, scale and temperature (sigmoid:5,3)";
    o.stbpSurrogate = "sigmoid";
    if (!values.empty()) {
      o.stbpScale = values[0];
      o.stbpTemperature = values[1];
    }
    return "";
  }
  return "unknown surrogate '" + kind.str() + "' (rect:WIDTH or "
         "sigmoid:SCALE,TEMPERATURE)";
}

LogicalResult mlir::snn::buildSelectedStage(OpPassManager &pm,
                                            const TrainingOptions &o,
                                            llvm::raw_ostream &errors) {
  // Parsed first into an op-agnostic pass manager, which accepts any pass,
  // so that a pass or pipeline that does not run on func.func is one line
  // here instead of MLIR's fatal "Can't add pass" when it joins the slot.
  OpPassManager probe;
  if (failed(parsePassPipeline(o.neighborhood, probe, errors))) {
    errors << "\nin the neighborhood-selection pipeline '" << o.neighborhood
           << "'";
    return failure();
  }
  for (Pass &pass : probe.getPasses()) {
    std::optional<StringRef> on = pass.getOpName();
    if (pass.getArgument().empty() || (on && *on != "func.func")) {
      errors << "snnc: error: --neighborhood '" << o.neighborhood
             << "': the neighborhood-selection slot holds passes on "
                "func.func only; ";
      if (pass.getArgument().empty())
        errors << "a nested pipeline is not one\n";
      else
        errors << "'" << pass.getArgument() << "' runs on " << *on << "\n";
      return failure();
    }
  }
  OpPassManager &slot = pm.nest<func::FuncOp>();
  if (failed(parsePassPipeline(o.neighborhood, slot, errors)))
    return failure();
  pm.addPass(createVerifyNeighborhoodPass());
  return success();
}

void mlir::snn::buildFusedStage(OpPassManager &pm) {
  pm.addNestedPass<func::FuncOp>(createFactorInputEncodingPass());
  pm.addNestedPass<func::FuncOp>(createFuseTimeLoopPass());
}

void mlir::snn::buildLoopsStage(OpPassManager &pm) {
  pm.addNestedPass<func::FuncOp>(createLowerTimeLoopPass());
  pm.addPass(createSNNToRuntimeCallsPass());
  pm.addPass(createSNNToLoopsPass());
  pm.addPass(createCanonicalizerPass());
  pm.addNestedPass<func::FuncOp>(createConvertElementwiseToLinalgPass());
  // One loop per fused LIF/PSC step instead of one per arith op.
  pm.addNestedPass<func::FuncOp>(createLinalgElementwiseOpFusionPass());
  // Step results are computed straight into their slot of the [T, ...]
  // result instead of a temporary that insert_slice copies.
  pm.addPass(bufferization::createEmptyTensorEliminationPass());
  bufferization::OneShotBufferizePassOptions buf;
  buf.bufferizeFunctionBoundaries = true;
  buf.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  buf.allowReturnAllocsFromLoops = true;
  pm.addPass(bufferization::createOneShotBufferizePass(buf));
  // Destination-passing ABI: the caller owns every tensor result's buffer
  // (appended after the inputs, in result order); scalars stay results.
  bufferization::BufferResultsToOutParamsPassOptions outParams;
  outParams.hoistStaticAllocs = true;
  outParams.modifyPublicFunctions = true;
  pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));
  // Upstream's buffer-deallocation pipeline, with the train step's one big
  // dealloc of owned, distinct buffers lowered directly
  // (snn-lower-static-deallocs) before the simplification, whose pairwise
  // alias queries are quadratic in the number of buffers.
  memref::ExpandReallocPassOptions expandRealloc;
  expandRealloc.emitDeallocs = false;
  pm.addPass(memref::createExpandReallocPass(expandRealloc));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(bufferization::createOwnershipBasedBufferDeallocationPass());
  pm.addPass(createCanonicalizerPass());
  pm.addNestedPass<func::FuncOp>(createLowerStaticDeallocsPass());
  pm.addPass(bufferization::createBufferDeallocationSimplificationPass());
  pm.addPass(bufferization::createLowerDeallocationsPass());
  pm.addPass(createCSEPass());
  pm.addPass(createCanonicalizerPass());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void mlir::snn::buildLLVMStage(OpPassManager &pm) {
  // Loops over neurons run on all cores (OpenMP, libomp at run time). The
  // memref lowering comes before the loops become branches, so that the
  // alloca scopes of the parallel bodies still hold one block.
  pm.addPass(createOutlineLoopNestsPass());
  pm.addNestedPass<func::FuncOp>(createCoarsenParallelLoopsPass());
  pm.addPass(createConvertSCFToOpenMPPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addNestedPass<func::FuncOp>(createSplitBlocksAtLoopsPass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertOpenMPToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

LogicalResult mlir::snn::buildGPUStage(OpPassManager &pm, const GPUOptions &o,
                                       llvm::raw_ostream &errors) {
  pm.addPass(createPrepareGPUPass());
  // One thread a neuron, `blockSize` threads a block; the tail block is
  // guarded by an scf.if rather than min/max bounds.
  std::string pipeline =
      "func.func(scf-parallel-loop-tiling{parallel-loop-tile-sizes=" +
      std::to_string(o.blockSize) +
      " no-min-max-bounds=true}, gpu-map-parallel-loops, "
      "convert-parallel-loops-to-gpu, lower-affine, canonicalize), "
      "snn-sink-into-launches, gpu-kernel-outlining, "
      "snn-name-gpu-kernels, canonicalize, snn-share-gpu-kernels";
  return parsePassPipeline(pipeline, pm, errors);
}

LogicalResult mlir::snn::buildPTXStage(OpPassManager &pm, const GPUOptions &o,
                                       llvm::raw_ostream &errors) {
  std::string pipeline =
      "nvvm-attach-target{chip=" + o.chip + " features=" + o.features +
      " O=3}, gpu.module(convert-scf-to-cf, convert-gpu-to-nvvm, "
      "canonicalize, cse, reconcile-unrealized-casts), "
      "gpu-module-to-binary{format=isa toolkit=" + o.toolkit + "}";
  return parsePassPipeline(pipeline, pm, errors);
}

LogicalResult mlir::snn::buildGPUHostLLVMStage(OpPassManager &pm,
                                               llvm::raw_ostream &errors) {
  return parsePassPipeline(
      "expand-strided-metadata, lower-affine, convert-scf-to-cf, gpu-to-llvm, "
      "finalize-memref-to-llvm, convert-math-to-llvm, convert-arith-to-llvm, "
      "convert-cf-to-llvm, convert-func-to-llvm, reconcile-unrealized-casts",
      pm, errors);
}

std::string mlir::snn::findCUDAToolkit() {
  std::vector<std::string> roots;
  for (const char *var : {"CUDA_PATH", "CUDA_HOME"})
    if (const char *v = std::getenv(var))
      roots.push_back(v);
  roots.push_back("/usr/local/cuda");
  for (const std::string &root : roots) {
    if (llvm::sys::fs::exists(root + "/nvvm/libdevice/libdevice.10.bc"))
      return root;
  }
  return "";
}

TargetAttr mlir::snn::cudaTarget(MLIRContext *ctx, const GPUOptions &o) {
  TargetAttr cpu = TargetAttr::get(ctx, 256, 6, 8, ConvGradInput::library);
  return TargetAttr::get(ctx, /*neuronBlock=*/1, o.chainGroup,
                         cpu.getMaxRegisterSteps(),
                         o.convGradInputGemm ? ConvGradInput::gemm
                                             : ConvGradInput::library);
}

LogicalResult mlir::snn::runStages(
    ModuleOp module, OwningOpRef<ModuleOp> *cuda,
    const TrainingOptions &training, const GPUOptions &gpu, Stage last,
    function_ref<LogicalResult(PassManager &)> configure,
    llvm::raw_ostream &errors,
    function_ref<LogicalResult(ModuleOp, bool)> lowered) {
  MLIRContext *ctx = module.getContext();
  // One pass manager per stage, so that every stage can be printed. The
  // verifier runs once on each stage's result; after every pass (MLIR's
  // default, a third of a deep network's compile time) only where
  // `configure` enables it (snnc --verify-each, the JIT tests).
  auto stage = [&](ModuleOp m,
                   function_ref<LogicalResult(PassManager &)> build) {
    PassManager pm(ctx);
    pm.enableVerifier(false);
    if (failed(configure(pm)) || failed(build(pm)) || failed(pm.run(m)))
      return failure();
    return verify(m);
  };
  if (failed(stage(module, [&](PassManager &pm) {
        buildTrainStage(pm, training);
        return success();
      })))
    return failure();
  if (last == Stage::Train)
    return success();
  if (!cuda && (last == Stage::GPU || last == Stage::PTX)) {
    errors << "the gpu and ptx stages need the CUDA side";
    return failure();
  }
  // The stages one side (the CPU or the CUDA copy) goes through after the
  // training graph, up to `last`.
  auto chain = [&](ModuleOp m, bool gpuSide, llvm::raw_ostream &err) {
    if (failed(stage(m, [&](PassManager &pm) {
          return buildSelectedStage(pm, training, err);
        })))
      return failure();
    if (last == Stage::Selected)
      return success();
    if (failed(stage(m, [&](PassManager &pm) {
          buildFusedStage(pm);
          return success();
        })))
      return failure();
    if (last == Stage::Fused)
      return success();
    if (failed(stage(m, [&](PassManager &pm) {
          buildLoopsStage(pm);
          return success();
        })))
      return failure();
    if (last == Stage::Loops)
      return success();
    // A side in the LLVM dialect goes on to `lowered`, on its own thread.
    auto done = [&](LogicalResult r) {
      return failed(r) || !lowered ? r : lowered(m, gpuSide);
    };
    if (!gpuSide)
      return last == Stage::LLVM ? done(stage(m,
                                              [&](PassManager &pm) {
                                                buildLLVMStage(pm);
                                                return success();
                                              }))
                                 : success();
    if (failed(stage(m, [&](PassManager &pm) {
          return buildGPUStage(pm, gpu, err);
        })))
      return failure();
    if (last == Stage::GPU)
      return success();
    if (failed(stage(m, [&](PassManager &pm) {
          return buildPTXStage(pm, gpu, err);
        })))
      return failure();
    if (last == Stage::PTX)
      return success();
    return done(stage(m, [&](PassManager &pm) {
      return buildGPUHostLLVMStage(pm, err);
    }));
  };
  if (!cuda)
    return chain(module, false, errors);
  *cuda = module.clone();
  (**cuda)->setAttr("snn.target", cudaTarget(ctx, gpu));
  // A full compile lowers the two sides at once, on two threads: they share
  // nothing but the context (thread-safe, every dialect loaded up front),
  // and each side's module-level passes run on one thread. A stage that is
  // printed runs one side after the other.
  if (last == Stage::LLVM && ctx->isMultithreadingEnabled()) {
    std::string cudaErrors;
    llvm::raw_string_ostream cudaErr(cudaErrors);
    LogicalResult cudaResult = failure();
    std::thread cudaThread(
        [&] { cudaResult = chain(**cuda, true, cudaErr); });
    LogicalResult cpuResult = chain(module, false, errors);
    cudaThread.join();
    errors << cudaErrors;
    return success(succeeded(cpuResult) && succeeded(cudaResult));
  }
  if (failed(chain(module, false, errors)))
    return failure();
  return chain(**cuda, true, errors);
}

void mlir::snn::registerSNNCDialects(DialectRegistry &registry) {
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registry.insert<SNNDialect>();
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerOpenMPDialectTranslation(registry);
  registerAllToLLVMIRTranslations(registry);
  registerAllGPUToLLVMIRTranslations(registry);
}

void mlir::snn::registerAllSNNPasses() {
  registerTrainingPasses();
  registerNeighborhoodPasses();
  registerTransformsPasses();
  registerConversionPasses();

  struct CUDAPipelineOptions
      : public PassPipelineOptions<CUDAPipelineOptions> {
    Option<int64_t> chainGroup{*this, "chain-group",
                               llvm::cl::desc("snnc --gpu-chain-group"),
                               llvm::cl::init(6)};
    Option<std::string> convGradInput{
        *this, "conv-grad-input",
        llvm::cl::desc("snnc --gpu-conv-grad-input: cudnn or gemm"),
        llvm::cl::init("cudnn")};
    Option<int64_t> blockSize{*this, "block-size",
                              llvm::cl::desc("snnc --gpu-block"),
                              llvm::cl::init(256)};
  };
  PassPipelineRegistration<CUDAPipelineOptions>(
      "snn-cuda-pipeline",
      "The CUDA side of a trainer up to the outlined kernels (snnc "
      "--emit=gpu --target=cuda): the #snn.target of the CUDA side, forward "
      "+ loss -> training graph -> SNS -> fusion -> loops -> gpu.launch -> "
      "gpu.func kernels",
      [](OpPassManager &pm, const CUDAPipelineOptions &opts) {
        TrainingOptions o;
        GPUOptions g;
        g.chainGroup = opts.chainGroup;
        g.convGradInputGemm = opts.convGradInput == "gemm";
        g.blockSize = opts.blockSize;
        buildTrainStage(pm, o);
        SetTargetPassOptions t;
        t.neuronBlock = 1;
        t.chainGroup = g.chainGroup;
        t.convGradInput = g.convGradInputGemm ? "gemm" : "library";
        pm.addPass(createSetTargetPass(t));
        (void)buildSelectedStage(pm, o, llvm::errs());
        buildFusedStage(pm);
        buildLoopsStage(pm);
        (void)buildGPUStage(pm, g, llvm::errs());
      });
  PassPipelineRegistration<>(
      "snn-cpu-pipeline",
      "The whole CPU pipeline with default settings: forward + loss -> "
      "training graph -> SNS -> fusion -> loops -> LLVM dialect",
      [](OpPassManager &pm) {
        TrainingOptions o;
        buildTrainStage(pm, o);
        (void)buildSelectedStage(pm, o, llvm::errs());
        buildFusedStage(pm);
        buildLoopsStage(pm);
        buildLLVMStage(pm);
      });
}
