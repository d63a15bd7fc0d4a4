//===- StepABI.cpp - the calling convention of the compiled steps ---------===//
#include "StepABI.h"

namespace snnrt {

namespace {

void addSet(PackedArgs &a, const ModelDesc &d,
            const std::vector<void *> *const sets[3], int count) {
  for (int k = 0; k < count; ++k)
    for (size_t i = 0; i < d.params.size(); ++i)
      a.buffer((*sets[k])[i], d.params[i].shape);
}

void addInputs(PackedArgs &a, const ModelDesc &d, StepSide side,
               const StepOperands &o) {
  const TensorDesc *x = d.dataInput(), *y = d.labelInput();
  for (const TensorDesc &in : d.inputs) {
    if (&in == x)
      a.buffer(o.x, in.shape);
    else if (&in == y)
      a.buffer(o.y, in.shape);
    else if (side == StepSide::CUDA)
      a.buffer(o.keyBuf, {1});
    else
      a.i64(o.key);
  }
}

void addOutputs(PackedArgs &a, const ModelDesc &d, StepSide side,
                const StepOperands &o) {
  a.buffer(o.spikes, d.outputSpikes);
  if (side == StepSide::CUDA) {
    a.buffer(o.lossBuf, {1});
    a.buffer(o.workspace, {o.workspaceBytes});
  }
}

} // namespace

void packTrainStep(PackedArgs &a, const ModelDesc &d, StepSide side,
                   const StepOperands &o) {
  addSet(a, d, o.state, 3);
  if (side == StepSide::CUDA) {
    a.buffer(o.stepBuf, {1});
    a.buffer(o.lrBuf, {1});
  } else {
    a.i64(o.step);
    a.f32(o.lr);
  }
  addInputs(a, d, side, o);
  addSet(a, d, o.next, 3);
  addOutputs(a, d, side, o);
}

void packEvalStep(PackedArgs &a, const ModelDesc &d, StepSide side,
                  const StepOperands &o) {
  addSet(a, d, o.state, 1);
  addInputs(a, d, side, o);
  addOutputs(a, d, side, o);
}

} // namespace snnrt
