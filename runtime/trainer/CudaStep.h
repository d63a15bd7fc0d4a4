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
#include "StepExecutor.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace snnrt {

using PackedFn = void (*)(void **);

class CudaStep : public StepExecutor {
public:
  struct Entry {
    PackedFn fn;
    int64_t workspaceBytes;
  };
  CudaStep(const ModelDesc &d, Entry train, Entry eval, bool graphs);
  ~CudaStep() override;

  void upload(const Tensors &params, const Tensors &m,
              const Tensors &v) override;
  void download(Tensors &params, Tensors &m, Tensors &v) override;
  /// launch() returns at once (the batch is copied now unless it was
  /// staged); finish() waits for the step.
  void launch(const float *x, const int32_t *y, int64_t step, float lr,
              int64_t key) override;
  float finish(float *spikes) override;
  bool stages() const override { return true; }
  /// Copies the next step's batch to the device on a second stream, while
  /// the launched step runs (the buffers alternate with the parameters).
  void stage(const float *x, const int32_t *y) override;
  float eval(const float *x, const int32_t *y, float *spikes) override;
  /// Through the host: download, clamp, upload.
  void clampParams(float c) override;
  /// Mean milliseconds of the device work of the train steps so far (CUDA
  /// events around each step, copies included).
  double meanStepMs() const override;

private:
  struct Impl;
  std::unique_ptr<Impl> p;
};

} // namespace snnrt

#endif
