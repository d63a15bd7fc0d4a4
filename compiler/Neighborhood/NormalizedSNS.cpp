//===- NormalizedSNS.cpp - NA_SPEC section 9: normalized SNS ---------------===//
//
// The aggregation of the authors' single-neuron experiment. The flips and
// chains of SNS (section 3), each chain re-simulated to the end of the
// window (exact, no shortcut), with the raw output error g = dL/da instead
// of the PSC error e and another scaling:
//
//   da_p     = a'_(p) - a over t >= p
//   delta[p] = sgn(theta - u[p]) (sum_t g[t] da_p[t]) / ||da_p||_2
//              / (|theta - u[p]| + 1)
//
// One neuron per parallel iteration on both sides (on the CPU the neurons
// are spread over the threads; on the GPU one thread each); the neuron's
// dynamics come from compiler/Neurons as for SNS.
//
//===----------------------------------------------------------------------===//
#include "compiler/Neighborhood/Passes.h"
#include "compiler/Neighborhood/Perturbation.h"
#include "compiler/Neighborhood/Strategy.h"

namespace mlir::snn {
#define GEN_PASS_DEF_NEIGHBORHOODNORMALIZEDSNSPASS
#include "compiler/Neighborhood/Passes.h.inc"
} // namespace mlir::snn

using namespace mlir;
using namespace mlir::snn;

namespace {

LogicalResult emitNormalizedSNSKernel(NABackwardOp op) {
  FailureOr<PerturbationKernel> kernel = PerturbationKernel::create(op);
  if (failed(kernel))
    return failure();
  PerturbationKernel &k = *kernel;
  k.forEachNeuron([&](ScalarBuilder &s, Value n) {
    forRange(s, k.c0, k.cT, [&](ScalarBuilder &q, Value p) {
      // The flip at p: its PSC difference starts the chain.
      PerturbationKernel::Flip f = k.flip(q, n, p);
      Value gd = q.mul(k.rawError(q, n, p), f.diff);
      Value dd = q.mul(f.diff, f.diff);
      auto chain = scf::ForOp::create(
          q.b, q.loc, q.iadd(p, k.c1), k.cT, k.c1,
          ValueRange{f.r, f.diff, gd, dd},
          [&](OpBuilder &fb, Location fl, Value t, ValueRange st) {
            ScalarBuilder w{fb, fl};
            PerturbationKernel::ChainStep next =
                k.step(w, n, t, st[0], st[1], k.zero);
            Value g = k.rawError(w, n, t);
            scf::YieldOp::create(
                fb, fl,
                ValueRange{next.r, next.diff,
                           w.add(st[2], w.mul(g, next.diff)),
                           w.add(st[3], w.mul(next.diff, next.diff))});
          });
      Value sumGD = chain.getResult(2), sumDD = chain.getResult(3);
      Value d = q.sub(k.theta, q.load(k.u, {p, n}));
      Value sign = q.sel(q.gt(d, k.zero), k.one,
                         q.sel(q.cmp(arith::CmpFPredicate::OLT, d, k.zero),
                               q.f(-1.0f), k.zero));
      Value norm = math::SqrtOp::create(q.b, q.loc, sumDD);
      Value mag = math::AbsFOp::create(q.b, q.loc, d);
      Value delta = q.div(q.mul(sign, q.div(sumGD, norm)), q.add(mag, k.one));
      q.store(delta, k.delta, {p, n});
    });
  });
  k.finish();
  return success();
}

struct NeighborhoodNormalizedSNSPass
    : mlir::snn::impl::NeighborhoodNormalizedSNSPassBase<
          NeighborhoodNormalizedSNSPass> {
  void runOnOperation() override {
    if (failed(lowerSelection(getOperation(), "normalized-sns",
                              emitNormalizedSNSKernel)))
      signalPassFailure();
  }
};

} // namespace
