//===- SNS.cpp - Simple Neighborhood Selection (NA_SPEC section 3) ---------===//
//
// Lowers snn.na_backward {selection = "sns"} to one loop nest per neuron,
// parallel over neurons (scf.parallel over N = B * features):
//
//   e[t] = g[t] + ds e[t+1]           (fused eq. (7) scan, when possible)
//   E[t] = e[t] + ds E[t+1], E[T] = 0 (the tail of the exact shortcut)
//   for p: flip at p, re-simulate with the same c[t] while not rejoined,
//          dL_p = sum e[t] (a'[t] - a[t]) (+ diff * ds * E[t0+1] once
//          rejoined), delta[p] = dL_p * clip(1 / (theta - u[p])^3, -b, b).
//
//===----------------------------------------------------------------------===//
#include "compiler/Neighborhood/Passes.h"
#include "compiler/Neighborhood/Strategy.h"
#include "compiler/Conversion/LoopEmitter.h"

namespace mlir::snn {
#define GEN_PASS_DEF_NEIGHBORHOODSNSPASS
#include "compiler/Neighborhood/Passes.h.inc"
} // namespace mlir::snn

using namespace mlir;
using namespace mlir::snn;

namespace {

/// A `[T, B, ...]` tensor as a `[T, N]` buffer.
Value flatBuffer(OpBuilder &b, Location loc, Value tensor) {
  return collapseTail(b, loc, bufferOf(b, loc, tensor), 1);
}

} // namespace

