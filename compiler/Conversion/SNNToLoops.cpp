//===- SNNToLoops.cpp - pooling, dropout, losses, optimizer -> loops -------===//
#include "compiler/Conversion/LoopEmitter.h"
#include "compiler/Conversion/Passes.h"

#include <functional>

namespace mlir::snn {
#define GEN_PASS_DEF_SNNTOLOOPSPASS
#include "compiler/Conversion/Passes.h.inc"
} // namespace mlir::snn

using namespace mlir;
using namespace mlir::snn;

namespace {

int64_t numElements(Type t) { return cast<ShapedType>(t).getNumElements(); }

/// A tensor's buffer flattened to `[T, N]` (from = 1) or `[N]` (from = 0).
Value flat(OpBuilder &b, Location loc, Value tensor, int64_t from) {
  return collapseTail(b, loc, bufferOf(b, loc, tensor), from);
}

void lowerPool(PoolOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  Value in = bufferOf(b, loc, op.getInput());
  Value out = allocFor(b, loc, op.getType());
  auto k = op.getKernel();
  float factor = op.getScale().convertToFloat();
  if (op.getKind() == PoolKind::avg)
    factor /= static_cast<float>(k[0] * k[1]);
  parallelFor(b, loc, op.getType().getShape(), [&](ScalarBuilder &s,
                                                   ValueRange iv) {
    Value sum = s.f(0.0f);
    for (int64_t ky = 0; ky < k[0]; ++ky)
      for (int64_t kx = 0; kx < k[1]; ++kx) {
        Value y = s.iadd(s.imul(iv[3], s.idx(k[0])), s.idx(ky));
        Value x = s.iadd(s.imul(iv[4], s.idx(k[1])), s.idx(kx));
        sum = s.add(sum, s.load(in, {iv[0], iv[1], iv[2], y, x}));
      }
    s.store(s.mul(sum, s.f(factor)), out, iv);
  });
  op.getResult().replaceAllUsesWith(tensorOf(b, loc, op.getType(), out));
  op.erase();
}

void lowerPoolGrad(PoolGradOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  Value g = bufferOf(b, loc, op.getGrad());
  Value out = allocFor(b, loc, op.getType());
  auto k = op.getKernel();
  auto gShape = op.getGrad().getType().getShape();
  float factor = op.getScale().convertToFloat();
  if (op.getKind() == PoolKind::avg)
    factor /= static_cast<float>(k[0] * k[1]);
  parallelFor(b, loc, op.getType().getShape(), [&](ScalarBuilder &s,
                                                   ValueRange iv) {
    Value oy = arith::DivUIOp::create(s.b, s.loc, iv[3], s.idx(k[0]));
    Value ox = arith::DivUIOp::create(s.b, s.loc, iv[4], s.idx(k[1]));
    Value inY = arith::CmpIOp::create(s.b, s.loc, arith::CmpIPredicate::ult,
                                      oy, s.idx(gShape[3]));
    Value inX = arith::CmpIOp::create(s.b, s.loc, arith::CmpIPredicate::ult,
                                      ox, s.idx(gShape[4]));
    Value inside = arith::AndIOp::create(s.b, s.loc, inY, inX);
    // Clamp so that the load stays in bounds; the select drops it outside.
    Value cy = arith::MinUIOp::create(s.b, s.loc, oy, s.idx(gShape[3] - 1));
    Value cx = arith::MinUIOp::create(s.b, s.loc, ox, s.idx(gShape[4] - 1));
    Value v = s.mul(s.load(g, {iv[0], iv[1], iv[2], cy, cx}), s.f(factor));
    s.store(s.sel(inside, v, s.f(0.0f)), out, iv);
  });
  op.getResult().replaceAllUsesWith(tensorOf(b, loc, op.getType(), out));
  op.erase();
}

/// k[t] = 1 - (1 - 1/tau_s)^(t+1) for t < T, a constant through the PSC
/// kernel, computed once into a [T] buffer (not once per element); null for
/// tau_s = 1 (k = 1).
Value pscGains(OpBuilder &b, Location loc, float tauS, int64_t steps) {
  if (tauS == 1.0f)
    return {};
  Value k = memref::AllocOp::create(
      b, loc, MemRefType::get({steps}, b.getF32Type()));
  ScalarBuilder s{b, loc};
  float ds = 1.0f - 1.0f / tauS;
  sumFor(b, loc, steps, ValueRange{s.f(1.0f)},
         [&](ScalarBuilder &f, Value t, ValueRange acc) {
           Value power = f.mul(acc[0], f.f(ds)); // ds^(t+1)
           f.store(f.sub(f.f(1.0f), power), k, t);
           return SmallVector<Value>{power};
         });
  return k;
}

void lowerBiasAdd(BiasAddOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  Value in = bufferOf(b, loc, op.getInput());
  Value bias = bufferOf(b, loc, op.getBias());
  Value out = allocFor(b, loc, op.getType());
  Value gains = pscGains(b, loc, op.getTauS().convertToFloat(),
                         op.getType().getDimSize(0));
  parallelFor(b, loc, op.getType().getShape(),
              [&](ScalarBuilder &s, ValueRange iv) {
                Value bv = s.load(bias, iv[2]);
                if (gains)
                  bv = s.mul(bv, s.load(gains, iv[0]));
                s.store(s.add(s.load(in, iv), bv), out, iv);
              });
  op.getResult().replaceAllUsesWith(tensorOf(b, loc, op.getType(), out));
  op.erase();
}

/// db[o] = sum over t, b and positions of delta[t, b, o, ...], in two
/// parallel stages (per sample and channel, then over the batch) so that a
/// GPU has B * O threads for the long sums, not O.
void lowerBiasGrad(BiasGradOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  auto shape = op.getDelta().getType().getShape();
  Value delta = bufferOf(b, loc, op.getDelta());
  int64_t batch = shape[1], channels = shape[2];
  Value gains = pscGains(b, loc, op.getTauS().convertToFloat(), shape[0]);
  Value partial = memref::AllocOp::create(
      b, loc, MemRefType::get({batch, channels}, b.getF32Type()));
  parallelFor(b, loc, {batch, channels}, [&](ScalarBuilder &s, ValueRange bo) {
    // Nested sums over t and the positions (axes 3...).
    std::function<Value(ScalarBuilder &, SmallVector<Value>, size_t, Value)>
        sumFrom = [&](ScalarBuilder &q, SmallVector<Value> iv, size_t axis,
                      Value acc) -> Value {
      if (axis == shape.size()) {
        Value d = q.load(delta, iv);
        if (gains)
          d = q.mul(d, q.load(gains, iv[0]));
        return q.add(acc, d);
      }
      if (axis == 1 || axis == 2)
        return sumFrom(q, iv, axis + 1, acc);
      return sumFor(q.b, q.loc, shape[axis], acc,
                    [&](ScalarBuilder &f, Value i, ValueRange a) {
                      SmallVector<Value> next = iv;
                      next[axis] = i;
                      return SmallVector<Value>{
                          sumFrom(f, next, axis + 1, a[0])};
                    })[0];
    };
    SmallVector<Value> iv(shape.size(), Value());
    iv[1] = bo[0];
    iv[2] = bo[1];
    s.store(sumFrom(s, iv, 0, s.f(0.0f)), partial, bo);
  });
  Value out = allocFor(b, loc, op.getType());
  parallelFor(b, loc, {channels}, [&](ScalarBuilder &s, ValueRange o) {
    Value sum = sumFor(s.b, s.loc, batch, s.f(0.0f),
                       [&](ScalarBuilder &f, Value i, ValueRange a) {
                         return SmallVector<Value>{
                             f.add(a[0], f.load(partial, {i, o[0]}))};
                       })[0];
    s.store(sum, out, o);
  });
  op.getResult().replaceAllUsesWith(tensorOf(b, loc, op.getType(), out));
  op.erase();
}

void lowerFlatten(FlattenOp op) {
  OpBuilder b(op);
  ReassociationIndices features;
  for (int64_t i = 2; i < op.getInput().getType().getRank(); ++i)
    features.push_back(i);
  auto collapsed = tensor::CollapseShapeOp::create(
      b, op.getLoc(), op.getType(), op.getInput(),
      SmallVector<ReassociationIndices>{{0}, {1}, features});
  op.getResult().replaceAllUsesWith(collapsed.getResult());
  op.erase();
}

void lowerDropout(DropoutOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  auto type = op.getInput().getType();
  int64_t steps = type.getDimSize(0), n = numElements(op.getMask().getType());
  float rate = op.getRate().convertToFloat();
  Value in = flat(b, loc, op.getInput(), 1);
  Value mask = allocFor(b, loc, op.getMask().getType());
  Value maskFlat = collapseTail(b, loc, mask, 0);
  Value out = allocFor(b, loc, type);
  Value outFlat = collapseTail(b, loc, out, 1);
  parallelFor(b, loc, {n}, [&](ScalarBuilder &s, ValueRange iv) {
    Value keep = s.ge(uniform(s, op.getKey(), iv[0], op.getStream()), s.f(rate));
    s.store(s.sel(keep, s.f(1.0f / (1.0f - rate)), s.f(0.0f)), maskFlat, iv);
  });
  parallelFor(b, loc, {steps, n}, [&](ScalarBuilder &s, ValueRange iv) {
    s.store(s.mul(s.load(in, iv), s.load(maskFlat, iv[1])), outFlat, iv);
  });
  op.getResult().replaceAllUsesWith(tensorOf(b, loc, type, out));
  op.getMask().replaceAllUsesWith(
      tensorOf(b, loc, op.getMask().getType(), mask));
  op.erase();
}

void lowerDropoutGrad(DropoutGradOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  auto type = op.getGrad().getType();
  int64_t steps = type.getDimSize(0), n = numElements(op.getMask().getType());
  Value g = flat(b, loc, op.getGrad(), 1);
  Value mask = flat(b, loc, op.getMask(), 0);
  Value out = allocFor(b, loc, type);
  Value outFlat = collapseTail(b, loc, out, 1);
  parallelFor(b, loc, {steps, n}, [&](ScalarBuilder &s, ValueRange iv) {
    s.store(s.mul(s.load(g, iv), s.load(mask, iv[1])), outFlat, iv);
  });
  op.getResult().replaceAllUsesWith(tensorOf(b, loc, type, out));
  op.erase();
}

/// r[n] = sum_t k[t] g[t, n] with k[t] = ds k[t-1] + 1/tau_s, the
/// recurrence that snn.encode_current steps through.
void lowerEncodeCurrentGrad(EncodeCurrentGradOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  int64_t steps = op.getGrad().getType().getDimSize(0);
  float tauS = op.getTauS().convertToFloat();
  Value g = flat(b, loc, op.getGrad(), 1);
  Value out = allocFor(b, loc, op.getType());
  Value outFlat = collapseTail(b, loc, out, 0);
  parallelFor(b, loc, {numElements(op.getType())}, [&](ScalarBuilder &s,
                                                       ValueRange iv) {
    auto r = sumFor(s.b, s.loc, steps, {s.f(0.0f), s.f(0.0f)},
                    [&](ScalarBuilder &t, Value i, ValueRange acc) {
                      Value k = t.add(t.mul(t.f(1.0f - 1.0f / tauS), acc[0]),
                                      t.f(1.0f / tauS));
                      Value sum = t.add(acc[1], t.mul(k, t.load(g, {i, iv[0]})));
                      return SmallVector<Value>{k, sum};
                    });
    s.store(r[1], outFlat, iv);
  });
  op.getResult().replaceAllUsesWith(tensorOf(b, loc, op.getType(), out));
  op.erase();
}

void lowerTargetSpikes(TargetSpikesOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  Value labels = bufferOf(b, loc, op.getLabels());
  Value out = allocFor(b, loc, op.getType());
  parallelFor(b, loc, op.getType().getShape(), [&](ScalarBuilder &s,
                                                   ValueRange iv) {
    Value label = s.load(labels, iv[1]);
    Value n = arith::IndexCastOp::create(s.b, s.loc, s.b.getI32Type(), iv[2]);
    Value hit = arith::CmpIOp::create(s.b, s.loc, arith::CmpIPredicate::eq,
                                      label, n);
    s.store(s.sel(hit, s.f(1.0f), s.f(0.0f)), out, iv);
  });
  op.getResult().replaceAllUsesWith(tensorOf(b, loc, op.getType(), out));
  op.erase();
}

/// Shared by both losses: per neuron n (sequentially, accumulating the
/// loss), `perNeuron` writes grad[:, n] and returns n's loss term.
template <typename LossOp>
void lowerLoss(LossOp op,
               function_ref<Value(ScalarBuilder &, Value a, Value d, Value g,
                                  Value n, int64_t steps)>
                   perNeuron) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  auto type = op.getOutput().getType();
  int64_t steps = type.getDimSize(0), n = numElements(type) / steps;
  Value a = flat(b, loc, op.getOutput(), 1);
  Value d = flat(b, loc, op.getDesired(), 1);
  Value grad = allocFor(b, loc, type);
  Value gFlat = collapseTail(b, loc, grad, 1);
  ScalarBuilder s{b, loc};
  Value loss = sumFor(b, loc, n, s.f(0.0f), [&](ScalarBuilder &ns, Value i,
                                               ValueRange acc) {
    return SmallVector<Value>{
        ns.add(acc[0], perNeuron(ns, a, d, gFlat, i, steps))};
  })[0];
  op.getLoss().replaceAllUsesWith(loss);
  op.getGrad().replaceAllUsesWith(tensorOf(b, loc, type, grad));
  op.erase();
}

