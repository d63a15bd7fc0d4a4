//===- CoarsenParallelLoops.cpp - inner parallel dimensions -> scf.for -----===//
//
// CPU only. scf.parallel (d0, ..., dn) with constant bounds and no
// reductions becomes scf.parallel (d0, ..., dk) { scf.for dk+1 { ... } },
// k the first dimension at which the leading trip counts reach
// min-iterations, or else n - 1 when the rows number min-rows and the
// innermost dimension min-inner.
//
//===----------------------------------------------------------------------===//
#include "compiler/Conversion/Passes.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"

namespace mlir::snn {
#define GEN_PASS_DEF_COARSENPARALLELLOOPSPASS
#include "compiler/Conversion/Passes.h.inc"
} // namespace mlir::snn

using namespace mlir;
using namespace mlir::snn;

namespace {

/// How many leading dimensions of `op` stay parallel (all of them when the
/// loop does not qualify).
size_t parallelPrefix(scf::ParallelOp op, int64_t minIterations,
                      int64_t minRows, int64_t minInner) {
  size_t dims = op.getNumLoops();
  if (dims < 2 || op.getNumReductions() != 0)
    return dims;
  SmallVector<int64_t> trips;
  for (size_t d = 0; d < dims; ++d) {
    auto lb = getConstantIntValue(op.getLowerBound()[d]);
    auto ub = getConstantIntValue(op.getUpperBound()[d]);
    auto step = getConstantIntValue(op.getStep()[d]);
    if (!lb || !ub || !step || *step <= 0)
      return dims;
    trips.push_back(std::max<int64_t>(0, (*ub - *lb + *step - 1) / *step));
  }
  int64_t iterations = 1;
  for (size_t d = 0; d < dims; ++d) {
    if (d > 0 && iterations >= minIterations) // at least one stays parallel
      return d;
    iterations *= trips[d];
  }
  // No prefix reaches min-iterations ([B, N] with a batch of 128): the rows
  // still spread over the cores when there are min-rows of them, and the
  // innermost dimension becomes a counted loop that LLVM vectorizes,
  // instead of an index recovered by division in the collapsed OpenMP loop.
  int64_t rows = iterations / std::max<int64_t>(1, trips.back());
  if (rows >= minRows && trips.back() >= minInner)
    return dims - 1;
  return dims;
}

/// scf.for loops over dimensions [d, end) of `op` around a clone of its body.
void emitInner(OpBuilder &b, Location loc, scf::ParallelOp op, size_t d,
               IRMapping &map) {
  Block *body = op.getBody();
  if (d == op.getNumLoops()) {
    for (Operation &inner : body->without_terminator())
      b.clone(inner, map);
    return;
  }
  scf::ForOp::create(b, loc, op.getLowerBound()[d], op.getUpperBound()[d],
                     op.getStep()[d], ValueRange{},
                     [&](OpBuilder &fb, Location fl, Value iv, ValueRange) {
                       map.map(body->getArgument(d), iv);
                       emitInner(fb, fl, op, d + 1, map);
                       scf::YieldOp::create(fb, fl);
                     });
}

struct CoarsenParallelLoopsPass
    : mlir::snn::impl::CoarsenParallelLoopsPassBase<CoarsenParallelLoopsPass> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<scf::ParallelOp> loops;
    getOperation().walk([&](scf::ParallelOp op) { loops.push_back(op); });
    for (scf::ParallelOp op : loops) {
      size_t keep = parallelPrefix(op, minIterations, minRows, minInner);
      if (keep == op.getNumLoops())
        continue;
      OpBuilder b(op);
      Location loc = op.getLoc();
      auto outer = scf::ParallelOp::create(
          b, loc, op.getLowerBound().take_front(keep),
          op.getUpperBound().take_front(keep), op.getStep().take_front(keep),
          [&](OpBuilder &pb, Location pl, ValueRange ivs) {
            IRMapping map;
            for (size_t d = 0; d < keep; ++d)
              map.map(op.getBody()->getArgument(d), ivs[d]);
            emitInner(pb, pl, op, keep, map);
          });
      outer->setDiscardableAttrs(op->getDiscardableAttrDictionary());
      op.erase();
    }
  }
};

} // namespace
