//===- Perturbation.cpp - per-neuron building blocks of NA strategies -----===//
#include "compiler/Neighborhood/Perturbation.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::snn;

FailureOr<PerturbationKernel> PerturbationKernel::create(NABackwardOp op) {
  auto type = op.getType();
  if (!type.hasStaticShape())
    return op.emitOpError("neighborhood strategies need static shapes");
  PerturbationKernel k(op);
  OpBuilder &b = k.b;
  Location loc = op.getLoc();
  ScalarBuilder a{b, loc};
  k.steps = type.getDimSize(0);
  k.neurons = type.getNumElements() / k.steps;
  auto view = [&](Value tensor) {
    return collapseTail(b, loc, bufferOf(b, loc, tensor), 1);
  };
  // Fuse the eq. (7) scan when it feeds only this op with the same kernel.
  auto scan = op.getError().getDefiningOp<PSCErrorScanOp>();
  if (scan && scan->hasOneUse() && scan.getTauS() == op.getTauS())
    k.fusedScan = scan;
  k.grad = view(k.fusedScan ? scan.getGrad() : op.getError());
  k.c = view(op.getInput());
  k.u = view(op.getPotential());
  k.spikes = view(op.getSpikes());
  k.out = allocFor(b, loc, type);
  k.delta = collapseTail(b, loc, k.out, 1);
  k.eBuf = memref::AllocOp::create(
      b, loc, MemRefType::get({k.steps, k.neurons}, b.getF32Type()));
  k.tailE = memref::AllocOp::create(
      b, loc, MemRefType::get({k.steps + 1, k.neurons}, b.getF32Type()));
  float tauS = op.getTauS().convertToFloat();
  k.neuron.emplace(op.getNeuron(), b, loc, b.getF32Type());
  k.ds = a.f(1.0f - 1.0f / tauS);
  k.invTauS = a.f(1.0f / tauS);
  k.theta = k.neuron->threshold;
  k.clip = a.f(op.getClip().convertToFloat());
  k.negClip = a.f(-op.getClip().convertToFloat());
  k.zero = a.f(0.0f);
  k.one = a.f(1.0f);
  k.half = a.f(0.5f);
  k.c0 = a.idx(0);
  k.c1 = a.idx(1);
  k.cT = a.idx(k.steps);
  k.cLast = a.idx(k.steps - 1);
  return k;
}

/// Names the kernel that a GPU pipeline makes of `loop` (profilers show
/// `<step>_na_backward_<i>`; see snn-prepare-gpu).
static void tagKernel(scf::ParallelOp loop) {
  loop->setAttr("snn.kernel", StringAttr::get(loop.getContext(), "na_backward"));
}

void PerturbationKernel::forEachNeuron(
    function_ref<void(ScalarBuilder &, Value)> body) {
  Location loc = op.getLoc();
  bool fuse = static_cast<bool>(fusedScan);
  auto loop = scf::ParallelOp::create(
      b, loc, ValueRange{c0}, ValueRange{b.createOrFold<arith::ConstantIndexOp>(loc, neurons)},
      ValueRange{c1}, [&](OpBuilder &nb, Location l, ValueRange ivs) {
        ScalarBuilder s{nb, l};
        Value n = ivs[0];
        // Reverse scans: e (eq. 7, or the given error) and ds E, E[T] = 0.
        s.store(zero, tailE, {cT, scratchIndex(s, n)});
        scf::ForOp::create(
            nb, l, c0, cT, c1, ValueRange{zero, zero},
            [&](OpBuilder &fb, Location fl, Value i, ValueRange acc) {
              ScalarBuilder f{fb, fl};
              Value t = arith::SubIOp::create(fb, fl, cLast, i);
              Value gt = f.load(grad, {t, n});
              Value et = fuse ? f.add(gt, f.mul(ds, acc[0])) : gt;
              Value tailEt = f.mul(ds, f.add(et, acc[1]));
              f.store(et, eBuf, {t, scratchIndex(f, n)});
              f.store(tailEt, tailE, {t, scratchIndex(f, n)});
              scf::YieldOp::create(fb, fl, ValueRange{et, tailEt});
            });
        body(s, n);
      });
  tagKernel(loop);
}

