//===- CpuStep.cpp - the compiled step on the CPU --------------------------===//
#include "CpuStep.h"
#include "StepABI.h"

#include <algorithm>
#include <cstring>

namespace snnrt {

namespace {
std::vector<void *> pointers(Tensors &set) {
  std::vector<void *> out;
  for (std::vector<float> &t : set)
    out.push_back(t.data());
  return out;
}
} // namespace

CpuStep::CpuStep(const ModelDesc &d, snnc_packed_fn train,
                 snnc_packed_fn eval)
    : d(d), trainFn(train), evalFn(eval) {
  spikesOut.assign(d.outputSpikes[0] * d.outputSpikes[1] * d.outputSpikes[2],
                   0.0f);
}

void CpuStep::upload(const Tensors &params, const Tensors &m,
                     const Tensors &v) {
  const Tensors *in[3] = {&params, &m, &v};
  for (int k = 0; k < 3; ++k) {
    sets[cur][k] = *in[k];
    sets[1 - cur][k] = *in[k];
  }
}

void CpuStep::download(Tensors &params, Tensors &m, Tensors &v) {
  params = sets[cur][0];
  m = sets[cur][1];
  v = sets[cur][2];
}

void CpuStep::launch(const float *x, const int32_t *y, int64_t step,
                     float lr, int64_t key) {
  std::vector<void *> state[3], next[3];
  StepOperands o;
  for (int k = 0; k < 3; ++k) {
    state[k] = pointers(sets[cur][k]);
    next[k] = pointers(sets[1 - cur][k]);
    o.state[k] = &state[k];
    o.next[k] = &next[k];
  }
  o.x = const_cast<float *>(x);
  o.y = const_cast<int32_t *>(y);
  o.step = step;
  o.lr = lr;
  o.key = key;
  o.spikes = spikesOut.data();
  PackedArgs a;
  packTrainStep(a, d, StepSide::CPU, o);
  trainFn(a.finish(&loss));
  cur = 1 - cur;
}

float CpuStep::finish(float *spikes) {
  std::memcpy(spikes, spikesOut.data(), spikesOut.size() * sizeof(float));
  return loss;
}

float CpuStep::eval(const float *x, const int32_t *y, float *spikes) {
  std::vector<void *> state = pointers(sets[cur][0]);
  StepOperands o;
  o.state[0] = &state;
  o.x = const_cast<float *>(x);
  o.y = const_cast<int32_t *>(y);
  o.spikes = spikes;
  PackedArgs a;
  packEvalStep(a, d, StepSide::CPU, o);
  float result = 0;
  evalFn(a.finish(&result));
  return result;
}

void CpuStep::clampParams(float c) {
  for (size_t i = 0; i < sets[cur][0].size(); ++i)
    if (!d.params[i].buffer) // not BatchNorm's running statistics
      for (float &w : sets[cur][0][i])
        w = std::min(std::max(w, -c), c);
}

} // namespace snnrt
