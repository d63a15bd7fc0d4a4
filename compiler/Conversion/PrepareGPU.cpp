//===- PrepareGPU.cpp - make a lowered train step runnable on a GPU --------===//
//
// After bufferization a step function is host code: parallel loops over
// neurons, runtime calls, allocations, a few sequential loops (the loss sum)
// and scalar arithmetic on its scalar arguments (AdamW's bias correction).
// On a GPU the host must never touch device memory and every launch must be
// replayable from a CUDA graph, so this pass rewrites each public function
// `f` into `f_cuda` where
//   - scalar arguments (step, lr, the dropout key) become memref<1xT> device
//     buffers, read inside the kernels;
//   - scalar results (the loss) become memref<1xT> out-parameters after the
//     others;
//   - a sum over neurons (the loss) runs as a parallel loop over the neurons
//     plus a one-thread sum of their terms;
//   - every other top-level op that touches memory runs as a one-thread
//     parallel loop (a kernel), its scalar results passed through 1-element
//     buffers;
//   - pure scalar arithmetic is recomputed inside each kernel that uses it;
//   - multi-dimensional parallel loops are collapsed to one dimension;
//   - all allocations become views into one workspace (the last argument,
//     `memref<?xi8>`), laid out once at compile time; its size is the global
//     `snnc_cuda_workspace_<f>` (i64);
//   - the runtime callees `snnrt_X` become `snnrt_cuda_X`;
//   - a loop's `snn.kernel` tag moves into its body for snn-name-gpu-kernels.
//
//===----------------------------------------------------------------------===//
#include "compiler/Conversion/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace mlir::snn {
#define GEN_PASS_DEF_PREPAREGPUPASS
#include "compiler/Conversion/Passes.h.inc"
} // namespace mlir::snn

using namespace mlir;

namespace {

constexpr int64_t kWorkspaceAlign = 256;

class StepRewriter {
public:
  StepRewriter(func::FuncOp f) : f(f), body(f.getBody().front()), b(f) {}

  LogicalResult run() {
    keepKernelTags();
    parallelizeSumLoops();
    scalarArgumentsToBuffers();
    if (failed(wrapHostMemoryOps()))
      return failure();
    scalarResultsToOutParams();
    sinkScalarsIntoKernels();
    if (failed(eraseDeadHostScalars()))
      return failure();
    collapseParallelLoops();
    if (failed(allocationsToWorkspace()))
      return failure();
    f.setType(FunctionType::get(f.getContext(), body.getArgumentTypes(), {}));
    return success();
  }

  int64_t workspaceBytes = 0;

private:
  Value index(int64_t v) {
    return arith::ConstantIndexOp::create(b, f.getLoc(), v);
  }

  /// A host-side read of a 1-element device buffer: legal only until it is
  /// sunk into the kernels that use it.
  Value placeholderLoad(Value buffer, Location loc) {
    auto load = memref::LoadOp::create(b, loc, buffer, ValueRange{index(0)});
    placeholders.insert(load);
    return load;
  }

  /// `scf.parallel (%i) = (0) to (1)`, with the builder inside its body.
  scf::ParallelOp singleThread(Location loc) {
    auto loop = scf::ParallelOp::create(b, loc, ValueRange{index(0)},
                                        ValueRange{index(1)},
                                        ValueRange{index(1)});
    b.setInsertionPoint(loop.getBody()->getTerminator());
    return loop;
  }

  /// A parallel loop's `snn.kernel` tag moves to the first loop or store in
  /// its body, which the mapping to GPU launches and the outlining keep
  /// (snn-name-gpu-kernels reads it there).
  void keepKernelTags() {
    for (auto loop : body.getOps<scf::ParallelOp>()) {
      Attribute tag = loop->removeAttr("snn.kernel");
      if (!tag)
        continue;
      loop.getBody()->walk<WalkOrder::PreOrder>([&](Operation *op) {
        if (!isa<scf::ForOp, memref::StoreOp>(op))
          return WalkResult::advance();
        op->setAttr("snn.kernel", tag);
        return WalkResult::interrupt();
      });
    }
  }

