//===- CudaStep.cpp - the compiled step on a GPU ----------------------------===//
#include "CudaStep.h"
#include "PackedArgs.h"

#include "../cuda/Driver.h"
#include "../cuda/Launch.h"

#include <cstring>

namespace snnrt {

using namespace cuda;

namespace {
constexpr int kCaptureThreadLocal = 1;
} // namespace

struct CudaStep::Impl {
  const ModelDesc &d;
  Entry trainEntry, evalEntry;
  bool graphs;
  const TensorDesc *xDesc, *yDesc;
  std::vector<DeviceBuffer> sets[2]; // params, m, v of each set
  DeviceBuffer x[2], y[2], key, step, lr, spikes, loss, workspace;
  char *pinned = nullptr;
  size_t xOff[2] = {0, 0}, yOff[2] = {0, 0}, stepOff = 0, lrOff = 0,
         keyOff = 0, lossOff = 0, spikesOff = 0, pinnedBytes = 0;
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
    size_t xBytes = xDesc->numElements() * sizeof(float);
    size_t yBytes = yDesc->numElements() * sizeof(int32_t);
    size_t sBytes = d.steps() * d.batch() * d.classes() * sizeof(float);
    for (int b = 0; b < 2; ++b) {
      x[b] = DeviceBuffer(xBytes);
      y[b] = DeviceBuffer(yBytes);
    }
    key = DeviceBuffer(8);
    step = DeviceBuffer(8);
    lr = DeviceBuffer(8);
    loss = DeviceBuffer(8);
    spikes = DeviceBuffer(sBytes);
    workspace = DeviceBuffer(std::max<int64_t>(
        1, std::max(t.workspaceBytes, e.workspaceBytes)));
    auto place = [&](size_t bytes) {
      size_t off = pinnedBytes;
      pinnedBytes += (bytes + 63) / 64 * 64;
      return off;
    };
    for (int b = 0; b < 2; ++b) {
      xOff[b] = place(xBytes);
      yOff[b] = place(yBytes);
    }
    stepOff = place(8);
    lrOff = place(8);
    keyOff = place(8);
    lossOff = place(8);
    spikesOff = place(sBytes);
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

  void toDevice(const DeviceBuffer &dst, size_t off, const void *src,
                size_t bytes, CUstream on = nullptr) {
    std::memcpy(pinned + off, src, bytes);
    check(driver().cuMemcpyHtoDAsync(
              reinterpret_cast<CUdeviceptr>(dst.data()), pinned + off, bytes,
              on ? on : stream()),
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
    toDevice(x[b], xOff[b], xs, x[b].bytes());
    toDevice(y[b], yOff[b], ys, y[b].bytes());
  }

  void fromDevice(size_t off, const DeviceBuffer &src) {
    check(driver().cuMemcpyDtoHAsync(
              pinned + off, reinterpret_cast<CUdeviceptr>(src.data()),
              src.bytes(), stream()),
          "cuMemcpyDtoHAsync");
  }

  void addSet(PackedArgs &a, int s) {
    size_t P = d.params.size();
    for (int k = 0; k < 3; ++k)
      for (size_t i = 0; i < P; ++i)
        a.buffer(sets[s][k * P + i].data(), d.params[i].shape);
  }

  void addInputs(PackedArgs &a, int b) {
    for (const TensorDesc &in : d.inputs) {
      if (&in == xDesc)
        a.buffer(x[b].data(), in.shape);
      else if (&in == yDesc)
        a.buffer(y[b].data(), in.shape);
      else
        a.buffer(key.data(), {1});
    }
  }

  void addOutputs(PackedArgs &a) {
    a.buffer(spikes.data(), d.outputSpikes);
    a.buffer(loss.data(), {1});
    a.buffer(workspace.data(), {static_cast<int64_t>(workspace.bytes())});
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
    addSet(a, cur);
    a.buffer(step.data(), {1});
    a.buffer(lr.data(), {1});
    addInputs(a, cur);
    addSet(a, 1 - cur);
    addOutputs(a);
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

void CudaStep::upload(const std::vector<std::vector<float>> &params,
                      const std::vector<std::vector<float>> &m,
                      const std::vector<std::vector<float>> &v) {
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

void CudaStep::download(std::vector<std::vector<float>> &params,
                        std::vector<std::vector<float>> &m,
                        std::vector<std::vector<float>> &v) {
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
  s.toDevice(s.step, s.stepOff, &step, sizeof(step));
  s.toDevice(s.lr, s.lrOff, &lr, sizeof(lr));
  s.toDevice(s.key, s.keyOff, &key, sizeof(key));
  s.trainOnDevice();
  s.fromDevice(s.lossOff, s.loss);
  s.fromDevice(s.spikesOff, s.spikes);
  check(drv.cuEventRecord(s.stop, stream()), "cuEventRecord");
}

void CudaStep::stage(const float *x, const int32_t *y) {
  Impl &s = *p;
  // The next step uses the other set and the other batch buffer, which the
  // previous step (finished) was the last to read.
  int b = 1 - s.cur;
  s.toDevice(s.x[b], s.xOff[b], x, s.x[b].bytes(), copyStream());
  s.toDevice(s.y[b], s.yOff[b], y, s.y[b].bytes(), copyStream());
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
  std::memcpy(spikes, s.pinned + s.spikesOff, s.spikes.bytes());
  float l = 0;
  std::memcpy(&l, s.pinned + s.lossOff, sizeof(l));
  return l;
}

float CudaStep::eval(const float *x, const int32_t *y, float *spikes) {
  Impl &s = *p;
  // The other buffer: a batch staged for the next step stays there.
  int b = 1 - s.cur;
  if (s.staged[b])
    b = s.cur;
  s.toDevice(s.x[b], s.xOff[b], x, s.x[b].bytes());
  s.toDevice(s.y[b], s.yOff[b], y, s.y[b].bytes());
  int64_t zero = 0;
  s.toDevice(s.key, s.keyOff, &zero, sizeof(zero));
  PackedArgs a;
  size_t P = s.d.params.size();
  for (size_t i = 0; i < P; ++i)
    a.buffer(s.sets[s.cur][i].data(), s.d.params[i].shape);
  s.addInputs(a, b);
  s.addOutputs(a);
  s.call(s.evalEntry.fn, a);
  s.fromDevice(s.lossOff, s.loss);
  s.fromDevice(s.spikesOff, s.spikes);
  check(driver().cuStreamSynchronize(stream()), "cuStreamSynchronize (eval step)");
  std::memcpy(spikes, s.pinned + s.spikesOff, s.spikes.bytes());
  float l = 0;
  std::memcpy(&l, s.pinned + s.lossOff, sizeof(l));
  return l;
}

double CudaStep::meanStepMs() const {
  return p->timed ? p->msSum / p->timed : 0.0;
}

} // namespace snnrt