void lowerVanRossum(VanRossumLossOp op) {
  float tauS = op.getTauS().convertToFloat();
  lowerLoss(op, [&](ScalarBuilder &s, Value a, Value d, Value g, Value n,
                    int64_t steps) {
    Value ds = s.f(1.0f - 1.0f / tauS), inv = s.f(1.0f / tauS);
    auto r = sumFor(s.b, s.loc, steps, {s.f(0.0f), s.f(0.0f)},
                    [&](ScalarBuilder &t, Value i, ValueRange acc) {
                      // (sigma * d)[t]: the desired spikes through the kernel.
                      Value sd = t.add(t.mul(ds, acc[0]),
                                       t.mul(t.load(d, {i, n}), inv));
                      Value diff = t.sub(t.load(a, {i, n}), sd);
                      t.store(diff, g, {i, n});
                      Value term = t.mul(t.f(0.5f), t.mul(diff, diff));
                      return SmallVector<Value>{sd, t.add(acc[1], term)};
                    });
    return r[1];
  });
}

/// Per sample (sequentially, accumulating the loss): the time-summed
/// logits, their logsumexp, the loss term and grad[:, b, :].
void lowerCrossEntropy(CrossEntropyLossOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  auto type = op.getOutput().getType();
  int64_t T = type.getDimSize(0), B = type.getDimSize(1), C = type.getDimSize(2);
  Value a = bufferOf(b, loc, op.getOutput());
  Value labels = bufferOf(b, loc, op.getLabels());
  Value grad = allocFor(b, loc, type);
  Value z = memref::AllocOp::create(b, loc,
                                    MemRefType::get({B, C}, b.getF32Type()));
  ScalarBuilder s{b, loc};
  float invB = 1.0f / static_cast<float>(B);
  Value loss = sumFor(b, loc, B, s.f(0.0f), [&](ScalarBuilder &q, Value bi,
                                                ValueRange acc) {
    Value mx = sumFor(q.b, q.loc, C, q.f(-INFINITY),
                      [&](ScalarBuilder &r, Value c, ValueRange m) {
                        Value zc = sumFor(r.b, r.loc, T, r.f(0.0f),
                                          [&](ScalarBuilder &u, Value t,
                                              ValueRange z0) {
                                            return SmallVector<Value>{u.add(
                                                z0[0], u.load(a, {t, bi, c}))};
                                          })[0];
                        r.store(zc, z, {bi, c});
                        return SmallVector<Value>{
                            arith::MaximumFOp::create(r.b, r.loc, m[0], zc)};
                      })[0];
    Value se = sumFor(q.b, q.loc, C, q.f(0.0f),
                      [&](ScalarBuilder &r, Value c, ValueRange e) {
                        Value ex = math::ExpOp::create(
                            r.b, r.loc, r.sub(r.load(z, {bi, c}), mx));
                        return SmallVector<Value>{r.add(e[0], ex)};
                      })[0];
    Value y = arith::IndexCastOp::create(q.b, q.loc, q.b.getIndexType(),
                                         q.load(labels, {bi}));
    forRange(q, q.idx(0), q.idx(C), [&](ScalarBuilder &r, Value c) {
      Value p = r.div(math::ExpOp::create(r.b, r.loc,
                                          r.sub(r.load(z, {bi, c}), mx)),
                      se);
      Value hit = arith::CmpIOp::create(r.b, r.loc, arith::CmpIPredicate::eq,
                                        c, y);
      Value g = r.mul(r.sub(p, r.sel(hit, r.f(1.0f), r.f(0.0f))), r.f(invB));
      forRange(r, r.idx(0), r.idx(T),
               [&](ScalarBuilder &u, Value t) { u.store(g, grad, {t, bi, c}); });
    });
    Value lse = q.add(math::LogOp::create(q.b, q.loc, se), mx);
    Value term = q.sub(lse, q.load(z, {bi, y}));
    return SmallVector<Value>{q.add(acc[0], q.mul(term, q.f(invB)))};
  })[0];
  op.getLoss().replaceAllUsesWith(loss);
  op.getGrad().replaceAllUsesWith(tensorOf(b, loc, type, grad));
  op.erase();
}