PerturbationKernel::Flip PerturbationKernel::flip(ScalarBuilder &s, Value n,
                                                  Value p, Value rPrev,
                                                  Value diffPrev,
                                                  Value dLPrev,
                                                  Value quiet) {
  // The layer's spikes are exactly u >= theta (snn.neuron), so they are not
  // loaded: one array less to read per step of every chain.
  const NeuronModel &m = *neuron;
  Value up = s.load(u, {p, n});
  Value origFires = m.fires(s.b, s.loc, up);
  // The potential at p on the trajectory being flipped.
  Value uHere = rPrev ? m.charge(s.b, s.loc, rPrev, s.load(c, {p, n})) : up;
  Value fires = m.fires(s.b, s.loc, uHere);
  // Least perturbation: fire (carry 0) or stay just below (carry theta),
  // for either reset rule (NA_SPEC section 8).
  Value r = s.sel(fires, theta, zero);
  // (s' - s) / tau_s with s' = !fires, as a difference of selects: the same
  // value as the product, one multiplication less.
  Value dsp = s.sub(s.sel(fires, zero, invTauS), s.sel(origFires, invTauS, zero));
  Value diff = diffPrev ? s.add(s.mul(ds, diffPrev), dsp) : dsp;
  Value dL = s.mul(s.load(eBuf, {p, scratchIndex(s, n)}), diff);
  if (dLPrev)
    dL = s.add(dLPrev, dL);
  Value rOrig = m.reset(s.b, s.loc, up, origFires);
  Value joined = s.eq(r, rOrig);
  if (quiet)
    joined = arith::OrIOp::create(
        s.b, s.loc, joined,
        arith::AndIOp::create(s.b, s.loc, s.icmp(arith::CmpIPredicate::uge,
                                                  s.iadd(p, c1), quiet),
                              s.le(r, rOrig)));
  return {r, diff, dL, joined, s.sub(theta, uHere)};
}

PerturbationKernel::ChainStep
PerturbationKernel::step(ScalarBuilder &w, Value n, Value t, Value r,
                         Value diff, Value dL) {
  // The chain effect: the same input c[t], the perturbed carried potential.
  const NeuronModel &m = *neuron;
  Value uPert = m.charge(w.b, w.loc, r, w.load(c, {t, n}));
  Value fire = m.fires(w.b, w.loc, uPert);
  Value rNext = m.reset(w.b, w.loc, uPert, fire);
  Value ut = w.load(u, {t, n});
  Value origFires = m.fires(w.b, w.loc, ut);
  Value dsp = w.sub(w.sel(fire, invTauS, zero), w.sel(origFires, invTauS, zero));
  Value dNext = w.add(w.mul(ds, diff), dsp);
  Value lNext = w.add(dL, w.mul(w.load(eBuf, {t, scratchIndex(w, n)}), dNext));
  Value rOrig = m.reset(w.b, w.loc, ut, origFires);
  return {rNext, dNext, lNext, w.eq(rNext, rOrig), w.le(rNext, rOrig)};
}

Value PerturbationKernel::chain(ScalarBuilder &s, Value n, Value t,
                                Value tStop, Value r, Value diff, Value dL,
                                Value joined, Value quiet) {
  OpBuilder &pb = s.b;
  Location pl = s.loc;
  SmallVector<Type> types{pb.getIndexType(), pb.getF32Type(), pb.getF32Type(),
                          pb.getF32Type(), pb.getI1Type()};
  auto loop = scf::WhileOp::create(
      pb, pl, types, ValueRange{t, r, diff, dL, joined},
      [&](OpBuilder &wb, Location wl, ValueRange args) {
        Value inRange = arith::CmpIOp::create(wb, wl, arith::CmpIPredicate::ult,
                                              args[0], tStop);
        Value open = arith::XOrIOp::create(
            wb, wl, args[4],
            arith::ConstantIntOp::create(wb, wl, wb.getI1Type(), 1));
        scf::ConditionOp::create(wb, wl,
                                 arith::AndIOp::create(wb, wl, inRange, open),
                                 args);
      },
      [&](OpBuilder &wb, Location wl, ValueRange args) {
        ScalarBuilder w{wb, wl};
        Value tt = args[0];
        ChainStep next = step(w, n, tt, args[1], args[2], args[3]);
        Value tNext = arith::AddIOp::create(wb, wl, tt, c1);
        Value joined = next.joined;
        if (quiet)
          joined = arith::OrIOp::create(
              wb, wl, joined,
              arith::AndIOp::create(
                  wb, wl, w.icmp(arith::CmpIPredicate::uge, tNext, quiet),
                  next.below));
        scf::YieldOp::create(
            wb, wl,
            ValueRange{tNext, next.r, next.diff, next.dL, joined});
      });
  // Rejoined (or past tStop): from tEnd on the spike trains agree, so
  // a' - a = diff * ds^(t - tEnd + 1) and the rest of eq. (13) is
  // diff * ds * E[tEnd]. Ran to T without rejoining: E[T] = 0.
  Value tEnd = loop.getResult(0);
  Value tail = s.mul(loop.getResult(2), s.load(tailE, {tEnd, scratchIndex(s, n)}));
  return s.add(loop.getResult(3), tail);
}

