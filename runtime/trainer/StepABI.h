//===- StepABI.h - the calling convention of the compiled steps ---*- C++ -*-===//
//
// The one definition of the argument order of the steps snnc compiles
// (snn-build-training-graph's signature, bufferized with the results as
// out-parameters), used by the CPU and the CUDA executors alike:
//
//   train: params, m, v, step, lr, inputs..., params', m', v', spikes  -> loss
//   eval:  params, inputs..., spikes                                   -> loss
//
// inputs are the model's inputs in order (the batch, its labels, the dropout
// key). On the CUDA side (snn-prepare-gpu) every scalar is a one-element
// device buffer, the loss is an output buffer after the spikes, and a
// workspace buffer comes last.
//
//===----------------------------------------------------------------------===//
#ifndef SNNRT_TRAINER_STEPABI_H
#define SNNRT_TRAINER_STEPABI_H

#include "ModelDesc.h"
#include "PackedArgs.h"

#include <cstdint>
#include <vector>

namespace snnrt {

enum class StepSide { CPU, CUDA };

/// Where a step's operands are. `state` and `next` hold params, m, v (P
/// buffers each); scalars are values on the CPU and device buffers on the
/// CUDA side.
struct StepOperands {
  const std::vector<void *> *state[3] = {};
  const std::vector<void *> *next[3] = {};
  void *x = nullptr, *y = nullptr;
  int64_t step = 0, key = 0;
  float lr = 0;
  void *stepBuf = nullptr, *lrBuf = nullptr, *keyBuf = nullptr; // CUDA
  void *spikes = nullptr;
  void *lossBuf = nullptr, *workspace = nullptr;                 // CUDA
  int64_t workspaceBytes = 0;
};

/// The arguments of a train step, in order.
void packTrainStep(PackedArgs &a, const ModelDesc &d, StepSide side,
                   const StepOperands &o);
/// The arguments of an eval step (params only of `state`), in order.
void packEvalStep(PackedArgs &a, const ModelDesc &d, StepSide side,
                  const StepOperands &o);

} // namespace snnrt

#endif