void lowerSpikeCount(SpikeCountLossOp op) {
  lowerLoss(op, [&](ScalarBuilder &s, Value a, Value d, Value g, Value n,
                    int64_t steps) {
    auto sums = sumFor(s.b, s.loc, steps, {s.f(0.0f), s.f(0.0f)},
                       [&](ScalarBuilder &t, Value i, ValueRange acc) {
                         return SmallVector<Value>{
                             t.add(acc[0], t.load(a, {i, n})),
                             t.add(acc[1], t.load(d, {i, n}))};
                       });
    Value diff = s.sub(sums[0], sums[1]);
    sumFor(s.b, s.loc, steps, {}, [&](ScalarBuilder &t, Value i, ValueRange) {
      t.store(diff, g, {i, n});
      return SmallVector<Value>{};
    });
    return s.mul(s.f(0.5f), s.mul(diff, diff));
  });
}

void lowerClipGradNorm(ClipGradNormOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  ScalarBuilder s{b, loc};
  Value sumSq = s.f(0.0f);
  SmallVector<Value> flats;
  for (Value g : op.getGrads()) {
    Value gf = flat(b, loc, g, 0);
    flats.push_back(gf);
    sumSq = sumFor(b, loc, numElements(g.getType()), sumSq,
                   [&](ScalarBuilder &t, Value i, ValueRange acc) {
                     Value v = t.load(gf, i);
                     return SmallVector<Value>{t.add(acc[0], t.mul(v, v))};
                   })[0];
  }
  Value norm = math::SqrtOp::create(b, loc, sumSq);
  Value factor = arith::MinimumFOp::create(
      b, loc, s.f(1.0f),
      s.div(s.f(op.getMaxNorm().convertToFloat()), s.add(norm, s.f(1e-6f))));
  for (auto [g, gf, res] : llvm::zip(op.getGrads(), flats, op.getClipped())) {
    Value out = allocFor(b, loc, g.getType());
    Value outFlat = collapseTail(b, loc, out, 0);
    parallelFor(b, loc, {numElements(g.getType())},
                [&](ScalarBuilder &t, ValueRange iv) {
                  t.store(t.mul(t.load(gf, iv), factor), outFlat, iv);
                });
    res.replaceAllUsesWith(tensorOf(b, loc, g.getType(), out));
  }
  op.getNorm().replaceAllUsesWith(norm);
  op.erase();
}