Value PerturbationKernel::quietFrom(ScalarBuilder &s, Value n) {
  auto loop = scf::ForOp::create(
      s.b, s.loc, c0, cT, c1, ValueRange{c0},
      [&](OpBuilder &fb, Location fl, Value t, ValueRange acc) {
        ScalarBuilder q{fb, fl};
        Value fires = neuron->fires(q.b, q.loc, q.load(u, {t, n}));
        scf::YieldOp::create(
            fb, fl, ValueRange{q.sel(fires, q.iadd(t, c1), acc[0])});
      });
  return loop.getResult(0);
}

Value PerturbationKernel::rawError(ScalarBuilder &s, Value n, Value t) {
  if (fusedScan)
    return s.load(grad, {t, n});
  // e[T] = 0: the last step's g is e[T-1].
  Value last = s.icmp(arith::CmpIPredicate::eq, t, cLast);
  Value next = arith::MinUIOp::create(s.b, s.loc, s.iadd(t, c1), cLast);
  Value eNext = s.sel(last, zero, s.load(eBuf, {next, scratchIndex(s, n)}));
  return s.sub(s.load(eBuf, {t, scratchIndex(s, n)}), s.mul(ds, eNext));
}

Value PerturbationKernel::scale(ScalarBuilder &s, Value d) {
  Value inv = s.div(one, s.mul(s.mul(d, d), d));
  return arith::MinimumFOp::create(
      s.b, s.loc, arith::MaximumFOp::create(s.b, s.loc, inv, negClip), clip);
}

void PerturbationKernel::finish() {
  Value result = tensorOf(b, op.getLoc(), op.getType(), out);
  op.replaceAllUsesWith(result);
  op.erase();
  if (fusedScan)
    fusedScan.erase();
}

bool PerturbationKernel::chainsInRegisters() {
  // Measured on an H100: at T = 5 the first convolution's NA kernel (batch
  // 256) takes 101 us instead of 123 us; at T = 30 the MNIST CNN step takes
  // 4.59 ms instead of 3.08 ms (T^2 masked chain steps, 4T live values).
  return steps <= TargetAttr::of(op).getMaxRegisterSteps();
}

int64_t PerturbationKernel::neuronBlock() { return snn::neuronBlock(op); }

Value PerturbationKernel::scratchIndex(ScalarBuilder &s, Value n) {
  return scratchBase ? arith::SubIOp::create(s.b, s.loc, n, scratchBase).getResult()
                     : n;
}

int64_t PerturbationKernel::chainGroup() {
  // The default 6, measured on an H100, MNIST CNN at T = 30 (device ms
  // per step, two runs each): G = 1 2.81, 2 2.18-2.26, 4 1.96, 6 1.80-1.81,
  // 8 1.93, 10 1.92-2.02, 12 2.06-2.15, 15 2.00-2.09.
  return TargetAttr::of(op).getChainGroup();
}

PerturbationKernel::SweepStep
PerturbationKernel::sweepStep(ScalarBuilder &q, Value n, Value t,
                              Value quiet) {
  Value tNext = q.iadd(t, c1);
  return {tNext, q.load(tailE, {tNext, scratchIndex(q, n)}),
          q.icmp(arith::CmpIPredicate::uge, tNext, quiet)};
}

Value PerturbationKernel::stepAt(ScalarBuilder &q, Value p0, int64_t k) {
  if (std::optional<int64_t> c = getConstantIntValue(p0))
    return q.idx(*c + k);
  return k == 0 ? p0 : q.iadd(p0, q.idx(k));
}

Value PerturbationKernel::windowStop(ScalarBuilder &q, Value p0, int64_t k,
                                     int64_t window) {
  if (std::optional<int64_t> c = getConstantIntValue(p0))
    return q.idx(window > 0 ? std::min(steps, *c + k + 1 + window) : steps);
  if (window <= 0)
    return cT;
  return arith::MinUIOp::create(q.b, q.loc, cT,
                                q.iadd(p0, q.idx(k + 1 + window)));
}

