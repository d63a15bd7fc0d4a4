//===- CpuStep.h - the compiled step on the CPU -------------------*- C++ -*-===//
//
// Calls the CPU train and eval steps on host buffers: two sets of
// parameters and moments that alternate (a step reads one and writes the
// other). The step runs inside launch(); finish() returns its loss.
//
//===----------------------------------------------------------------------===//
#ifndef SNNRT_TRAINER_CPUSTEP_H
#define SNNRT_TRAINER_CPUSTEP_H

#include "ModelDesc.h"
#include "StepExecutor.h"

namespace snnrt {

class CpuStep : public StepExecutor {
public:
  CpuStep(const ModelDesc &d, snnc_packed_fn train, snnc_packed_fn eval);
  void upload(const Tensors &params, const Tensors &m,
              const Tensors &v) override;
  void download(Tensors &params, Tensors &m, Tensors &v) override;
  void launch(const float *x, const int32_t *y, int64_t step, float lr,
              int64_t key) override;
  float finish(float *spikes) override;
  float eval(const float *x, const int32_t *y, float *spikes) override;
  void clampParams(float c) override;

private:
  const ModelDesc &d;
  snnc_packed_fn trainFn, evalFn;
  Tensors sets[2][3]; // [current/next][params, m, v]
  int cur = 0;
  std::vector<float> spikesOut;
  float loss = 0;
};

} // namespace snnrt

#endif