/// torch.optim.AdamW, step for step.
/// torch.optim.AdamW (decoupled decay) or, with `coupled`, torch.optim.Adam
/// (g += wd p).
template <typename Op> void lowerAdam(Op op, bool coupled) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  ScalarBuilder s{b, loc};
  Type type = op.getParam().getType();
  float b1 = op.getBeta1().convertToFloat(), b2 = op.getBeta2().convertToFloat();
  float eps = op.getEps().convertToFloat();
  float wd = op.getWeightDecay().convertToFloat();
  Value step = arith::SIToFPOp::create(b, loc, b.getF32Type(), op.getStep());
  Value bc1 = s.sub(s.f(1.0f), math::PowFOp::create(b, loc, s.f(b1), step));
  Value bc2 = s.sub(s.f(1.0f), math::PowFOp::create(b, loc, s.f(b2), step));
  Value lr = op.getLr();
  Value stepSize = s.div(lr, bc1);
  Value sqrtBc2 = math::SqrtOp::create(b, loc, bc2);
  Value decay = s.sub(s.f(1.0f), s.mul(lr, s.f(wd)));
  Value p = flat(b, loc, op.getParam(), 0), g = flat(b, loc, op.getGrad(), 0);
  Value m = flat(b, loc, op.getM(), 0), v = flat(b, loc, op.getV(), 0);
  Value pOut = allocFor(b, loc, type), mOut = allocFor(b, loc, type);
  Value vOut = allocFor(b, loc, type);
  Value pf = collapseTail(b, loc, pOut, 0), mf = collapseTail(b, loc, mOut, 0);
  Value vf = collapseTail(b, loc, vOut, 0);
  parallelFor(b, loc, {numElements(type)}, [&](ScalarBuilder &t,
                                               ValueRange iv) {
    Value pi = t.load(p, iv);
    Value gi = t.load(g, iv);
    Value p1 = pi;
    if (coupled)
      gi = t.add(gi, t.mul(t.f(wd), pi));
    else
      p1 = t.mul(pi, decay);
    Value m1 = t.add(t.mul(t.f(b1), t.load(m, iv)), t.mul(t.f(1.0f - b1), gi));
    Value v1 = t.add(t.mul(t.f(b2), t.load(v, iv)),
                     t.mul(t.mul(t.f(1.0f - b2), gi), gi));
    Value denom =
        t.add(t.div(math::SqrtOp::create(t.b, t.loc, v1), sqrtBc2), t.f(eps));
    t.store(t.sub(p1, t.mul(stepSize, t.div(m1, denom))), pf, iv);
    t.store(m1, mf, iv);
    t.store(v1, vf, iv);
  });
  op.getNewParam().replaceAllUsesWith(tensorOf(b, loc, type, pOut));
  op.getNewM().replaceAllUsesWith(tensorOf(b, loc, type, mOut));
  op.getNewV().replaceAllUsesWith(tensorOf(b, loc, type, vOut));
  op.erase();
}

