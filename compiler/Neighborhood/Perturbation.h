//===- Perturbation.h - per-neuron building blocks of NA strategies -*- C++ -*-===//
//
// What every perturbation-based strategy emits for one snn.na_backward
// (NA_SPEC sections 3-4): `[T, N]` views of its operands, the reverse scans
// e (eq. 7) and E, a flip of the firing status with the least perturbation,
// the chain effect re-simulated with the same input until the trajectories
// rejoin (then the exact E-tail), and the scaling of eq. (17).
//
//===----------------------------------------------------------------------===//
#ifndef SNNC_COMPILER_NEIGHBORHOOD_PERTURBATION_H
#define SNNC_COMPILER_NEIGHBORHOOD_PERTURBATION_H

#include "compiler/Conversion/LoopEmitter.h"
#include "dialects/SNN/IR/SNNOps.h"

namespace mlir::snn {

class PerturbationKernel {
public:
  /// Prepares buffers and constants in front of `op`; fails on dynamic shapes.
  static FailureOr<PerturbationKernel> create(NABackwardOp op);

  /// Emits the parallel loop over neurons; `body` runs after e and E of
  /// neuron `n` are in scratch.
  void forEachNeuron(function_ref<void(ScalarBuilder &, Value n)> body);

  /// The state right after flipping the firing status at step `p` of the
  /// trajectory whose carried potential before p is `rPrev` (the original
  /// one when null): carried potential, PSC difference a' - a at p, loss
  /// change so far, whether it already equals the original carry, and the
  /// perturbation eps = theta - u'[p].
  struct Flip {
    Value r, diff, dL, joined, eps;
  };
  /// `quietFrom` (optional, see quietFrom()): also counts as joined when
  /// the original neuron never fires after p and the flipped trajectory is
  /// not above it (then it never fires either: the spike trains agree).
  Flip flip(ScalarBuilder &s, Value n, Value p, Value rPrev = {},
            Value diffPrev = {}, Value dLPrev = {}, Value quietFrom = {});

  /// One step t of the chain effect from the state after step t-1: the new
  /// carried potential, PSC difference, loss change, and whether the
  /// carried potential equals the original one again.
  struct ChainStep {
    Value r, diff, dL, joined;
    Value below; // the carried potential is <= the original one
  };
  ChainStep step(ScalarBuilder &s, Value n, Value t, Value r, Value diff,
                 Value dL);

  /// Follows the chain effect from step `t` (state after step t-1) for the
  /// steps before `tStop`, stopping early once rejoined, and returns the
  /// whole first-order loss change (eq. 13) including the E-tail.
  /// With `quietFrom`, a chain also stops once the original neuron stays
  /// silent and the perturbed potential is not above the original one: by
  /// the monotony of the LIF recurrence (same input, reset to 0) the spike
  /// trains then agree to the end, so the E-tail is exact, as on rejoining.
  Value chain(ScalarBuilder &s, Value n, Value t, Value tStop, Value r,
              Value diff, Value dL, Value joined, Value quietFrom = {});

  /// One past the neuron's last original spike (0 when it never fires):
  /// from this step on the original trajectory is silent.
  Value quietFrom(ScalarBuilder &s, Value n);

  /// clip(1 / d^3, -b, b)
  Value scale(ScalarBuilder &s, Value d);

  /// The whole SNS kernel in blocks of neurons, neurons innermost and
  /// branch-free (selects), so that the compiler vectorizes across neurons;
  /// every chain is simulated to tStop with the rejoined ones masked.
  void emitBlockedSNS(int64_t window);

  /// The same, one neuron per parallel iteration with the chain state in
  /// registers and each chain stopped as soon as it rejoins (GPU threads).
  void emitPerNeuronSNS(int64_t window);

  /// The same, for small T: all T chains of a neuron advance together in one
  /// sweep over t, their states in registers (loop-carried values), so each
  /// step's c, u, e and E are read once instead of once per chain; chains
  /// that ended are masked. Same arithmetic per chain as emitPerNeuronSNS.
  void emitRegisterSNS(int64_t window);
  /// Whether T is small enough for emitRegisterSNS: T <= 8 (by measurement),
  /// or the module's `snn.max_register_steps`.
  bool chainsInRegisters();

  /// Between the two, for larger T: the flips in groups of `group`; each
  /// group's chains advance together in registers in one sweep from its
  /// first flip, which stops once all of them have rejoined (so each step's
  /// c, u, e and E are read once a group instead of once a chain).
  void emitGroupedSNS(int64_t window, int64_t group);
  /// The module's `snn.chain_group` (snnc --gpu-chain-group), else 1: off.
  int64_t chainGroup();

  /// Neurons per parallel iteration: 256 (vectorizes on CPU) unless the
  /// module says `snn.neuron_block` (a GPU pipeline sets 1).
  int64_t neuronBlock();

  /// Replaces the op by `delta` (and drops a fused scan).
  void finish();

  /// One step t of a sweep for the chains of flips [pBegin, pEnd), whose
  /// states `st` are (carried potential, PSC difference, loss change, open)
  /// per chain: the chain of p starts with the flip at t == p; open chains
  /// step; a chain that rejoins or leaves its window gets its E-tail and
  /// closes. Returns the next states.
  SmallVector<Value> advanceChains(ScalarBuilder &q, Value n, Value t,
                                   ValueRange st, int64_t pBegin, int64_t pEnd,
                                   int64_t window, Value quiet);
  /// `count` chain states before their flips (zero and closed).
  SmallVector<Value> closedChains(ScalarBuilder &s, int64_t count);
  /// delta[p] = dL_p * clip(1 / eps_p^3) for the chains' final states.
  void storeChainResults(ScalarBuilder &s, Value n, ValueRange results,
                         int64_t pBegin, int64_t pEnd);

  int64_t steps, neurons;
  Value delta;            // [T, N] output view
  Value c, u, spikes;     // [T, N] operand views
  Value theta, zero, one; // f32 constants
  Value c0, c1, cT;       // index constants

private:
  PerturbationKernel(NABackwardOp op) : op(op), b(op) {}
  NABackwardOp op;
  OpBuilder b;
  PSCErrorScanOp fusedScan;
  Value grad, eBuf, bigE, out;
  Value dm, ds, invTauS, clip, negClip, half, cLast;
};

} // namespace mlir::snn

#endif