  /// `scf.for %i iter_args(%acc = %init) { ...; yield %acc + x_i }` (the
  /// loss: a sum over neurons of per-neuron sums over T) becomes a parallel
  /// loop writing x_i to a buffer, then a sequential sum of the buffer in
  /// the same order (the same float result), instead of one GPU thread
  /// doing all the per-neuron work.
  /// The allocation or argument a view is a view of.
  static Value rootOf(Value v) {
    while (auto view = v.getDefiningOp<ViewLikeOpInterface>())
      v = view.getViewSource();
    return v;
  }

  /// Whether the iterations of `loop` are independent apart from its
  /// loop-carried values: every store is indexed by the induction variable
  /// and no buffer that the loop stores to is also read in it.
  static bool independentIterations(scf::ForOp loop) {
    llvm::SmallPtrSet<Value, 8> stored, loaded;
    bool ok = true;
    loop.getBody()->walk([&](Operation *op) {
      if (auto store = dyn_cast<memref::StoreOp>(op)) {
        ok &= llvm::is_contained(store.getIndices(), loop.getInductionVar());
        stored.insert(rootOf(store.getMemRef()));
      } else if (auto load = dyn_cast<memref::LoadOp>(op)) {
        loaded.insert(rootOf(load.getMemRef()));
      } else if (!isa<scf::ForOp, scf::YieldOp>(op) && !isPure(op)) {
        ok = false; // calls, copies, ...: not analyzed
      }
    });
    for (Value v : stored)
      ok &= !loaded.contains(v);
    return ok;
  }

  void parallelizeSumLoops() {
    for (auto loop : llvm::to_vector(body.getOps<scf::ForOp>())) {
      if (loop.getNumRegionIterArgs() != 1 || !independentIterations(loop))
        continue;
      auto yield = cast<scf::YieldOp>(loop.getBody()->getTerminator());
      auto add = yield.getOperand(0).getDefiningOp<arith::AddFOp>();
      BlockArgument acc = loop.getRegionIterArgs()[0];
      std::optional<int64_t> lb = getConstantIntValue(loop.getLowerBound());
      std::optional<int64_t> ub = getConstantIntValue(loop.getUpperBound());
      std::optional<int64_t> st = getConstantIntValue(loop.getStep());
      if (!add || !acc.hasOneUse() || add->getBlock() != loop.getBody() ||
          (add.getLhs() != acc && add.getRhs() != acc) || !lb || !ub || !st ||
          *st != 1 || *ub <= *lb)
        continue;
      Location loc = loop.getLoc();
      Value x = add.getLhs() == acc ? add.getRhs() : add.getLhs();
      b.setInsertionPoint(loop);
      Value terms = memref::AllocOp::create(
          b, loc, MemRefType::get({*ub - *lb}, acc.getType()));
      auto par = scf::ParallelOp::create(
          b, loc, ValueRange{loop.getLowerBound()},
          ValueRange{loop.getUpperBound()}, ValueRange{loop.getStep()});
      Block *pb = par.getBody();
      loop.getInductionVar().replaceAllUsesWith(pb->getArgument(0));
      yield->setOperand(0, acc);
      add.erase();
      pb->getOperations().splice(Block::iterator(pb->getTerminator()),
                                 loop.getBody()->getOperations(),
                                 loop.getBody()->begin(),
                                 Block::iterator(yield));
      b.setInsertionPoint(pb->getTerminator());
      Value slot = arith::SubIOp::create(b, loc, pb->getArgument(0),
                                         loop.getLowerBound());
      memref::StoreOp::create(b, loc, x, terms, ValueRange{slot});
      b.setInsertionPointAfter(par);
      auto sum = scf::ForOp::create(
          b, loc, index(0), index(*ub - *lb), index(1),
          ValueRange{loop.getInitArgs()[0]},
          [&](OpBuilder &fb, Location fl, Value i, ValueRange args) {
            Value term = memref::LoadOp::create(fb, fl, terms, ValueRange{i});
            scf::YieldOp::create(
                fb, fl, ValueRange{arith::AddFOp::create(fb, fl, args[0], term)});
          });
      loop.getResult(0).replaceAllUsesWith(sum.getResult(0));
      loop.erase();
    }
  }