SmallVector<Value> PerturbationKernel::continueChain(ScalarBuilder &q, Value n,
                                                     Value t,
                                                     const SweepStep &at,
                                                     ValueRange st,
                                                     Value tStop) {
  OpBuilder &fb = q.b;
  Location fl = q.loc;
  Value r = st[0], diff = st[1], dL = st[2], open = st[3];
  ChainStep c = step(q, n, t, r, diff, dL);
  Value joined = arith::OrIOp::create(
      fb, fl, c.joined, arith::AndIOp::create(fb, fl, at.quietNow, c.below));
  Value ends = arith::OrIOp::create(
      fb, fl, joined, q.icmp(arith::CmpIPredicate::uge, at.tNext, tStop));
  Value stepped =
      q.sel(ends, q.add(c.dL, q.mul(c.diff, at.tailE)), c.dL);
  Value yes = arith::ConstantIntOp::create(fb, fl, fb.getI1Type(), 1);
  Value notEnds = arith::XOrIOp::create(fb, fl, ends, yes);
  // A chain that has ended keeps stepping on its stale state (the neuron's
  // recurrence stays finite), but only its loss change is read and that is
  // frozen: masking r and diff as well would cost two selects a step.
  return {c.r, c.diff, q.sel(open, stepped, dL),
          arith::AndIOp::create(fb, fl, open, notEnds)};
}

SmallVector<Value> PerturbationKernel::startChain(ScalarBuilder &q, Value n,
                                                  Value t, const SweepStep &at,
                                                  Value tStop, Value quiet) {
  Flip f = flip(q, n, t, {}, {}, {}, quiet);
  Value ends = arith::OrIOp::create(
      q.b, q.loc, f.joined, q.icmp(arith::CmpIPredicate::uge, at.tNext, tStop));
  Value dL = q.sel(ends, q.add(f.dL, q.mul(f.diff, at.tailE)), f.dL);
  Value yes = arith::ConstantIntOp::create(q.b, q.loc, q.b.getI1Type(), 1);
  return {f.r, f.diff, dL, arith::XOrIOp::create(q.b, q.loc, ends, yes)};
}

void PerturbationKernel::storeChainResults(ScalarBuilder &s, Value n,
                                           ValueRange results, Value p0,
                                           int64_t count) {
  for (int64_t k = 0; k < count; ++k) {
    Value cp = stepAt(s, p0, k);
    Value eps = s.sub(theta, s.load(u, {cp, n}));
    s.store(s.mul(results[4 * k + 2], scale(s, eps)), delta, {cp, n});
  }
}

void PerturbationKernel::emitChainGroup(ScalarBuilder &s, Value n, Value quiet,
                                        Value p0, int64_t count,
                                        int64_t window, bool sweep) {
  // Steps p0 .. p0+count-1, unrolled: the chains started before t take step
  // t and the chain of the flip at t starts. Chains not yet started cost
  // nothing, and no step computes a flip it does not need.
  SmallVector<Value> st;
  for (int64_t k = 0; k < count; ++k) {
    Value ct = stepAt(s, p0, k);
    SweepStep at = sweepStep(s, n, ct, quiet);
    SmallVector<Value> next;
    for (int64_t j = 0; j < k; ++j)
      llvm::append_range(next, continueChain(s, n, ct, at,
                                             ValueRange(st).slice(4 * j, 4),
                                             windowStop(s, p0, j, window)));
    llvm::append_range(next, startChain(s, n, ct, at,
                                        windowStop(s, p0, k, window), quiet));
    st = std::move(next);
  }
  // From p0 + count on, every chain of the group advances (ended ones
  // masked) while one is still open.
  if (sweep) {
    SmallVector<Value> init{stepAt(s, p0, count)};
    llvm::append_range(init, st);
    SmallVector<Type> types;
    for (Value v : init)
      types.push_back(v.getType());
    auto loop = scf::WhileOp::create(
        s.b, s.loc, types, init,
        [&](OpBuilder &wb, Location wl, ValueRange args) {
          ScalarBuilder w{wb, wl};
          Value busy = args[4];
          for (int64_t k = 1; k < count; ++k)
            busy = arith::OrIOp::create(wb, wl, busy, args[4 * k + 4]);
          Value go = arith::AndIOp::create(
              wb, wl, w.icmp(arith::CmpIPredicate::ult, args[0], cT), busy);
          scf::ConditionOp::create(wb, wl, go, args);
        },
        [&](OpBuilder &wb, Location wl, ValueRange args) {
          ScalarBuilder w{wb, wl};
          Value t = args[0];
          SweepStep at = sweepStep(w, n, t, quiet);
          SmallVector<Value> next{at.tNext};
          for (int64_t k = 0; k < count; ++k)
            llvm::append_range(
                next, continueChain(w, n, t, at,
                                    args.drop_front().slice(4 * k, 4),
                                    windowStop(w, p0, k, window)));
          scf::YieldOp::create(wb, wl, next);
        });
    st.assign(loop.getResults().begin() + 1, loop.getResults().end());
  }
  storeChainResults(s, n, st, p0, count);
}

