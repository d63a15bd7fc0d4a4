//===- Perturbation.h - per-neuron building blocks of NA strategies -*- C++ -*-===//
//
// What every perturbation-based strategy emits for one snn.na_backward
// (NA_SPEC sections 3-4): `[T, N]` views of its operands, the reverse scans
// e (eq. 7) and E, a flip of the firing status with the least perturbation,
// the chain effect re-simulated with the same input until the trajectories
// rejoin (then the exact E-tail), and the scaling of eq. (17). The neuron's
// dynamics (charge, fire, reset) come from compiler/Neurons.
//
// Both shortcuts are exact for every neuron and reset rule of NA_SPEC
// section 8 (leak k in [0, 1]): a chain "rejoins" only when its carried
// potential equals the original one bit for bit (then u' = u from the next
// step on); and once the original neuron stays silent and the perturbed
// carried potential is not above the original one, u' = k r' + c <= u <
// theta keeps both silent, so the spike trains agree. Under reset by
// subtraction carried potentials rarely become equal again, so chains
// mostly run to the end of their window, as NA_SPEC section 8 says.
//
//===----------------------------------------------------------------------===//
#ifndef SNNC_COMPILER_NEIGHBORHOOD_PERTURBATION_H
#define SNNC_COMPILER_NEIGHBORHOOD_PERTURBATION_H

#include "compiler/Conversion/LoopEmitter.h"
#include "compiler/Neurons/NeuronModel.h"
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
  /// the monotony of the recurrence without spikes (same input) the spike
  /// trains then agree to the end, so the E-tail is exact, as on rejoining.
  Value chain(ScalarBuilder &s, Value n, Value t, Value tStop, Value r,
              Value diff, Value dL, Value joined, Value quietFrom = {});

  /// One past the neuron's last original spike (0 when it never fires):
  /// from this step on the original trajectory is silent.
  Value quietFrom(ScalarBuilder &s, Value n);

  /// clip(1 / d^3, -b, b)
  Value scale(ScalarBuilder &s, Value d);

  /// The raw error g[t] = dL/da[t] of neuron `n` (inside forEachNeuron):
  /// the fused scan's input, or e[t] - ds e[t+1] from the given error.
  Value rawError(ScalarBuilder &s, Value n, Value t);

  /// The whole SNS kernel in blocks of neurons, neurons innermost and
  /// branch-free (selects), so that the compiler vectorizes across neurons;
  /// every chain is simulated to tStop with the rejoined ones masked.
  void emitBlockedSNS(int64_t window);

  /// The same, one neuron per parallel iteration with the chain state in
  /// registers and each chain stopped as soon as it rejoins (GPU threads).
  void emitPerNeuronSNS(int64_t window);

  /// The same with the chains of `group` consecutive flips in registers
  /// (GPU threads): steps p0 .. p0+group-1 unrolled, in which the chains
  /// started before t take step t and the flip at t starts its chain; then
  /// one sweep in which all of them advance (ended ones masked) until all
  /// have rejoined. Each step's c, u, e and E are read once per group
  /// instead of once per chain. With group = T (small T) this is every chain
  /// of the neuron in one sweep. Up to kUnrolledGroupSteps steps the groups
  /// are emitted one after another; beyond, a loop runs over them (the IR
  /// stays the same size for any T).
  void emitGroupedSNS(int64_t window, int64_t group);
  static constexpr int64_t kUnrolledGroupSteps = 64;
  /// Whether T is small enough for one group of all T chains: T <= 8 (by
  /// measurement), or the module's #snn.target max_register_steps.
  bool chainsInRegisters();
  /// The module's #snn.target chain_group (snnc --gpu-chain-group), 6 (by
  /// measurement, T = 30 on an H100); 1: one chain at a time.
  int64_t chainGroup();

  /// Neurons per parallel iteration: 256 (vectorizes on CPU) unless the
  /// module's #snn.target says otherwise (a GPU pipeline sets 1).
  int64_t neuronBlock();

  /// Replaces the op by `delta` (and drops a fused scan).
  void finish();

  /// What the chains that take step t share: t + 1, ds E[t + 1] (the E-tail
  /// factor of a chain that ends at t) and whether the original neuron is
  /// silent from t + 1 on.
  struct SweepStep {
    Value tNext, tailE, quietNow;
  };
  SweepStep sweepStep(ScalarBuilder &q, Value n, Value t, Value quiet);
  /// Step p0 + k: a constant where p0 is one, else p0 + k.
  Value stepAt(ScalarBuilder &q, Value p0, int64_t k);
  /// The step at which the chain of flip p0 + k leaves its window
  /// (min(T, p + 1 + window); T without a window).
  Value windowStop(ScalarBuilder &q, Value p0, int64_t k, int64_t window);
  /// Chain p's state `st` (carried potential, PSC difference, loss change,
  /// open) after step t: an open chain steps, and one that rejoins or
  /// leaves its window (at tStop) gets its E-tail and closes.
  SmallVector<Value> continueChain(ScalarBuilder &q, Value n, Value t,
                                   const SweepStep &at, ValueRange st,
                                   Value tStop);
  /// The state of the chain of flip p == t after its flip.
  SmallVector<Value> startChain(ScalarBuilder &q, Value n, Value t,
                                const SweepStep &at, Value tStop,
                                Value quiet);
  /// delta[p] = dL_p * clip(1 / eps_p^3) for the final states of the chains
  /// of flips p0 .. p0 + count - 1.
  void storeChainResults(ScalarBuilder &s, Value n, ValueRange results,
                         Value p0, int64_t count);
  /// emitGroupedSNS's work for the `count` flips from p0 on; `sweep`: whether
  /// chains may still be open after step p0 + count - 1 (not in the last
  /// group).
  void emitChainGroup(ScalarBuilder &s, Value n, Value quiet, Value p0,
                      int64_t count, int64_t window, bool sweep);

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
  Value grad, eBuf, out;
  Value tailE; // [T + 1, N]: ds E[t] (the E-tail factor), 0 at T
  /// In emitBlockedSNS's blocks: the block's first neuron, and eBuf and
  /// tailE are the block's own stack buffers [T (+ 1), block], indexed by
  /// n - scratchBase (null elsewhere: the [T (+ 1), N] buffers, by n).
  Value scratchBase;
  Value scratchIndex(ScalarBuilder &s, Value n);
  std::optional<NeuronModel> neuron;
  Value ds, invTauS, clip, negClip, half, cLast;
};

} // namespace mlir::snn

#endif
