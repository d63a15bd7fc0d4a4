//===- CudaStep.cpp - the compiled step on a GPU ----------------------------===//
#include "CudaStep.h"
#include "PackedArgs.h"
#include "StepABI.h"

#include "../cuda/Driver.h"
#include "../cuda/Launch.h"

#include <algorithm>
#include <cstring>

namespace snnrt {

using namespace cuda;

namespace {
constexpr int kCaptureThreadLocal = 1;

/// A device buffer and its slot in the pinned host area that every copy
/// between them goes through (asynchronous copies need pinned memory).
struct Staged {
  DeviceBuffer dev;
  size_t off = 0;
};
} // namespace

struct CudaStep::Impl {
  const ModelDesc &d;
  Entry trainEntry, evalEntry;
  bool graphs;
  const TensorDesc *xDesc, *yDesc;
  std::vector<DeviceBuffer> sets[2]; // params, m, v of each set
  Staged x[2], y[2], key, step, lr, spikes, loss;
  DeviceBuffer workspace;
  char *pinned = nullptr;
  size_t pinnedBytes = 0;
  bool staged[2] = {false, false};
  CUevent copied[2] = {nullptr, nullptr};
  int cur = 0; // the set that holds the current parameters
  CUgraphExec graph[2] = {nullptr, nullptr};
  int64_t trainCalls = 0;
  CUevent start = nullptr, stop = nullptr;
  double msSum = 0;
  int64_t timed = 0;

  Impl(const ModelDesc &d, Entry t, Entry e, bool g)
      : d(d), trainEntry(t), evalEntry(e), graphs(g), xDesc(d.dataInput()),
        yDesc(d.labelInput()) {
    const Driver &drv = driver();
    size_t P = d.params.size();
    for (auto &set : sets)
      for (int k = 0; k < 3; ++k)
        for (size_t i = 0; i < P; ++i)
          set.emplace_back(d.params[i].numElements() * sizeof(float));
    auto place = [&](Staged &s, size_t bytes) {
      s.dev = DeviceBuffer(bytes);
      s.off = pinnedBytes;
      pinnedBytes += (bytes + 63) / 64 * 64;
    };
    for (int b = 0; b < 2; ++b) {
      place(x[b], xDesc->numElements() * sizeof(float));
      place(y[b], yDesc->numElements() * sizeof(int32_t));
    }
    for (Staged *scalar : {&key, &step, &lr, &loss})
      place(*scalar, 8);
    place(spikes, d.steps() * d.batch() * d.classes() * sizeof(float));
    workspace = DeviceBuffer(std::max<int64_t>(
        1, std::max(t.workspaceBytes, e.workspaceBytes)));
    void *h = nullptr;
    check(drv.cuMemAllocHost(&h, pinnedBytes), "cuMemAllocHost");
    pinned = static_cast<char *>(h);
    check(drv.cuEventCreate(&start, 0), "cuEventCreate");
    check(drv.cuEventCreate(&stop, 0), "cuEventCreate");
    for (CUevent &e : copied)
      check(drv.cuEventCreate(&e, 0), "cuEventCreate");
  }

  ~Impl() {
    if (pinned)
      driver().cuMemFreeHost(pinned);
  }

  /// The first `bytes` of `dst` (all of it when 0) from `src`.
  void toDevice(const Staged &dst, const void *src, size_t bytes = 0,
                CUstream on = nullptr) {
    if (!bytes)
      bytes = dst.dev.bytes();
    std::memcpy(pinned + dst.off, src, bytes);
    check(driver().cuMemcpyHtoDAsync(
              reinterpret_cast<CUdeviceptr>(dst.dev.data()), pinned + dst.off,
              bytes, on ? on : stream()),
          "cuMemcpyHtoDAsync");
  }

  /// Batch buffer `b` holds the batch once the main stream reaches this.
  void batchTo(int b, const float *xs, const int32_t *ys) {
    if (staged[b]) {
      check(driver().cuStreamWaitEvent(stream(), copied[b], 0),
            "cuStreamWaitEvent");
      staged[b] = false;
      return;
    }
    toDevice(x[b], xs);
    toDevice(y[b], ys);
  }

