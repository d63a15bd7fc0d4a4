//===- Passes.td - lowering of the snn dialect -----------------*- tablegen -*-===//
#ifndef SNNC_COMPILER_CONVERSION_PASSES_TD
#define SNNC_COMPILER_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def SetTargetPass : Pass<"snn-set-target", "ModuleOp"> {
  let summary = "Set the module's #snn.target (the kernel emitters' tuning knobs)";
  let description = [{
    Writes `snn.target = #snn.target<...>` with the given fields on the
    module: what snnc does to the CUDA side of a trainer (neuron-block=1),
    and how a test or snn-opt replays it. The attribute is verified: an
    out-of-range field is an error.
  }];
  let options = [
    Option<"neuronBlock", "neuron-block", "int64_t", "256",
           "Neurons per parallel iteration (1: one neuron per GPU thread)">,
    Option<"chainGroup", "chain-group", "int64_t", "6",
           "GPU NA kernel: chains of this many flips in registers">,
    Option<"maxRegisterSteps", "max-register-steps", "int64_t", "8",
           "GPU NA kernel: up to this T, all chains in one group">,
    Option<"convGradInput", "conv-grad-input", "std::string", "\"library\"",
           "library or gemm">,
  ];
  let dependentDialects = ["::mlir::snn::SNNDialect"];
}