void lowerSGD(SGDOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  Type type = op.getParam().getType();
  float mu = op.getMomentum().convertToFloat();
  float wd = op.getWeightDecay().convertToFloat();
  bool nesterov = op.getNesterov();
  Value lr = op.getLr();
  Value p = flat(b, loc, op.getParam(), 0), g = flat(b, loc, op.getGrad(), 0);
  Value buf = flat(b, loc, op.getBuf(), 0);
  Value pOut = allocFor(b, loc, type), bOut = allocFor(b, loc, type);
  Value pf = collapseTail(b, loc, pOut, 0), bf = collapseTail(b, loc, bOut, 0);
  parallelFor(b, loc, {numElements(type)}, [&](ScalarBuilder &t,
                                               ValueRange iv) {
    Value pi = t.load(p, iv);
    Value gi = t.load(g, iv);
    if (wd != 0.0f)
      gi = t.add(gi, t.mul(t.f(wd), pi));
    Value d = gi, b1 = t.load(buf, iv);
    if (mu != 0.0f) {
      b1 = t.add(t.mul(t.f(mu), b1), gi);
      d = nesterov ? t.add(gi, t.mul(t.f(mu), b1)) : b1;
    }
    t.store(t.sub(pi, t.mul(lr, d)), pf, iv);
    t.store(b1, bf, iv);
  });
  op.getNewParam().replaceAllUsesWith(tensorOf(b, loc, type, pOut));
  op.getNewBuf().replaceAllUsesWith(tensorOf(b, loc, type, bOut));
  op.erase();
}

/// A [T, B, C, ...] buffer as [T*B, C, positions].
Value channelView(OpBuilder &b, Location loc, Value m) {
  auto t = cast<MemRefType>(m.getType());
  SmallVector<ReassociationIndices> groups{{0, 1}, {2}};
  if (t.getRank() > 3) {
    ReassociationIndices rest;
    for (int64_t i = 3; i < t.getRank(); ++i)
      rest.push_back(i);
    groups.push_back(rest);
    return memref::CollapseShapeOp::create(b, loc, m, groups);
  }
  Value nc = memref::CollapseShapeOp::create(b, loc, m, groups);
  auto nct = cast<MemRefType>(nc.getType());
  return memref::ExpandShapeOp::create(
      b, loc,
      MemRefType::get({nct.getDimSize(0), nct.getDimSize(1), 1},
                      b.getF32Type()),
      nc, ArrayRef<ReassociationIndices>{{0}, {1, 2}});
}

/// Sums of `terms(q, n, p)` over the samples n and positions p of one
/// channel of a [N, C, P] view, all terms in one pass.
SmallVector<Value>
channelSums(ScalarBuilder &s, int64_t N, int64_t P, ValueRange init,
            function_ref<SmallVector<Value>(ScalarBuilder &, Value, Value)>
                terms) {
  return sumFor(s.b, s.loc, N, init,
                [&](ScalarBuilder &q, Value n, ValueRange acc) {
                  return sumFor(q.b, q.loc, P, acc,
                                [&](ScalarBuilder &r, Value p, ValueRange a) {
                                  SmallVector<Value> t = terms(r, n, p);
                                  SmallVector<Value> out;
                                  for (auto [x, y] : llvm::zip(a, t))
                                    out.push_back(r.add(x, y));
                                  return out;
                                });
                });
}

/// Every element of one channel of a [N, C, P] view.
void channelForEach(ScalarBuilder &s, int64_t N, int64_t P,
                    function_ref<void(ScalarBuilder &, Value, Value)> body) {
  forRange(s, s.idx(0), s.idx(N), [&](ScalarBuilder &q, Value n) {
    forRange(q, q.idx(0), q.idx(P),
             [&](ScalarBuilder &r, Value p) { body(r, n, p); });
  });
}

