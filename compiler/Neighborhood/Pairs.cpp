//===- Pairs.cpp - single and double flips aggregated by eq. (15) ----------===//
//
// Per neuron: the normal equations (O^T O) grad = O^T f of the 2T-1
// neighbors, accumulated into a symmetric tridiagonal system
// (diag[t], off[t] couples t and t+1, rhs[t]) and solved with the Thomas
// algorithm. A row with eps = 0 (u exactly at threshold) is taken as o = e_p
// with f = dL * b, as SNS does; a double flip with |eps| = 0 is dropped.
//
//===----------------------------------------------------------------------===//
#include "compiler/Neighborhood/Passes.h"
#include "compiler/Neighborhood/Perturbation.h"
#include "compiler/Neighborhood/Strategy.h"

namespace mlir::snn {
#define GEN_PASS_DEF_NEIGHBORHOODPAIRSPASS
#include "compiler/Neighborhood/Passes.h.inc"
} // namespace mlir::snn

using namespace mlir;
using namespace mlir::snn;

namespace {

LogicalResult emitPairsKernel(NABackwardOp op) {
  FailureOr<PerturbationKernel> kernel = PerturbationKernel::create(op);
  if (failed(kernel))
    return failure();
  PerturbationKernel &k = *kernel;
  OpBuilder b(op);
  auto scratch = [&] {
    return memref::AllocOp::create(
        b, op.getLoc(), MemRefType::get({k.steps, k.neurons}, b.getF32Type()));
  };
  Value diag = scratch(), off = scratch(), rhs = scratch();

  k.forEachNeuron([&](ScalarBuilder &s, Value n) {
    auto forSteps = [&](Value ub, function_ref<void(ScalarBuilder &, Value)> f) {
      forRange(s, k.c0, ub, f);
    };
    auto addTo = [&](ScalarBuilder &q, Value buf, Value t, Value v) {
      q.store(q.add(q.load(buf, {t, n}), v), buf, {t, n});
    };
    forSteps(k.cT, [&](ScalarBuilder &q, Value t) {
      q.store(k.zero, diag, {t, n});
      q.store(k.zero, off, {t, n});
      q.store(k.zero, rhs, {t, n});
    });
    // Single flips: o = sign(eps) e_p, so diag += 1 and rhs += sign * f.
    forSteps(k.cT, [&](ScalarBuilder &q, Value p) {
      PerturbationKernel::Flip f = k.flip(q, n, p);
      Value t0 = q.iadd(p, k.c1);
      Value dL = k.chain(q, n, t0, k.cT, f.r, f.diff, f.dL, f.joined);
      Value mag = math::AbsFOp::create(q.b, q.loc, f.eps);
      Value sign = q.sel(q.cmp(arith::CmpFPredicate::OLT, f.eps, k.zero),
                         q.f(-1.0f), k.one);
      addTo(q, diag, p, k.one);
      addTo(q, rhs, p, q.mul(sign, q.mul(dL, k.scale(q, mag))));
    });
    // Double flips at p and p + 1.
    forSteps(s.idx(k.steps - 1), [&](ScalarBuilder &q, Value p) {
      PerturbationKernel::Flip f1 = k.flip(q, n, p);
      Value p1 = q.iadd(p, k.c1);
      PerturbationKernel::Flip f2 = k.flip(q, n, p1, f1.r, f1.diff, f1.dL);
      Value dL = k.chain(q, n, q.iadd(p1, k.c1), k.cT, f2.r, f2.diff, f2.dL,
                         f2.joined);
      Value norm2 = q.add(q.mul(f1.eps, f1.eps), q.mul(f2.eps, f2.eps));
      Value norm = math::SqrtOp::create(q.b, q.loc, norm2);
      Value fk = q.mul(dL, k.scale(q, norm));
      Value o1 = q.div(f1.eps, norm), o2 = q.div(f2.eps, norm);
      Value keep = q.gt(norm2, k.zero);
      auto masked = [&](Value v) { return q.sel(keep, v, k.zero); };
      addTo(q, diag, p, masked(q.mul(o1, o1)));
      addTo(q, diag, p1, masked(q.mul(o2, o2)));
      addTo(q, off, p, masked(q.mul(o1, o2)));
      addTo(q, rhs, p, masked(q.mul(o1, fk)));
      addTo(q, rhs, p1, masked(q.mul(o2, fk)));
    });
    // Thomas algorithm, in place: off becomes c', rhs becomes d'.
    forSteps(k.cT, [&](ScalarBuilder &q, Value t) {
      Value isFirst = arith::CmpIOp::create(q.b, q.loc,
                                            arith::CmpIPredicate::eq, t, k.c0);
      Value prev = arith::SelectOp::create(
          q.b, q.loc, isFirst, k.c0, arith::SubIOp::create(q.b, q.loc, t, k.c1));
      // off[prev] holds c'[prev] by now; the original coupling of prev and
      // t was kept in delta[prev] (free until the back substitution).
      Value cPrev = q.sel(isFirst, k.zero, q.load(off, {prev, n}));
      Value dPrev = q.sel(isFirst, k.zero, q.load(rhs, {prev, n}));
      Value coupling = q.sel(isFirst, k.zero, q.load(k.delta, {prev, n}));
      Value m = q.sub(q.load(diag, {t, n}), q.mul(coupling, cPrev));
      Value offT = q.load(off, {t, n});
      // Remember the original coupling of t and t+1 for the next row.
      q.store(offT, k.delta, {t, n});
      q.store(q.div(offT, m), off, {t, n});
      q.store(q.div(q.sub(q.load(rhs, {t, n}), q.mul(coupling, dPrev)), m),
              rhs, {t, n});
    });
    forSteps(k.cT, [&](ScalarBuilder &q, Value i) {
      // t = T-1-i: x[t] = d'[t] - c'[t] x[t+1].
      Value t = arith::SubIOp::create(q.b, q.loc, q.idx(k.steps - 1), i);
      Value isLast = arith::CmpIOp::create(q.b, q.loc, arith::CmpIPredicate::eq,
                                           i, k.c0);
      Value next = arith::SelectOp::create(q.b, q.loc, isLast, t,
                                           q.iadd(t, k.c1));
      Value xNext = q.sel(isLast, k.zero, q.load(k.delta, {next, n}));
      q.store(q.sub(q.load(rhs, {t, n}), q.mul(q.load(off, {t, n}), xNext)),
              k.delta, {t, n});
    });
  });
  k.finish();
  return success();
}

struct NeighborhoodPairsPass
    : mlir::snn::impl::NeighborhoodPairsPassBase<NeighborhoodPairsPass> {
  void runOnOperation() override {
    if (failed(lowerSelection(getOperation(), "pairs", emitPairsKernel)))
      signalPassFailure();
  }
};

} // namespace