  /// The loss and the output spikes into their pinned slots.
  void resultsFromDevice() {
    for (const Staged *src : {&loss, &spikes})
      check(driver().cuMemcpyDtoHAsync(
                pinned + src->off,
                reinterpret_cast<CUdeviceptr>(src->dev.data()),
                src->dev.bytes(), stream()),
            "cuMemcpyDtoHAsync");
  }

  /// After the stream has reached resultsFromDevice(): the output spikes
  /// into `out`; returns the loss.
  float results(float *out) const {
    std::memcpy(out, pinned + spikes.off, spikes.dev.bytes());
    float l = 0;
    std::memcpy(&l, pinned + loss.off, sizeof(l));
    return l;
  }

  /// Pointers to the device buffers of set `k` (params, m, v) of `set`.
  std::vector<void *> setPointers(int set, int k) {
    size_t P = d.params.size();
    std::vector<void *> out;
    for (size_t i = 0; i < P; ++i)
      out.push_back(sets[set][k * P + i].data());
    return out;
  }

  /// The operands of a step on parameter set `set` and batch buffer `b`
  /// (StepABI.h); `held` keeps the pointer lists alive.
  StepOperands operands(int set, int b, std::vector<void *> (&held)[6]) {
    StepOperands o;
    for (int k = 0; k < 3; ++k) {
      held[k] = setPointers(set, k);
      held[3 + k] = setPointers(1 - set, k);
      o.state[k] = &held[k];
      o.next[k] = &held[3 + k];
    }
    o.x = x[b].dev.data();
    o.y = y[b].dev.data();
    o.stepBuf = step.dev.data();
    o.lrBuf = lr.dev.data();
    o.keyBuf = key.dev.data();
    o.spikes = spikes.dev.data();
    o.lossBuf = loss.dev.data();
    o.workspace = workspace.data();
    o.workspaceBytes = static_cast<int64_t>(workspace.bytes());
    return o;
  }

  void raise() {
    std::string e = takeError();
    if (!e.empty())
      throw CudaError(e);
  }

  void call(PackedFn fn, PackedArgs &a) {
    float unused = 0;
    fn(a.finish(&unused));
    raise();
  }

