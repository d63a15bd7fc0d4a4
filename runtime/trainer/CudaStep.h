//===- CudaStep.h - the compiled step on a GPU ---------------------*- C++ -*-===//
//
// Runs snnc_train_step_cuda / snnc_eval_step_cuda (see snn-prepare-gpu for
// their signature) on device buffers planned once: two sets of parameters
// and AdamW moments that the steps alternate between (a step reads one set
// and writes the other), two batch buffers that alternate with them, the
// scalars (step, lr, dropout key), the outputs and one workspace. Batches go
// through pinned host memory with asynchronous copies; the next batch is
// copied on a second stream while the current step runs (stage()). From the
// third step on, each of the two alternating steps is a CUDA graph captured
// once and replayed.
//
//===----------------------------------------------------------------------===//
#ifndef SNNRT_TRAINER_CUDASTEP_H
#define SNNRT_TRAINER_CUDASTEP_H

#include "ModelDesc.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace snnrt {

using PackedFn = void (*)(void **);

class CudaStep {
public:
  struct Entry {
    PackedFn fn;
    int64_t workspaceBytes;
  };
  CudaStep(const ModelDesc &d, Entry train, Entry eval, bool graphs);
  ~CudaStep();

  /// Copies parameters and moments to the device (after init or resume).
  void upload(const std::vector<std::vector<float>> &params,
              const std::vector<std::vector<float>> &m,
              const std::vector<std::vector<float>> &v);
  /// Copies the current parameters and moments back.
  void download(std::vector<std::vector<float>> &params,
                std::vector<std::vector<float>> &m,
                std::vector<std::vector<float>> &v);
  /// One AdamW step; returns the loss and fills `spikes` ([T, B, N]).
  float train(const float *x, const int32_t *y, int64_t step, float lr,
              int64_t key, float *spikes) {
    launch(x, y, step, lr, key);
    return finish(spikes);
  }
  /// The same in two halves, so that the caller can stage() the next batch
  /// while the device runs this step: launch() returns at once (the batch is
  /// copied now unless it was staged), finish() waits for the step.
  void launch(const float *x, const int32_t *y, int64_t step, float lr,
              int64_t key);
  float finish(float *spikes);
  /// Copies the next step's batch to the device on a second stream, while
  /// the launched step runs (the buffers alternate with the parameters).
  void stage(const float *x, const int32_t *y);
  float eval(const float *x, const int32_t *y, float *spikes);
  /// Mean milliseconds of the device work of the train steps so far (CUDA
  /// events around each step, copies included).
  double meanStepMs() const;

private:
  struct Impl;
  std::unique_ptr<Impl> p;
};

} // namespace snnrt

#endif