/// Per channel (one parallel iteration each): the statistics, the running
/// ones' update, then y = gamma (x - mean) inv_std + beta.
void lowerBatchNorm(BatchNormOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  auto type = op.getInput().getType();
  Value x = channelView(b, loc, bufferOf(b, loc, op.getInput()));
  Value out = allocFor(b, loc, type);
  Value y = channelView(b, loc, out);
  auto view = cast<MemRefType>(x.getType());
  int64_t N = view.getDimSize(0), C = view.getDimSize(1), P = view.getDimSize(2);
  float count = static_cast<float>(N * P);
  Value gamma = bufferOf(b, loc, op.getGamma()), beta = bufferOf(b, loc, op.getBeta());
  Value rm = bufferOf(b, loc, op.getRunningMean());
  Value rv = bufferOf(b, loc, op.getRunningVar());
  Type ct = op.getGamma().getType();
  Value newMean = allocFor(b, loc, ct), newVar = allocFor(b, loc, ct);
  Value meanOut = allocFor(b, loc, ct), invOut = allocFor(b, loc, ct);
  float eps = op.getEps().convertToFloat(), m = op.getMomentum().convertToFloat();
  bool training = op.getTraining();
  int64_t updates = op.getUpdates();
  parallelFor(b, loc, {C}, [&](ScalarBuilder &s, ValueRange iv) {
    Value c = iv[0];
    Value mean, var;
    if (training) {
      mean = s.div(channelSums(s, N, P, {s.f(0.0f)},
                               [&](ScalarBuilder &q, Value n, Value p) {
                                 return SmallVector<Value>{q.load(x, {n, c, p})};
                               })[0],
                   s.f(count));
      var = s.div(channelSums(s, N, P, {s.f(0.0f)},
                              [&](ScalarBuilder &q, Value n, Value p) {
                                Value d = q.sub(q.load(x, {n, c, p}), mean);
                                return SmallVector<Value>{q.mul(d, d)};
                              })[0],
                  s.f(count));
      // The running statistics: momentum on the batch's, unbiased variance.
      Value r0 = s.load(rm, c), r1 = s.load(rv, c);
      Value unbiased = s.mul(var, s.f(count / std::max(count - 1.0f, 1.0f)));
      for (int64_t k = 0; k < updates; ++k) {
        r0 = s.add(s.mul(s.f(1.0f - m), r0), s.mul(s.f(m), mean));
        r1 = s.add(s.mul(s.f(1.0f - m), r1), s.mul(s.f(m), unbiased));
      }
      s.store(r0, newMean, c);
      s.store(r1, newVar, c);
    } else {
      mean = s.load(rm, c);
      var = s.load(rv, c);
      s.store(mean, newMean, c);
      s.store(var, newVar, c);
    }
    Value inv = s.div(s.f(1.0f),
                      math::SqrtOp::create(s.b, s.loc, s.add(var, s.f(eps))));
    s.store(mean, meanOut, c);
    s.store(inv, invOut, c);
    Value g = s.load(gamma, c), sh = s.load(beta, c);
    channelForEach(s, N, P, [&](ScalarBuilder &q, Value n, Value p) {
      Value xh = q.mul(q.sub(q.load(x, {n, c, p}), mean), inv);
      q.store(q.add(q.mul(g, xh), sh), y, {n, c, p});
    });
  });
  op.getResult().replaceAllUsesWith(tensorOf(b, loc, type, out));
  op.getNewMean().replaceAllUsesWith(tensorOf(b, loc, ct, newMean));
  op.getNewVar().replaceAllUsesWith(tensorOf(b, loc, ct, newVar));
  op.getMean().replaceAllUsesWith(tensorOf(b, loc, ct, meanOut));
  op.getInvStd().replaceAllUsesWith(tensorOf(b, loc, ct, invOut));
  op.erase();
}

void lowerBatchNormGrad(BatchNormGradOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  auto type = op.getInput().getType();
  Value dy = channelView(b, loc, bufferOf(b, loc, op.getGrad()));
  Value x = channelView(b, loc, bufferOf(b, loc, op.getInput()));
  Value out = allocFor(b, loc, type);
  Value dx = channelView(b, loc, out);
  auto view = cast<MemRefType>(x.getType());
  int64_t N = view.getDimSize(0), C = view.getDimSize(1), P = view.getDimSize(2);
  float count = static_cast<float>(N * P);
  Value gamma = bufferOf(b, loc, op.getGamma()), meanB = bufferOf(b, loc, op.getMean());
  Value invB = bufferOf(b, loc, op.getInvStd());
  Type ct = op.getGamma().getType();
  Value dGamma = allocFor(b, loc, ct), dBeta = allocFor(b, loc, ct);
  parallelFor(b, loc, {C}, [&](ScalarBuilder &s, ValueRange iv) {
    Value c = iv[0];
    Value mean = s.load(meanB, c), inv = s.load(invB, c);
    SmallVector<Value> sums = channelSums(
        s, N, P, {s.f(0.0f), s.f(0.0f)},
        [&](ScalarBuilder &q, Value n, Value p) {
          Value d = q.load(dy, {n, c, p});
          Value xh = q.mul(q.sub(q.load(x, {n, c, p}), mean), inv);
          return SmallVector<Value>{d, q.mul(d, xh)};
        });
    s.store(sums[1], dGamma, c);
    s.store(sums[0], dBeta, c);
    Value scale = s.mul(s.load(gamma, c), inv);
    Value meanD = s.div(sums[0], s.f(count)), meanDX = s.div(sums[1], s.f(count));
    channelForEach(s, N, P, [&](ScalarBuilder &q, Value n, Value p) {
      Value xh = q.mul(q.sub(q.load(x, {n, c, p}), mean), inv);
      Value d = q.sub(q.sub(q.load(dy, {n, c, p}), meanD), q.mul(xh, meanDX));
      q.store(q.mul(scale, d), dx, {n, c, p});
    });
  });
  op.getGradInput().replaceAllUsesWith(tensorOf(b, loc, type, out));
  op.getGradGamma().replaceAllUsesWith(tensorOf(b, loc, ct, dGamma));
  op.getGradBeta().replaceAllUsesWith(tensorOf(b, loc, ct, dBeta));
  op.erase();
}