def LowerTimeLoopPass : Pass<"snn-lower-time-loop", "func::FuncOp"> {
  let summary = "Lower snn.time_loop to per-neuron loops over T";
  let description = [{
    A loop whose body is elementwise arith on the step (what
    snn-fuse-time-loop produces) becomes one scalar loop nest: `scf.parallel`
    over the neurons of a step, `scf.for` over the time steps inside (T-1
    down to 0 for `reverse`) with the state as scalar iteration arguments,
    reading and writing `[T, N]` views of the buffers. Any other body becomes
    an `scf.for` over the time steps that carries the stacked results and the
    state as tensors (`tensor.extract_slice` / `tensor.insert_slice`).
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::arith::ArithDialect"];
}

def LowerStaticDeallocsPass : Pass<"snn-lower-static-deallocs", "func::FuncOp"> {
  let summary = "Lower bufferization.dealloc of distinct, owned allocations to memref.dealloc";
  let description = [{
    Ownership-based deallocation leaves one `bufferization.dealloc` at the
    end of a train step that names every buffer of every layer, each owned
    (condition `true`), nothing retained. Distinct `memref.alloc` results
    never alias, so each is freed with `memref.dealloc`, which is what
    buffer-deallocation-simplification and bufferization-lower-deallocations
    make of such an op, without their pairwise alias queries (quadratic in
    the number of buffers: 9.3 s of a 200-layer model's 14 s loops stage).
    Any other dealloc op is left for those passes.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def OutlineLoopNestsPass : Pass<"snn-outline-loop-nests", "ModuleOp"> {
  let summary = "Move each top-level loop nest of a step into a private function, sharing identical ones";
  let description = [{
    Every operation with regions at the top level of a function (the scf
    loops and branches of the loops stage) moves into a private function
    `<step>_nest<N>` that takes the values the nest uses (constants are
    cloned in, so loop bounds stay static) and returns its results; the
    nest becomes a `func.call` marked `no_inline`, and the callee carries
    `no_inline` too. Nests whose functions print the same (a layer of the
    same shape at another depth; the same forward loop in train_step and
    eval_step) share one function.

    Why: LLVM's function analyses (dominator trees, scalar evolution's loop
    guards, which walk back through every block before a loop) grow faster
    than the function, and a step holds every layer: a 100-layer MLP took
    47 s for its CPU object. With one function per distinct nest, LLVM sees
    small functions, as many as the network has distinct layers.

    Functions with fewer than `min-nests` such operations stay as they are.
  }];
  let options = [
    Option<"minNests", "min-nests", "int64_t", "0",
           "Outline only in functions with at least this many nests">,
  ];
  let dependentDialects = ["::mlir::func::FuncDialect"];
}

def SplitBlocksAtLoopsPass : Pass<"snn-split-blocks-at-loops", "func::FuncOp"> {
  let summary = "End a block after every scf loop or branch, and every call, of a long block, before convert-scf-to-cf";
  let description = [{
    convert-scf-to-cf splits the block at every `scf.for` / `scf.if` / ...
    it lowers, moving every operation after it into a new block; in a train
    step, one long block of hundreds of loops, that is quadratic in the
    depth of the network (100 layers: 5.7 s of the LLVM stage's 7.6 s).
    This pass makes those blocks first, from the last loop to the first (so
    each split moves only the operations up to the next loop), each ending
    in a `cf.br` to the next: the conversion's splits then move nothing. The
    code is the same once LLVM merges the straight-line blocks.
    After snn-outline-loop-nests a step is a long block of calls, which the
    LLVM conversions' op-order queries (Operation::isBeforeInBlock after each
    insertion) make quadratic too: blocks end after every `func.call` as well.
  }];
  let dependentDialects = ["::mlir::cf::ControlFlowDialect"];
}

def CoarsenParallelLoopsPass : Pass<"snn-coarsen-parallel-loops", "func::FuncOp"> {
  let summary = "CPU: run the inner dimensions of multi-dimensional scf.parallel loops sequentially";
  let description = [{
    A multi-dimensional `scf.parallel` without reductions keeps its shortest
    leading dimensions whose iterations number at least `min-iterations`
    (enough to spread over the cores); the remaining dimensions become
    `scf.for` loops inside. On the CPU the OpenMP loop that
    convert-scf-to-openmp makes of all dimensions collapses them and
    recovers every index with divisions on every element; after this pass
    that happens once per row and the innermost loop is a plain counted loop
    that LLVM can vectorize (pooling and its backward on `[T, B, C, H, W]`).
    When no shorter prefix has `min-iterations` (the `[B, N]` loops of a
    batch of 128), the last dimension alone becomes sequential if the rows
    number at least `min-rows` and it has at least `min-inner` iterations:
    the rows spread over the cores and each row is a counted loop that LLVM
    vectorizes (in the collapsed OpenMP loop the recombined index goes
    through a `freeze` that hides it from the vectorizer's bounds analysis).
    Other loops stay as they are. The GPU path does not run it: there each
    element is one thread.
  }];
  let options = [Option<"minIterations", "min-iterations", "int64_t",
                        /*default=*/"1024",
                        "parallel iterations to keep at least">,
                 Option<"minRows", "min-rows", "int64_t", /*default=*/"32",
                        "rows to keep parallel when only the last dimension becomes sequential">,
                 Option<"minInner", "min-inner", "int64_t", /*default=*/"16",
                        "iterations of the last dimension for it to become sequential">];
  let dependentDialects = ["::mlir::scf::SCFDialect"];
}

def SNNToRuntimeCallsPass : Pass<"snn-to-runtime-calls", "ModuleOp"> {
  let summary = "Lower dense and conv ops (forward and backward) to snnrt GEMM/convolution calls";
  let description = [{
    The synaptic layers run in the runtime library (OpenBLAS on CPU): every
    `snn.dense*` becomes one call of `snnrt_matmul_{nt,nn,tn}` on the
    `[T*B, features]` views, every `snn.conv2d*` one call of
    `snnrt_conv2d_{forward,grad_input,grad_weight}` on `[T*B, C, H, W]`
    views. The callees are declared with `llvm.emit_c_interface`.

    With the module's `snn.target = #snn.target<conv_grad_input = gemm>` (snnc
    --gpu-conv-grad-input=gemm sets it on the CUDA side) a
    `snn.conv2d_grad_input` becomes one GEMM per image into the gradient of
    the im2col matrix (`snnrt_conv2d_grad_cols`) and a col2im gather loop
    nest tagged `snn.kernel = "conv_grad_input"`.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::arith::ArithDialect"];
}

def SNNToLoopsPass : Pass<"snn-to-loops", "ModuleOp"> {
  let summary = "Lower the remaining snn ops (pooling, flatten, dropout, targets, losses, optimizer) to loops";
  let description = [{
    Pooling and its backward, dropout and its backward, the backward of the
    input encoding (`snn.encode_current_grad`), target spike trains,
    the Van Rossum and spike-count losses with their gradients, gradient-norm
    clipping and AdamW become scf loops over memrefs; flatten becomes
    `tensor.collapse_shape`. Fails on any snn op that is left, naming it.
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::arith::ArithDialect"];
}

def PrepareGPUPass : Pass<"snn-prepare-gpu", "ModuleOp"> {
  let summary = "Rewrite lowered step functions into f_cuda: device-only, graph-replayable host code";
  let description = [{
    Runs on the loops stage (memrefs, `scf.parallel` over neurons, runtime
    calls). Each public function `f` becomes `f_cuda`: scalar arguments and
    results become `memref<1xT>` device buffers (results appended as
    out-parameters), a top-level sum loop with independent iterations (the
    loss) becomes a parallel loop plus an in-order sum of its terms, every
    other top-level op that touches memory becomes a one-thread
    `scf.parallel`, pure scalar arithmetic is recomputed inside
    the kernels that use it, multi-dimensional parallel loops are collapsed,
    and every allocation becomes a `memref.view` into one workspace argument
    (`memref<?xi8>`, last) whose size is the i64 global
    `snnc_cuda_workspace_<f>_cuda`. Runtime callees `snnrt_X` become
    `snnrt_cuda_X`. Afterwards the host part of the function only launches
    kernels and library calls, so one CUDA graph can capture it.
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::arith::ArithDialect"];
}

def NameGPUKernelsPass : Pass<"snn-name-gpu-kernels", "ModuleOp"> {
  let summary = "Name outlined GPU kernels after their snn.kernel tag";
  let description = [{
    After gpu-kernel-outlining: a `gpu.func @<f>_kernel_<n>` whose body holds
    an op tagged `snn.kernel = "<what>"` (na_backward, time_loop,
    stbp_backward) is renamed `<f>_<what>_<n>`, and its launches follow, so
    that profilers and `--emit=ptx` show what each kernel computes.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

def SinkIntoLaunchesPass : Pass<"snn-sink-into-launches"> {
  let summary = "Clone constants and index computations into the gpu.launch ops that use them (gpu-launch-sink-index-computations, linear)";
  let description = [{
    The same transformation as upstream's gpu-launch-sink-index-computations
    (constants, memref.dim, arith.select and arith.cmpi, with their operands'
    defining ops, cloned at the start of each launch's body in the same
    order), but the uses inside the body are replaced by one walk of that
    body. Upstream's replaceAllUsesInRegionWith visits every use of the value
    in the whole function, and a constant is shared by every launch of a
    step: quadratic in the network's depth (a 400-layer MLP: 8.3 s).
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

def ShareGPUKernelsPass : Pass<"snn-share-gpu-kernels", "ModuleOp"> {
  let summary = "Make identical outlined GPU kernels one kernel";
  let description = [{
    After gpu-kernel-outlining (one `gpu.module` per launch) and
    snn-name-gpu-kernels: modules that print the same, their own and their
    kernel's names aside, become the first of them; the launches of the
    others launch it. A network with many layers of one shape then compiles
    each of its kernels to PTX once, not once per layer (a 100-layer MLP:
    724 kernel modules before, 14 after), and its trainer loads that many.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

#endif