  void trainOnDevice() {
    PackedArgs a;
    std::vector<void *> held[6];
    packTrainStep(a, d, StepSide::CUDA, operands(cur, cur, held));
    const Driver &drv = driver();
    // Two eager steps first: modules load, cuDNN measures its algorithms.
    if (!graphs || trainCalls < 2) {
      call(trainEntry.fn, a);
      return;
    }
    CUgraphExec &g = graph[cur];
    if (!g) {
      check(drv.cuStreamBeginCapture(stream(), kCaptureThreadLocal),
            "cuStreamBeginCapture");
      float unused = 0;
      trainEntry.fn(a.finish(&unused));
      CUgraph captured = nullptr;
      check(drv.cuStreamEndCapture(stream(), &captured), "cuStreamEndCapture");
      raise();
      check(drv.cuGraphInstantiateWithFlags(&g, captured, 0),
            "cuGraphInstantiate");
      drv.cuGraphDestroy(captured);
    }
    check(drv.cuGraphLaunch(g, stream()), "cuGraphLaunch");
  }
};

CudaStep::CudaStep(const ModelDesc &d, Entry train, Entry eval, bool graphs)
    : p(std::make_unique<Impl>(d, train, eval, graphs)) {}

CudaStep::~CudaStep() = default;

void CudaStep::upload(const Tensors &params, const Tensors &m,
                      const Tensors &v) {
  const std::vector<std::vector<float>> *all[3] = {&params, &m, &v};
  size_t P = p->d.params.size();
  for (int k = 0; k < 3; ++k)
    for (size_t i = 0; i < P; ++i)
      check(driver().cuMemcpyHtoDAsync(
                reinterpret_cast<CUdeviceptr>(p->sets[p->cur][k * P + i].data()),
                (*all[k])[i].data(), (*all[k])[i].size() * sizeof(float),
                stream()),
            "cuMemcpyHtoDAsync");
  check(driver().cuStreamSynchronize(stream()), "cuStreamSynchronize");
}

void CudaStep::download(Tensors &params, Tensors &m, Tensors &v) {
  std::vector<std::vector<float>> *all[3] = {&params, &m, &v};
  size_t P = p->d.params.size();
  for (int k = 0; k < 3; ++k)
    for (size_t i = 0; i < P; ++i) {
      const DeviceBuffer &src = p->sets[p->cur][k * P + i];
      (*all[k])[i].resize(src.bytes() / sizeof(float));
      check(driver().cuMemcpyDtoHAsync((*all[k])[i].data(),
                                       reinterpret_cast<CUdeviceptr>(src.data()),
                                       src.bytes(), stream()),
            "cuMemcpyDtoHAsync");
    }
  check(driver().cuStreamSynchronize(stream()), "cuStreamSynchronize");
}

void CudaStep::launch(const float *x, const int32_t *y, int64_t step,
                      float lr, int64_t key) {
  Impl &s = *p;
  const Driver &drv = driver();
  check(drv.cuEventRecord(s.start, stream()), "cuEventRecord");
  s.batchTo(s.cur, x, y);
  s.toDevice(s.step, &step, sizeof(step));
  s.toDevice(s.lr, &lr, sizeof(lr));
  s.toDevice(s.key, &key, sizeof(key));
  s.trainOnDevice();
  s.resultsFromDevice();
  check(drv.cuEventRecord(s.stop, stream()), "cuEventRecord");
}

void CudaStep::stage(const float *x, const int32_t *y) {
  Impl &s = *p;
  // The next step uses the other set and the other batch buffer, which the
  // previous step (finished) was the last to read.
  int b = 1 - s.cur;
  s.toDevice(s.x[b], x, 0, copyStream());
  s.toDevice(s.y[b], y, 0, copyStream());
  check(driver().cuEventRecord(s.copied[b], copyStream()), "cuEventRecord");
  s.staged[b] = true;
}

float CudaStep::finish(float *spikes) {
  Impl &s = *p;
  const Driver &drv = driver();
  check(drv.cuStreamSynchronize(stream()), "cuStreamSynchronize (train step)");
  if (s.trainCalls >= 3) { // after the eager steps and the captures
    float ms = 0;
    drv.cuEventElapsedTime(&ms, s.start, s.stop);
    s.msSum += ms;
    ++s.timed;
  }
  ++s.trainCalls;
  s.cur = 1 - s.cur;
  return s.results(spikes);
}

float CudaStep::eval(const float *x, const int32_t *y, float *spikes) {
  Impl &s = *p;
  // The other buffer: a batch staged for the next step stays there.
  int b = 1 - s.cur;
  if (s.staged[b])
    b = s.cur;
  s.toDevice(s.x[b], x);
  s.toDevice(s.y[b], y);
  int64_t zero = 0;
  s.toDevice(s.key, &zero, sizeof(zero));
  PackedArgs a;
  std::vector<void *> held[6];
  packEvalStep(a, s.d, StepSide::CUDA, s.operands(s.cur, b, held));
  s.call(s.evalEntry.fn, a);
  s.resultsFromDevice();
  check(driver().cuStreamSynchronize(stream()), "cuStreamSynchronize (eval step)");
  return s.results(spikes);
}

void CudaStep::clampParams(float c) {
  Tensors params, m, v;
  download(params, m, v);
  for (size_t i = 0; i < params.size(); ++i)
    if (!p->d.params[i].buffer) // not BatchNorm's running statistics
      for (float &w : params[i])
        w = std::min(std::max(w, -c), c);
  upload(params, m, v);
}

double CudaStep::meanStepMs() const {
  return p->timed ? p->msSum / p->timed : 0.0;
}

} // namespace snnrt