/// x[k] := raw[k] / max(||raw||, 1e-12) over a [n] buffer.
void normalise(OpBuilder &b, Location loc, Value raw, Value x, int64_t n) {
  ScalarBuilder s{b, loc};
  Value sq = sumFor(b, loc, n, s.f(0.0f), [&](ScalarBuilder &q, Value k,
                                              ValueRange acc) {
    Value v = q.load(raw, k);
    return SmallVector<Value>{q.add(acc[0], q.mul(v, v))};
  })[0];
  Value norm = arith::MaximumFOp::create(
      b, loc, math::SqrtOp::create(b, loc, sq), s.f(1e-12f));
  parallelFor(b, loc, {n}, [&](ScalarBuilder &q, ValueRange iv) {
    q.store(q.div(q.load(raw, iv), norm), x, iv);
  });
}

Value clampUnit(ScalarBuilder &s, Value g) {
  return arith::MinimumFOp::create(
      s.b, s.loc, s.f(1.0f), arith::MaximumFOp::create(s.b, s.loc, s.f(-1.0f), g));
}

/// A weight buffer as the matrix [rows, rest] (a kernel [O, C, KH, KW] as
/// [O, C*KH*KW]).
Value weightMatrix(OpBuilder &b, Location loc, Value m) {
  auto t = cast<MemRefType>(m.getType());
  if (t.getRank() == 2)
    return m;
  ReassociationIndices rest;
  for (int64_t i = 1; i < t.getRank(); ++i)
    rest.push_back(i);
  return memref::CollapseShapeOp::create(
      b, loc, m, ArrayRef<ReassociationIndices>{{0}, rest});
}

/// IDE_SPEC section 7: one power iteration (training), sigma = u'^T W v',
/// W_eff = clamp(g, -1, 1) W / sigma.
void lowerSpectralNorm(SpectralNormOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  ScalarBuilder s{b, loc};
  auto wt = op.getWeight().getType();
  int64_t N = wt.getDimSize(0), M = wt.getNumElements() / N;
  Value w = weightMatrix(b, loc, bufferOf(b, loc, op.getWeight()));
  Value u = bufferOf(b, loc, op.getU()), v = bufferOf(b, loc, op.getV());
  Value gBuf = bufferOf(b, loc, op.getG());
  Value u1 = allocFor(b, loc, op.getU().getType());
  Value v1 = allocFor(b, loc, op.getV().getType());
  if (op.getTraining()) {
    Value vraw = allocFor(b, loc, op.getV().getType());
    parallelFor(b, loc, {M}, [&](ScalarBuilder &q, ValueRange j) {
      q.store(sumFor(q.b, q.loc, N, q.f(0.0f),
                     [&](ScalarBuilder &r, Value i, ValueRange acc) {
                       return SmallVector<Value>{r.add(
                           acc[0], r.mul(r.load(w, {i, j[0]}), r.load(u, i)))};
                     })[0],
              vraw, j);
    });
    normalise(b, loc, vraw, v1, M);
    Value uraw = allocFor(b, loc, op.getU().getType());
    parallelFor(b, loc, {N}, [&](ScalarBuilder &q, ValueRange i) {
      q.store(sumFor(q.b, q.loc, M, q.f(0.0f),
                     [&](ScalarBuilder &r, Value j, ValueRange acc) {
                       return SmallVector<Value>{r.add(
                           acc[0], r.mul(r.load(w, {i[0], j}), r.load(v1, j)))};
                     })[0],
              uraw, i);
    });
    normalise(b, loc, uraw, u1, N);
  } else {
    memref::CopyOp::create(b, loc, u, u1);
    memref::CopyOp::create(b, loc, v, v1);
  }
  Value sigma = sumFor(b, loc, N, s.f(0.0f), [&](ScalarBuilder &q, Value i,
                                                 ValueRange acc) {
    Value row = sumFor(q.b, q.loc, M, q.f(0.0f),
                       [&](ScalarBuilder &r, Value j, ValueRange a) {
                         return SmallVector<Value>{r.add(
                             a[0], r.mul(r.load(w, {i, j}), r.load(v1, j)))};
                       })[0];
    return SmallVector<Value>{q.add(acc[0], q.mul(q.load(u1, i), row))};
  })[0];
  Value sigmaBuf = allocFor(b, loc, op.getSigma().getType());
  s.store(sigma, sigmaBuf, s.idx(0));
  Value scale = s.div(clampUnit(s, s.load(gBuf, s.idx(0))), sigma);
  Value out = allocFor(b, loc, wt);
  Value outMatrix = weightMatrix(b, loc, out);
  parallelFor(b, loc, {N, M}, [&](ScalarBuilder &q, ValueRange iv) {
    q.store(q.mul(scale, q.load(w, iv)), outMatrix, iv);
  });
  op.getResult().replaceAllUsesWith(tensorOf(b, loc, wt, out));
  op.getNewU().replaceAllUsesWith(tensorOf(b, loc, op.getU().getType(), u1));
  op.getNewV().replaceAllUsesWith(tensorOf(b, loc, op.getV().getType(), v1));
  op.getSigma().replaceAllUsesWith(
      tensorOf(b, loc, op.getSigma().getType(), sigmaBuf));
  op.erase();
}

