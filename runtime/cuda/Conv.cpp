//===- Conv.cpp - convolutions on the GPU: cuDNN ----------------------------===//
//
// The three convolutions of runtime/cpu/Conv.cpp (NCHW / OIHW, zero padding,
// no bias, results overwritten) through cuDNN's convolution API. Per shape,
// the algorithm is chosen by measurement (cudnnFind*, on the first call,
// which the trainer makes before it captures the step in a CUDA graph), with
// FMA math (no TF32, unless the trainer got --tf32) so that results stay
// close to the CPU's; each shape
// keeps its own workspace, so that replayed graphs see the same pointers.
//
//===----------------------------------------------------------------------===//
#include "Driver.h"
#include "Launch.h"
#include "snnrt/snnrt.h"

#include <array>
#include <map>
#include <mutex>

namespace {

using namespace snnrt::cuda;

using Handle = void *;
using Desc = void *;

constexpr int kNCHW = 0, kFloat = 0, kCrossCorrelation = 1, kTensorOpMath = 1,
              kFmaMath = 3;

struct PerfResult { // cudnnConvolution{Fwd,BwdData,BwdFilter}AlgoPerf_t
  int algo;
  int status;
  float time;
  size_t memory;
  int determinism;
  int mathType;
  int reserved[3];
};

template <typename F> F sym(const char *name) {
  return reinterpret_cast<F>(cudnnSymbol(name));
}

void ok(int status, const char *what) {
  if (status != 0)
    throw CudaError(std::string("cuDNN ") + what + " failed with status " +
                    std::to_string(status));
}

Handle handle() {
  static Handle h = [] {
    Handle h = nullptr;
    ok(sym<int (*)(Handle *)>("cudnnCreate")(&h), "cudnnCreate");
    ok(sym<int (*)(Handle, CUstream)>("cudnnSetStream")(h, stream()),
       "cudnnSetStream");
    return h;
  }();
  return h;
}

enum class Kind { Forward, GradInput, GradWeight };

/// Descriptors, algorithm and workspace of one convolution shape.
struct Plan {
  Desc x = nullptr, y = nullptr, w = nullptr, conv = nullptr;
  int algo = 0;
  DeviceBuffer workspace;
};

using Key = std::array<int64_t, 13>;

Plan &plan(Kind kind, const snnrt_memref4d *in, const snnrt_memref4d *w,
           const snnrt_memref4d *out, int64_t sh, int64_t sw, int64_t ph,
           int64_t pw) {
  static std::mutex mutex;
  static std::map<Key, Plan> plans;
  std::lock_guard<std::mutex> lock(mutex);
  Key key{static_cast<int64_t>(kind), in->sizes[0], in->sizes[1], in->sizes[2],
          in->sizes[3], w->sizes[0], w->sizes[2], w->sizes[3], out->sizes[2],
          sh, sw, ph, pw};
  auto it = plans.find(key);
  if (it != plans.end())
    return it->second;
  Plan &p = plans[key];
  auto createTensor = sym<int (*)(Desc *)>("cudnnCreateTensorDescriptor");
  auto setTensor = sym<int (*)(Desc, int, int, int, int, int, int)>(
      "cudnnSetTensor4dDescriptor");
  auto createFilter = sym<int (*)(Desc *)>("cudnnCreateFilterDescriptor");
  auto setFilter = sym<int (*)(Desc, int, int, int, int, int, int)>(
      "cudnnSetFilter4dDescriptor");
  auto createConv = sym<int (*)(Desc *)>("cudnnCreateConvolutionDescriptor");
  auto setConv = sym<int (*)(Desc, int, int, int, int, int, int, int, int)>(
      "cudnnSetConvolution2dDescriptor");
  auto setMath = sym<int (*)(Desc, int)>("cudnnSetConvolutionMathType");
  ok(createTensor(&p.x), "cudnnCreateTensorDescriptor");
  ok(createTensor(&p.y), "cudnnCreateTensorDescriptor");
  ok(createFilter(&p.w), "cudnnCreateFilterDescriptor");
  ok(createConv(&p.conv), "cudnnCreateConvolutionDescriptor");
  ok(setTensor(p.x, kNCHW, kFloat, in->sizes[0], in->sizes[1], in->sizes[2],
               in->sizes[3]),
     "cudnnSetTensor4dDescriptor");
  ok(setTensor(p.y, kNCHW, kFloat, out->sizes[0], out->sizes[1],
               out->sizes[2], out->sizes[3]),
     "cudnnSetTensor4dDescriptor");
  ok(setFilter(p.w, kFloat, kNCHW, w->sizes[0], w->sizes[1], w->sizes[2],
               w->sizes[3]),
     "cudnnSetFilter4dDescriptor");
  ok(setConv(p.conv, ph, pw, sh, sw, 1, 1, kCrossCorrelation, kFloat),
     "cudnnSetConvolution2dDescriptor");
  ok(setMath(p.conv, tf32Allowed() ? kTensorOpMath : kFmaMath),
     "cudnnSetConvolutionMathType");

  // By timing (cudnnFind*, sorted by time), or with --deterministic by
  // cuDNN's heuristics (cudnnGet*_v7, the same signature, sorted by expected
  // speed): the first that succeeded, and with --deterministic the first
  // deterministic one, so that every run makes the same choice.
  constexpr int kRequested = 8;
  PerfResult results[kRequested];
  int found = 0;
  bool deterministic = determinismRequired();
  const char *how = deterministic ? "Get" : "Find";
  const char *suffix = deterministic ? "_v7" : "";
  const char *what = kind == Kind::Forward     ? "ConvolutionForwardAlgorithm"
                     : kind == Kind::GradInput ? "ConvolutionBackwardDataAlgorithm"
                                               : "ConvolutionBackwardFilterAlgorithm";
  std::string name = std::string("cudnn") + how + what + suffix;
  using Search = int (*)(Handle, Desc, Desc, Desc, Desc, int, int *,
                         PerfResult *);
  auto search = sym<Search>(name.c_str());
  if (kind == Kind::Forward)
    ok(search(handle(), p.x, p.w, p.conv, p.y, kRequested, &found, results),
       name.c_str());
  else if (kind == Kind::GradInput)
    ok(search(handle(), p.w, p.y, p.conv, p.x, kRequested, &found, results),
       name.c_str());
  else
    ok(search(handle(), p.x, p.y, p.conv, p.w, kRequested, &found, results),
       name.c_str());
  constexpr int kDeterministic = 1; // CUDNN_DETERMINISTIC
  int chosen = -1;
  for (int i = 0; i < found && chosen < 0; ++i)
    if (results[i].status == 0 &&
        (!deterministic || results[i].determinism == kDeterministic))
      chosen = i;
  if (chosen < 0)
    throw CudaError(std::string("cuDNN found no ") +
                    (deterministic ? "deterministic " : "") +
                    "algorithm for a convolution");
  p.algo = results[chosen].algo;
  p.workspace = DeviceBuffer(results[chosen].memory);
  return p;
}


void run(Kind kind, snnrt_memref4d *in, snnrt_memref4d *w, snnrt_memref4d *out,
         snnrt_memref4d *result, int64_t sh, int64_t sw, int64_t ph,
         int64_t pw) {
  try {
    Plan &p = plan(kind, in, w, out, sh, sw, ph, pw);
    const float one = 1.0f, zero = 0.0f;
    using Conv = int (*)(Handle, const float *, Desc, const void *, Desc,
                         const void *, Desc, int, void *, size_t,
                         const float *, Desc, void *);
    if (kind == Kind::Forward)
      ok(sym<Conv>("cudnnConvolutionForward")(
             handle(), &one, p.x, snnrt_data4d(in), p.w, snnrt_data4d(w), p.conv, p.algo,
             p.workspace.data(), p.workspace.bytes(), &zero, p.y, snnrt_data4d(result)),
         "cudnnConvolutionForward");
    else if (kind == Kind::GradInput)
      ok(sym<Conv>("cudnnConvolutionBackwardData")(
             handle(), &one, p.w, snnrt_data4d(w), p.y, snnrt_data4d(out), p.conv, p.algo,
             p.workspace.data(), p.workspace.bytes(), &zero, p.x,
             snnrt_data4d(result)),
         "cudnnConvolutionBackwardData");
    else
      ok(sym<Conv>("cudnnConvolutionBackwardFilter")(
             handle(), &one, p.x, snnrt_data4d(in), p.y, snnrt_data4d(out), p.conv, p.algo,
             p.workspace.data(), p.workspace.bytes(), &zero, p.w,
             snnrt_data4d(result)),
         "cudnnConvolutionBackwardFilter");
  } catch (const std::exception &e) {
    setError(e.what());
  }
}

} // namespace

extern "C" {

void _mlir_ciface_snnrt_cuda_conv2d_forward(snnrt_memref4d *in,
                                            snnrt_memref4d *w,
                                            snnrt_memref4d *out, int64_t sh,
                                            int64_t sw, int64_t ph,
                                            int64_t pw) {
  run(Kind::Forward, in, w, out, out, sh, sw, ph, pw);
}

void _mlir_ciface_snnrt_cuda_conv2d_grad_input(snnrt_memref4d *delta,
                                               snnrt_memref4d *w,
                                               snnrt_memref4d *out,
                                               int64_t sh, int64_t sw,
                                               int64_t ph, int64_t pw) {
  // in = the gradient being computed (shape of the layer input)
  run(Kind::GradInput, out, w, delta, out, sh, sw, ph, pw);
}

void _mlir_ciface_snnrt_cuda_conv2d_grad_weight(snnrt_memref4d *in,
                                                snnrt_memref4d *delta,
                                                snnrt_memref4d *out,
                                                int64_t sh, int64_t sw,
                                                int64_t ph, int64_t pw) {
  run(Kind::GradWeight, in, out, delta, out, sh, sw, ph, pw);
}

} // extern "C"
