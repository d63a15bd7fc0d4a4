//===- Pipelines.h - snnc pass pipelines --------------------------*- C++ -*-===//
//
// The stages of DESIGN.md's data flow, each a function that appends passes:
//   train    : snn-build-training-graph
//   selected : the neighborhood-selection slot, then snn-verify-neighborhood
//   fused    : snn-fuse-time-loop
//   loops    : time loops, runtime calls, loops, bufferization (memref + scf)
//   llvm     : the LLVM dialect, ready for translation
// and, for the CUDA side of a trainer (a copy of the module after `train`
// with `snn.neuron_block = 1`, through selected/fused/loops as above):
//   gpu      : snn-prepare-gpu, parallel loops -> gpu.launch -> gpu.func
//   ptx      : kernels -> NVVM -> PTX in a gpu.binary
//   llvm     : the host side -> LLVM dialect (launches via mgpu* calls)
//
//===----------------------------------------------------------------------===//
#ifndef SNNC_COMPILER_PIPELINES_PIPELINES_H
#define SNNC_COMPILER_PIPELINES_PIPELINES_H

#include "dialects/SNN/IR/SNNOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/LLVM.h"

#include <string>
#include <vector>

namespace mlir::snn {

struct TrainingOptions {
  /// Clip bound b of eq. (17); < 0 keeps the model's (or the default 10).
  float naClip = -1.0f;
  /// 0 disables gradient-norm clipping.
  float maxGradNorm = 0.0f;
  /// < 0 / empty: the model's settings (snn.weight_decay, snn.optimizer,
  /// snn.momentum, snn.nesterov), else PyTorch's defaults.
  float weightDecay = -1.0f;
  std::string optimizer;
  float momentum = -1.0f;
  std::string nesterov;
  /// The pass pipeline placed in the neighborhood-selection slot (nested on
  /// func.func). The default holds every built-in strategy; each lowers
  /// the snn.na_backward ops that name it (sns, pairs, normalized-sns), so
  /// that the model's snn.neighborhood setting alone picks one.
  std::string neighborhood = kBuiltinStrategies;
  static constexpr const char *kBuiltinStrategies =
      "snn-neighborhood-sns,snn-neighborhood-pairs,"
      "snn-neighborhood-normalized-sns";
  /// The strategy named on every snn.na_backward; empty keeps the model's
  /// `snn.neighborhood` setting (else "sns").
  std::string selection;
  /// The training methods whose steps are built (compiler/Training/
  /// Methods.h; snnc --methods), each its own function (train_step for na,
  /// train_step_stbp for stbp); eval_step comes with the first.
  std::vector<std::string> methods = {"na", "stbp"};
  /// STBP's surrogate: "rect" (stbpWidth) or "sigmoid" (stbpScale,
  /// stbpTemperature); see parseSTBPSurrogate.
  std::string stbpSurrogate = "rect";
  float stbpWidth = 1.0f, stbpScale = 5.0f, stbpTemperature = 3.0f;
  bool stbpDetachReset = false;
};

/// Reads `rect:WIDTH` or `sigmoid:SCALE,TEMPERATURE` (snnc
/// --stbp-surrogate; the numbers may be left out: rect, sigmoid) into
/// `opts`; an empty string names what is wrong.
std::string parseSTBPSurrogate(llvm::StringRef spec, TrainingOptions &opts);

/// Appends snn-build-training-graph.
void buildTrainStage(OpPassManager &pm, const TrainingOptions &opts);
/// Appends the neighborhood-selection slot and its verifier.
LogicalResult buildSelectedStage(OpPassManager &pm, const TrainingOptions &opts,
                                 llvm::raw_ostream &errors);
/// Appends the time-loop fusion.
void buildFusedStage(OpPassManager &pm);
/// Appends the lowering to scf loops on memrefs (bufferized).
void buildLoopsStage(OpPassManager &pm);
/// Appends the lowering of loops on memrefs to the LLVM dialect.
void buildLLVMStage(OpPassManager &pm);

struct GPUOptions {
  /// The PTX target; the driver JIT-compiles it for the GPU at hand.
  std::string chip = "sm_80";
  std::string features = "+ptx80";
  /// Threads per block of every neuron loop.
  int64_t blockSize = 256;
  /// See findCUDAToolkit().
  std::string toolkit = "/usr/local/cuda";
  /// The CUDA side's #snn.target fields (snnc --gpu-chain-group,
  /// --gpu-conv-grad-input).
  int64_t chainGroup = 6;
  bool convGradInputGemm = false;
};

/// Appends snn-prepare-gpu and the mapping of parallel loops to outlined
/// gpu.func kernels.
LogicalResult buildGPUStage(OpPassManager &pm, const GPUOptions &opts,
                            llvm::raw_ostream &errors);
/// Appends the lowering of the kernels to PTX (gpu.binary, format isa).
LogicalResult buildPTXStage(OpPassManager &pm, const GPUOptions &opts,
                            llvm::raw_ostream &errors);
/// Appends the lowering of the GPU module's host code to the LLVM dialect.
LogicalResult buildGPUHostLLVMStage(OpPassManager &pm,
                                    llvm::raw_ostream &errors);
/// The CUDA toolkit whose libdevice (CUDA's math library) the kernels link:
/// $CUDA_PATH, $CUDA_HOME or /usr/local/cuda; empty when none has it (the
/// GPU part of a trainer is then left out).
std::string findCUDAToolkit();

/// The stages of a trainer's compilation, in order (snnc --emit).
enum class Stage { Train, Selected, Fused, Loops, GPU, PTX, LLVM };

/// The CUDA side's #snn.target: one neuron per thread, the chain group and
/// the conv-grad-input path of `o`.
TargetAttr cudaTarget(MLIRContext *ctx, const GPUOptions &o);

/// Runs the stages through `last` on `module`, the CPU side, and, when
/// `cuda` is not null, on the CUDA side: a copy of the module made after the
/// train stage with cudaTarget(), which also goes through gpu and ptx; at
/// the llvm stage both sides are in the LLVM dialect (the CUDA side's host
/// code launching its kernels). `configure` adds command-line pass-manager
/// settings (IR printing, timing, the verifier after every pass: off by
/// default, each stage's result is verified once) to the pass manager of
/// every stage; the
/// diagnostics of a failing stage go to the context's handler. The one
/// orchestration of snnc, the JIT tests and snn-opt's named pipelines.
/// `lowered` (may be null), when `last` is the llvm stage, is called with
/// each side as soon as it is in the LLVM dialect (true: the CUDA side), on
/// that side's thread: snnc compiles the CPU side to an object while the
/// CUDA side is still being lowered.
LogicalResult
runStages(ModuleOp module, OwningOpRef<ModuleOp> *cuda,
          const TrainingOptions &training, const GPUOptions &gpu, Stage last,
          function_ref<LogicalResult(PassManager &)> configure,
          llvm::raw_ostream &errors,
          function_ref<LogicalResult(ModuleOp, bool cudaSide)> lowered = {});

/// Adds every dialect and LLVM IR translation that snnc's pipelines produce
/// or consume (shared by snnc, the JIT tests and other drivers).
void registerSNNCDialects(DialectRegistry &registry);

/// Registers every snn pass and the named pipelines snn-cpu-pipeline and
/// snn-cuda-pipeline (snn-opt, snnc and pass plugins see the same set).
void registerAllSNNPasses();

} // namespace mlir::snn

#endif