  void scalarArgumentsToBuffers() {
    for (BlockArgument arg : body.getArguments()) {
      if (isa<MemRefType>(arg.getType()))
        continue;
      arg.setType(MemRefType::get({1}, arg.getType()));
      b.setInsertionPointToStart(&body);
      Value v = placeholderLoad(arg, f.getLoc());
      arg.replaceAllUsesExcept(v, v.getDefiningOp());
    }
  }

  static bool staysOnHost(Operation *op) {
    return isa<scf::ParallelOp, func::CallOp, func::ReturnOp, memref::AllocOp,
               memref::DeallocOp, ViewLikeOpInterface>(op) ||
           (op->getNumRegions() == 0 && isPure(op));
  }

  LogicalResult wrapHostMemoryOps() {
    SmallVector<Operation *> ops;
    for (Operation &op : body.without_terminator())
      if (!staysOnHost(&op) && !placeholders.contains(&op))
        ops.push_back(&op);
    for (Operation *op : ops) {
      Location loc = op->getLoc();
      b.setInsertionPoint(op);
      SmallVector<Value> buffers;
      for (Value r : op->getResults()) {
        if (isa<ShapedType>(r.getType()))
          return op->emitError("snn-prepare-gpu: a host op that returns a "
                               "shaped value cannot run on the GPU");
        buffers.push_back(memref::AllocOp::create(
            b, loc, MemRefType::get({1}, r.getType())));
      }
      scf::ParallelOp loop = singleThread(loc);
      op->moveBefore(b.getInsertionBlock(), b.getInsertionPoint());
      for (auto [r, buf] : llvm::zip(op->getResults(), buffers))
        memref::StoreOp::create(b, loc, r, buf, ValueRange{index(0)});
      b.setInsertionPointAfter(loop);
      for (auto [r, buf] : llvm::zip(op->getResults(), buffers)) {
        Value v = placeholderLoad(buf, loc);
        r.replaceUsesWithIf(v, [&](OpOperand &use) {
          return !loop->isProperAncestor(use.getOwner());
        });
      }
    }
    return success();
  }

  void scalarResultsToOutParams() {
    auto ret = cast<func::ReturnOp>(body.getTerminator());
    for (Value v : ret.getOperands()) {
      BlockArgument out = body.addArgument(MemRefType::get({1}, v.getType()),
                                           ret.getLoc());
      b.setInsertionPoint(ret);
      singleThread(ret.getLoc());
      memref::StoreOp::create(b, ret.getLoc(), v, out, ValueRange{index(0)});
    }
    ret->setOperands({});
  }

  bool sinkable(Operation *op) const {
    return op && op->getBlock() == &body &&
           !op->hasTrait<OpTrait::IsTerminator>() &&
           (placeholders.contains(op) ||
            (op->getNumRegions() == 0 && isPure(op) &&
             !isa<ViewLikeOpInterface>(op)));
  }

  Value materialize(Value v, IRMapping &map, OpBuilder &kb) {
    if (Value m = map.lookupOrNull(v))
      return m;
    Operation *def = v.getDefiningOp();
    if (!sinkable(def))
      return v;
    for (Value operand : def->getOperands())
      materialize(operand, map, kb);
    Operation *clone = kb.clone(*def, map);
    return clone->getResult(cast<OpResult>(v).getResultNumber());
  }

  void sinkScalarsIntoKernels() {
    for (auto loop : llvm::to_vector(body.getOps<scf::ParallelOp>())) {
      IRMapping map;
      OpBuilder kb(loop.getBody(), loop.getBody()->begin());
      SmallVector<OpOperand *> uses;
      loop.getBody()->walk([&](Operation *op) {
        for (OpOperand &use : op->getOpOperands())
          if (sinkable(use.get().getDefiningOp()))
            uses.push_back(&use);
      });
      for (OpOperand *use : uses)
        use->set(materialize(use->get(), map, kb));
    }
  }

