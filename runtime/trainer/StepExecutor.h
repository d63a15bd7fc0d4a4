//===- StepExecutor.h - one interface for the CPU and the CUDA step -*- C++ -*-===//
//
// What the training loop sees of a compiled step, wherever it runs:
// parameters in (upload), one training step (launch, then finish), the
// next batch staged while a step runs (where the executor overlaps them),
// evaluation, and parameters out (download) for checkpoints, export and
// clipping. The CPU step (CpuStep.h) and the CUDA step (CudaStep.h)
// implement it; a data-parallel executor can wrap either.
//
// The steps themselves come from the model object's entry table
// (snnrt/model.h): findEntry("train:na"), findEntry("eval:cuda"), ...
//
//===----------------------------------------------------------------------===//
#ifndef SNNRT_TRAINER_STEPEXECUTOR_H
#define SNNRT_TRAINER_STEPEXECUTOR_H

#include "snnrt/model.h"

#include <cstdint>
#include <string>
#include <vector>

namespace snnrt {

using Tensors = std::vector<std::vector<float>>;

class StepExecutor {
public:
  virtual ~StepExecutor() = default;
  /// Parameters and optimizer moments in (after init or resume).
  virtual void upload(const Tensors &params, const Tensors &m,
                      const Tensors &v) = 0;
  /// The current parameters and moments out.
  virtual void download(Tensors &params, Tensors &m, Tensors &v) = 0;
  /// Starts one training step (step is 1-based); finish() waits for it and
  /// returns the loss, with the output spikes ([T, B, N]) in `spikes`.
  virtual void launch(const float *x, const int32_t *y, int64_t step,
                      float lr, int64_t key) = 0;
  virtual float finish(float *spikes) = 0;
  /// Whether stage() overlaps the next batch's transfer with a step.
  virtual bool stages() const { return false; }
  /// The next step's batch, while the launched step runs.
  virtual void stage(const float *x, const int32_t *y) {}
  /// The loss of one evaluation batch; the output spikes in `spikes`.
  virtual float eval(const float *x, const int32_t *y, float *spikes) = 0;
  /// Clamps every parameter to [-c, c].
  virtual void clampParams(float c) = 0;
  /// Mean milliseconds of device time per train step (0: not measured).
  virtual double meanStepMs() const { return 0.0; }
};

/// The model object's entry of that name, or null.
const snnc_entry *findEntry(const std::string &name);
/// The training methods the object holds ("na", "stbp", ...), in order.
std::vector<std::string> compiledMethods();

} // namespace snnrt

#endif