LogicalResult mlir::snn::emitSNSKernel(NABackwardOp op,
                                       const SNSKernelOptions &options) {
  int64_t window = options.window;
  auto type = op.getType();
  if (!type.hasStaticShape())
    return op.emitOpError("snn-neighborhood-sns needs static shapes");
  OpBuilder b(op);
  Location loc = op.getLoc();
  ScalarBuilder a{b, loc};
  const int64_t steps = type.getDimSize(0);
  const int64_t neurons = type.getNumElements() / steps;

  // Fuse the eq. (7) scan when it feeds only this op with the same kernel.
  auto scan = op.getError().getDefiningOp<PSCErrorScanOp>();
  bool fuseScan = scan && scan->hasOneUse() && scan.getTauS() == op.getTauS();
  Value g = flatBuffer(b, loc, fuseScan ? scan.getGrad() : op.getError());
  Value c = flatBuffer(b, loc, op.getInput());
  Value u = flatBuffer(b, loc, op.getPotential());
  Value s = flatBuffer(b, loc, op.getSpikes());

  Value out = allocFor(b, loc, type);
  Value delta = collapseTail(b, loc, out, 1);
  // e and E for every neuron: [T, N] and [T + 1, N] scratch.
  Value eBuf = memref::AllocOp::create(
      b, loc, MemRefType::get({steps, neurons}, b.getF32Type()));
  Value bigE = memref::AllocOp::create(
      b, loc, MemRefType::get({steps + 1, neurons}, b.getF32Type()));

  float tauM = op.getTauM().convertToFloat();
  float tauS = op.getTauS().convertToFloat();
  Value dm = a.f(1.0f - 1.0f / tauM), ds = a.f(1.0f - 1.0f / tauS);
  Value invTauS = a.f(1.0f / tauS);
  Value theta = a.f(op.getThreshold().convertToFloat());
  Value clip = a.f(op.getClip().convertToFloat());
  Value negClip = a.f(-op.getClip().convertToFloat());
  Value zero = a.f(0.0f), one = a.f(1.0f), half = a.f(0.5f);
  Value c0 = a.idx(0), c1 = a.idx(1), cT = a.idx(steps), cN = a.idx(neurons);
  Value cTm1 = a.idx(steps - 1), cWindow = a.idx(window);

  scf::ParallelOp::create(b, loc, ValueRange{c0}, ValueRange{cN},
                          ValueRange{c1}, [&](OpBuilder &nb, Location l,
                                              ValueRange ivs) {
    ScalarBuilder n{nb, l};
    Value nIdx = ivs[0];
    // Reverse scans: e (eq. 7, or the given error) and E.
    n.store(zero, bigE, {cT, nIdx});
    scf::ForOp::create(
        nb, l, c0, cT, c1, ValueRange{zero, zero},
        [&](OpBuilder &fb, Location fl, Value i, ValueRange acc) {
          ScalarBuilder f{fb, fl};
          Value t = arith::SubIOp::create(fb, fl, cTm1, i);
          Value gt = f.load(g, {t, nIdx});
          Value et = fuseScan ? f.add(gt, f.mul(ds, acc[0])) : gt;
          Value bigEt = f.add(et, f.mul(ds, acc[1]));
          f.store(et, eBuf, {t, nIdx});
          f.store(bigEt, bigE, {t, nIdx});
          scf::YieldOp::create(fb, fl, ValueRange{et, bigEt});
        });

    // One perturbation per time step p.
    scf::ForOp::create(nb, l, c0, cT, c1, ValueRange{}, [&](OpBuilder &pb,
                                                           Location pl,
                                                           Value p,
                                                           ValueRange) {
      ScalarBuilder q{pb, pl};
      Value up = q.load(u, {p, nIdx}), sp = q.load(s, {p, nIdx});
      Value spiked = q.gt(sp, half);
      // Least perturbation: fire (carry 0) or stay just below (carry theta).
      Value rPert = q.sel(spiked, theta, zero);
      Value rOrig = q.sel(spiked, zero, up);
      Value sPert = q.sel(spiked, zero, one);
      Value diff0 = q.mul(q.sub(sPert, sp), invTauS);
      Value dL0 = q.mul(q.load(eBuf, {p, nIdx}), diff0);
      Value joined0 = q.eq(rPert, rOrig);
      Value t0 = arith::AddIOp::create(pb, pl, p, c1);
      // The chain effect is followed up to (excluding) tStop.
      Value tStop = cT;
      if (window > 0)
        tStop = arith::MinUIOp::create(pb, pl, cT,
                                       arith::AddIOp::create(pb, pl, t0, cWindow));

      SmallVector<Type> types{pb.getIndexType(), pb.getF32Type(),
                              pb.getF32Type(), pb.getF32Type(),
                              pb.getI1Type()};
      auto loop = scf::WhileOp::create(
          pb, pl, types, ValueRange{t0, rPert, diff0, dL0, joined0},
          [&](OpBuilder &wb, Location wl, ValueRange args) {
            Value inRange = arith::CmpIOp::create(
                wb, wl, arith::CmpIPredicate::ult, args[0], tStop);
            Value open = arith::XOrIOp::create(
                wb, wl, args[4],
                arith::ConstantIntOp::create(wb, wl, wb.getI1Type(), 1));
            Value cond = arith::AndIOp::create(wb, wl, inRange, open);
            scf::ConditionOp::create(wb, wl, cond, args);
          },
          [&](OpBuilder &wb, Location wl, ValueRange args) {
            ScalarBuilder w{wb, wl};
            Value t = args[0], rp = args[1], diff = args[2], dL = args[3];
            // The chain effect: the same input c[t], perturbed state.
            Value uPert = w.add(w.mul(dm, rp), w.load(c, {t, nIdx}));
            Value firePert = w.ge(uPert, theta);
            Value rNext = w.sel(firePert, zero, uPert);
            Value st = w.load(s, {t, nIdx});
            Value ut = w.load(u, {t, nIdx});
            Value dsp = w.sub(w.sel(firePert, one, zero), st);
            Value diffNext = w.add(w.mul(ds, diff), w.mul(dsp, invTauS));
            Value dLNext = w.add(dL, w.mul(w.load(eBuf, {t, nIdx}), diffNext));
            Value rOrigT = w.sel(w.gt(st, half), zero, ut);
            Value joined = w.eq(rNext, rOrigT);
            Value tNext = arith::AddIOp::create(wb, wl, t, c1);
            scf::YieldOp::create(
                wb, wl, ValueRange{tNext, rNext, diffNext, dLNext, joined});
          });
      Value tEnd = loop.getResult(0), diffEnd = loop.getResult(2);
      Value dLEnd = loop.getResult(3);
      // Rejoined (or past the window): from tEnd on the spike trains agree,
      // so a' - a = diff * ds^(t - tEnd + 1) and the rest of eq. (13) is
      // diff * ds * E[tEnd]. Run to T without rejoining: E[T] = 0.
      Value tail = q.mul(q.mul(diffEnd, ds), q.load(bigE, {tEnd, nIdx}));
      Value dLp = q.add(dLEnd, tail);
      // Eq. (17): scale by clip(1 / d^3, -b, b), d = theta - u[p].
      Value d = q.sub(theta, up);
      Value inv = q.div(one, q.mul(q.mul(d, d), d));
      Value clipped = arith::MinimumFOp::create(
          pb, pl, arith::MaximumFOp::create(pb, pl, inv, negClip), clip);
      q.store(q.mul(dLp, clipped), delta, {p, nIdx});
      scf::YieldOp::create(pb, pl);
    });
  });

  Value result = tensorOf(b, loc, type, out);
  op.replaceAllUsesWith(result);
  op.erase();
  if (fuseScan)
    scan.erase();
  return success();
}

void mlir::snn::addStrategyDependencies(DialectRegistry &registry) {
  registry.insert<arith::ArithDialect, scf::SCFDialect, memref::MemRefDialect,
                  bufferization::BufferizationDialect>();
}

LogicalResult
mlir::snn::lowerSelection(Operation *root, StringRef name,
                          function_ref<LogicalResult(NABackwardOp)> lower) {
  SmallVector<NABackwardOp> ops;
  root->walk([&](NABackwardOp op) {
    if (op.getSelection() == name)
      ops.push_back(op);
  });
  for (NABackwardOp op : ops)
    if (failed(lower(op)))
      return failure();
  return success();
}

namespace {

struct NeighborhoodSNSPass
    : mlir::snn::impl::NeighborhoodSNSPassBase<NeighborhoodSNSPass> {
  using NeighborhoodSNSPassBase::NeighborhoodSNSPassBase;
  void runOnOperation() override {
    SNSKernelOptions options;
    options.window = window;
    if (failed(lowerSelection(getOperation(), selection, [&](NABackwardOp op) {
          return emitSNSKernel(op, options);
        })))
      signalPassFailure();
  }
};

} // namespace