void PerturbationKernel::emitGroupedSNS(int64_t window, int64_t group) {
  forEachNeuron([&](ScalarBuilder &s, Value n) {
    Value quiet = quietFrom(s, n);
    if (steps <= kUnrolledGroupSteps) {
      for (int64_t p0 = 0; p0 < steps; p0 += group) {
        int64_t count = std::min(steps, p0 + group) - p0;
        emitChainGroup(s, n, quiet, s.idx(p0), count, window,
                       p0 + count < steps);
      }
      return;
    }
    // Long windows: one loop over the whole groups, then the rest.
    int64_t whole = steps / group, rest = steps % group;
    scf::ForOp::create(
        s.b, s.loc, c0, s.idx(whole * group), s.idx(group), ValueRange{},
        [&](OpBuilder &fb, Location fl, Value p0, ValueRange) {
          ScalarBuilder q{fb, fl};
          emitChainGroup(q, n, quiet, p0, group, window, true);
          scf::YieldOp::create(fb, fl);
        });
    if (rest > 0)
      emitChainGroup(s, n, quiet, s.idx(whole * group), rest, window, false);
  });
}

void PerturbationKernel::emitPerNeuronSNS(int64_t window) {
  forEachNeuron([&](ScalarBuilder &s, Value n) {
    Value quiet = quietFrom(s, n);
    scf::ForOp::create(
        s.b, s.loc, c0, cT, c1, ValueRange{},
        [&](OpBuilder &fb, Location fl, Value p, ValueRange) {
          ScalarBuilder q{fb, fl};
          Value t0 = q.iadd(p, c1);
          Value tStop = cT;
          if (window > 0)
            tStop = arith::MinUIOp::create(fb, fl, cT, q.iadd(t0, q.idx(window)));
          Flip f = flip(q, n, p, {}, {}, {}, quiet);
          Value dL =
              chain(q, n, t0, tStop, f.r, f.diff, f.dL, f.joined, quiet);
          q.store(q.mul(dL, scale(q, f.eps)), delta, {p, n});
          scf::YieldOp::create(fb, fl);
        });
  });
}