void lowerSpectralNormGrad(SpectralNormGradOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  ScalarBuilder s{b, loc};
  auto wt = op.getWeight().getType();
  int64_t N = wt.getDimSize(0), M = wt.getNumElements() / N;
  Value G = weightMatrix(b, loc, bufferOf(b, loc, op.getGrad()));
  Value w = weightMatrix(b, loc, bufferOf(b, loc, op.getWeight()));
  Value u = bufferOf(b, loc, op.getU()), v = bufferOf(b, loc, op.getV());
  Value g = s.load(bufferOf(b, loc, op.getG()), s.idx(0));
  Value sigma = s.load(bufferOf(b, loc, op.getSigma()), s.idx(0));
  Value inner = sumFor(b, loc, N, s.f(0.0f), [&](ScalarBuilder &q, Value i,
                                                 ValueRange acc) {
    return sumFor(q.b, q.loc, M, acc, [&](ScalarBuilder &r, Value j,
                                          ValueRange a) {
      return SmallVector<Value>{
          r.add(a[0], r.mul(r.load(G, {i, j}), r.load(w, {i, j})))};
    });
  })[0];
  Value scale = s.div(clampUnit(s, g), sigma), proj = s.div(inner, sigma);
  Value out = allocFor(b, loc, wt);
  Value outMatrix = weightMatrix(b, loc, out);
  parallelFor(b, loc, {N, M}, [&](ScalarBuilder &q, ValueRange iv) {
    Value uv = q.mul(q.load(u, iv[0]), q.load(v, iv[1]));
    q.store(q.mul(scale, q.sub(q.load(G, iv), q.mul(proj, uv))), outMatrix, iv);
  });
  Value inside = arith::AndIOp::create(b, loc, s.ge(g, s.f(-1.0f)),
                                       s.le(g, s.f(1.0f)));
  Value dg = allocFor(b, loc, op.getGradG().getType());
  s.store(s.sel(inside, proj, s.f(0.0f)), dg, s.idx(0));
  op.getGradWeight().replaceAllUsesWith(tensorOf(b, loc, wt, out));
  op.getGradG().replaceAllUsesWith(tensorOf(b, loc, op.getGradG().getType(), dg));
  op.erase();
}

struct SNNToLoopsPass : mlir::snn::impl::SNNToLoopsPassBase<SNNToLoopsPass> {
  void runOnOperation() override {
    SmallVector<Operation *> ops;
    getOperation().walk([&](Operation *op) {
      if (isa<SNNDialect>(op->getDialect()))
        ops.push_back(op);
    });
    for (Operation *op : ops) {
      if (auto o = dyn_cast<PoolOp>(op))
        lowerPool(o);
      else if (auto o = dyn_cast<PoolGradOp>(op))
        lowerPoolGrad(o);
      else if (auto o = dyn_cast<FlattenOp>(op))
        lowerFlatten(o);
      else if (auto o = dyn_cast<BiasAddOp>(op))
        lowerBiasAdd(o);
      else if (auto o = dyn_cast<BiasGradOp>(op))
        lowerBiasGrad(o);
      else if (auto o = dyn_cast<DropoutOp>(op))
        lowerDropout(o);
      else if (auto o = dyn_cast<BatchNormOp>(op))
        lowerBatchNorm(o);
      else if (auto o = dyn_cast<SpectralNormOp>(op))
        lowerSpectralNorm(o);
      else if (auto o = dyn_cast<SpectralNormGradOp>(op))
        lowerSpectralNormGrad(o);
      else if (auto o = dyn_cast<BatchNormGradOp>(op))
        lowerBatchNormGrad(o);
      else if (auto o = dyn_cast<DropoutGradOp>(op))
        lowerDropoutGrad(o);
      else if (auto o = dyn_cast<TargetSpikesOp>(op))
        lowerTargetSpikes(o);
      else if (auto o = dyn_cast<EncodeCurrentGradOp>(op))
        lowerEncodeCurrentGrad(o);
      else if (auto o = dyn_cast<VanRossumLossOp>(op))
        lowerVanRossum(o);
      else if (auto o = dyn_cast<SpikeCountLossOp>(op))
        lowerSpikeCount(o);
      else if (auto o = dyn_cast<CrossEntropyLossOp>(op))
        lowerCrossEntropy(o);
      else if (auto o = dyn_cast<ClipGradNormOp>(op))
        lowerClipGradNorm(o);
      else if (auto o = dyn_cast<AdamWOp>(op))
        lowerAdam(o, /*coupled=*/false);
      else if (auto o = dyn_cast<AdamOp>(op))
        lowerAdam(o, /*coupled=*/true);
      else if (auto o = dyn_cast<SGDOp>(op))
        lowerSGD(o);
      else {
        op->emitOpError("is not lowered by snn-to-loops; run the neighborhood "
                        "slot, snn-fuse-time-loop, snn-lower-time-loop and "
                        "snn-to-runtime-calls first");
        return signalPassFailure();
      }
    }
  }
};

} // namespace