  LogicalResult eraseDeadHostScalars() {
    for (Operation &op : llvm::make_early_inc_range(llvm::reverse(body)))
      if (sinkable(&op) && op.use_empty()) {
        placeholders.erase(&op);
        op.erase();
      }
    for (Operation *op : placeholders)
      return op->emitError("snn-prepare-gpu: the host would read device "
                           "memory here (a scalar used outside the kernels)");
    return success();
  }

  void collapseParallelLoops() {
    IRRewriter rewriter(f.getContext());
    for (auto loop : llvm::to_vector(body.getOps<scf::ParallelOp>())) {
      unsigned dims = loop.getNumLoops();
      if (dims < 2)
        continue;
      std::vector<unsigned> all(dims);
      std::iota(all.begin(), all.end(), 0);
      rewriter.setInsertionPoint(loop);
      mlir::collapseParallelLoops(rewriter, loop, {all});
    }
  }

  LogicalResult allocationsToWorkspace() {
    MLIRContext *ctx = f.getContext();
    BlockArgument ws = body.addArgument(
        MemRefType::get({ShapedType::kDynamic}, IntegerType::get(ctx, 8)),
        f.getLoc());
    WalkResult nested = body.walk([&](memref::AllocOp alloc) {
      if (alloc->getBlock() != &body) {
        alloc.emitError("snn-prepare-gpu: allocation inside a kernel");
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (nested.wasInterrupted())
      return failure();
    for (auto alloc : llvm::to_vector(body.getOps<memref::AllocOp>())) {
      MemRefType type = alloc.getType();
      if (!type.hasStaticShape() || !type.getLayout().isIdentity())
        return alloc.emitError(
            "snn-prepare-gpu: only static, identity-layout allocations fit "
            "in the planned workspace");
      Type element = type.getElementType();
      if (!isa<IndexType>(element) && !element.isIntOrFloat())
        return alloc.emitError("snn-prepare-gpu: cannot size an allocation "
                               "of ")
               << element;
      // index is 64-bit on the NVPTX64 and x86-64 targets.
      int64_t elementBytes =
          isa<IndexType>(element)
              ? 8
              : std::max<int64_t>(1, element.getIntOrFloatBitWidth() / 8);
      int64_t bytes = type.getNumElements() * elementBytes;
      b.setInsertionPoint(alloc);
      Value view = memref::ViewOp::create(b, alloc.getLoc(), type, ws,
                                          index(workspaceBytes), ValueRange{});
      workspaceBytes += (bytes + kWorkspaceAlign - 1) / kWorkspaceAlign *
                        kWorkspaceAlign;
      for (Operation *user : llvm::make_early_inc_range(alloc->getUsers()))
        if (isa<memref::DeallocOp>(user))
          user->erase();
      alloc.replaceAllUsesWith(view);
      alloc.erase();
    }
    return success();
  }

  func::FuncOp f;
  Block &body;
  OpBuilder b;
  llvm::SmallPtrSet<Operation *, 8> placeholders;
};

struct PrepareGPUPass
    : mlir::snn::impl::PrepareGPUPassBase<PrepareGPUPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = module.getContext();
    for (auto f : llvm::to_vector(module.getOps<func::FuncOp>())) {
      StringRef name = f.getSymName();
      std::string renamed = f.isDeclaration() && name.starts_with("snnrt_")
                                ? "snnrt_cuda_" + name.drop_front(6).str()
                                : name.str() + "_cuda";
      if (failed(SymbolTable::replaceAllSymbolUses(
              f, StringAttr::get(ctx, renamed), module)))
        return signalPassFailure();
      f.setSymName(renamed);
      if (f.isDeclaration() || !f.isPublic())
        continue;
      StepRewriter step(f);
      if (failed(step.run()))
        return signalPassFailure();
      OpBuilder b(module.getBody(), module.getBody()->end());
      auto i64 = IntegerType::get(ctx, 64);
      LLVM::GlobalOp::create(b, f.getLoc(), i64, /*isConstant=*/true,
                             LLVM::Linkage::External,
                             "snnc_cuda_workspace_" + renamed,
                             b.getI64IntegerAttr(step.workspaceBytes));
    }
  }
};

} // namespace