void PerturbationKernel::emitBlockedSNS(int64_t window) {
  Location loc = op.getLoc();
  int64_t block = neuronBlock();
  int64_t blocks = (neurons + block - 1) / block;
  bool fuse = static_cast<bool>(fusedScan);
  Value cBlock = b.createOrFold<arith::ConstantIndexOp>(loc, block);
  Value cN = b.createOrFold<arith::ConstantIndexOp>(loc, neurons);
  // The scans and the chains' state are the block's own: stack buffers of
  // the parallel iteration (scf.parallel is an allocation scope), which stay
  // in the core's cache, instead of [T, N] arrays that every step would
  // write back to memory (for the MNIST CNN's first layer, 15 rows of 2.2
  // MB).
  Value eAll = eBuf, tailAll = tailE;
  auto loop = scf::ParallelOp::create(
      b, loc, ValueRange{c0},
      ValueRange{b.createOrFold<arith::ConstantIndexOp>(loc, blocks)},
      ValueRange{c1}, [&](OpBuilder &pb, Location pl, ValueRange ivs) {
        ScalarBuilder s{pb, pl};
        Value n0 = s.imul(ivs[0], cBlock);
        Value n1 = arith::MinUIOp::create(pb, pl, s.iadd(n0, cBlock), cN);
        auto local = [&](ArrayRef<int64_t> shape) {
          return memref::AllocaOp::create(
              pb, pl, MemRefType::get(shape, pb.getF32Type()));
        };
        int64_t width = std::min(block, neurons);
        eBuf = local({steps, width});
        tailE = local({steps + 1, width});
        scratchBase = n0;
        Value rB = local({width}), diffB = local({width}), dLB = local({width}),
              activeB = local({width});
        // The block's neurons, innermost: `f` gets neuron n and n - n0.
        auto forNeurons = [&](ScalarBuilder &o,
                              function_ref<void(ScalarBuilder &, Value, Value)> f) {
          forBlockNeurons(o, n0, n1, f);
        };
        // Reverse scans e and E, neurons innermost.
        forNeurons(s, [&](ScalarBuilder &q, Value, Value i) {
          q.store(zero, tailE, {cT, i});
        });
        forRange(s, c0, cT, [&](ScalarBuilder &q, Value it) {
          Value t = arith::SubIOp::create(q.b, q.loc, cLast, it);
          Value last = arith::CmpIOp::create(q.b, q.loc, arith::CmpIPredicate::eq,
                                             it, c0);
          Value tNext = arith::MinUIOp::create(q.b, q.loc, q.iadd(t, c1), cLast);
          Value tE = q.iadd(t, c1);
          forNeurons(q, [&](ScalarBuilder &w, Value n, Value i) {
            Value g = w.load(grad, {t, n});
            Value eNext = w.sel(last, zero, w.load(eBuf, {tNext, i}));
            Value e = fuse ? w.add(g, w.mul(ds, eNext)) : g;
            w.store(e, eBuf, {t, i});
            w.store(w.mul(ds, w.add(e, w.load(tailE, {tE, i}))), tailE, {t, i});
          });
        });
        forRange(s, c0, cT, [&](ScalarBuilder &q, Value p) {
          Value t0 = q.iadd(p, c1);
          Value tStop = cT;
          if (window > 0)
            tStop = arith::MinUIOp::create(q.b, q.loc, cT,
                                           q.iadd(t0, q.idx(window)));
          // The flip at p; a trajectory that rejoins at once gets its tail.
          forNeurons(q, [&](ScalarBuilder &w, Value n, Value i) {
            Flip f = flip(w, n, p);
            Value tail = w.mul(f.diff, w.load(tailE, {t0, i}));
            w.store(f.r, rB, i);
            w.store(f.diff, diffB, i);
            w.store(w.sel(f.joined, w.add(f.dL, tail), f.dL), dLB, i);
            w.store(w.sel(f.joined, zero, one), activeB, i);
          });
          // The chain effect, one step for all neurons of the block at a time.
          forRange(q, t0, tStop, [&](ScalarBuilder &r, Value t) {
            Value tE = r.iadd(t, c1);
            forNeurons(r, [&](ScalarBuilder &w, Value n, Value i) {
              Value active = w.gt(w.load(activeB, i), half);
              Value rp = w.load(rB, i), d = w.load(diffB, i), l = w.load(dLB, i);
              ChainStep next = step(w, n, t, rp, d, l);
              Value joined = next.joined;
              Value tail = w.mul(next.diff, w.load(tailE, {tE, i}));
              Value lNext = w.sel(joined, w.add(next.dL, tail), next.dL);
              w.store(w.sel(active, next.r, rp), rB, i);
              w.store(w.sel(active, next.diff, d), diffB, i);
              w.store(w.sel(active, lNext, l), dLB, i);
              Value stillActive = arith::AndIOp::create(
                  w.b, w.loc, active,
                  arith::XOrIOp::create(
                      w.b, w.loc, joined,
                      arith::ConstantIntOp::create(w.b, w.loc, w.b.getI1Type(), 1)));
              w.store(w.sel(stillActive, one, zero), activeB, i);
            });
          });
          // Past the window (or at T: E[T] = 0), then eq. (17).
          forNeurons(q, [&](ScalarBuilder &w, Value n, Value i) {
            Value active = w.gt(w.load(activeB, i), half);
            Value tail = w.mul(w.load(diffB, i), w.load(tailE, {tStop, i}));
            Value l = w.load(dLB, i);
            l = w.sel(active, w.add(l, tail), l);
            Value eps = w.sub(theta, w.load(u, {p, n}));
            w.store(w.mul(l, scale(w, eps)), delta, {p, n});
          });
        });
      });
  tagKernel(loop);
  eBuf = eAll;
  tailE = tailAll;
  scratchBase = {};
  // The whole-layer buffers are not used by this kernel.
  for (Value v : {eAll, tailAll})
    if (v.use_empty())
      v.getDefiningOp()->erase();
}
