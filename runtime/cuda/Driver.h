//===- Driver.h - the CUDA driver, cuBLAS and cuDNN, loaded at run time -*- C++ -*-===//
//
// One trainer binary runs with or without a GPU: libcuda, libcublas and
// libcudnn are opened with dlopen on first use, never linked. Only the entry
// points snnc's runtime uses are declared here (their C ABI is stable); no
// CUDA header is needed to build.
//
//===----------------------------------------------------------------------===//
#ifndef SNNRT_CUDA_DRIVER_H
#define SNNRT_CUDA_DRIVER_H

#include <cstddef>
#include <stdexcept>
#include <string>

namespace snnrt::cuda {

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = void *;
using CUmodule = void *;
using CUfunction = void *;
using CUstream = void *;
using CUgraph = void *;
using CUgraphExec = void *;
using CUevent = void *;

/// Thrown for any CUDA failure; the message names the call.
struct CudaError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Driver {
  CUresult (*cuInit)(unsigned);
  CUresult (*cuDriverGetVersion)(int *);
  CUresult (*cuDeviceGetCount)(int *);
  CUresult (*cuDeviceGet)(CUdevice *, int);
  CUresult (*cuDeviceGetName)(char *, int, CUdevice);
  CUresult (*cuDeviceGetAttribute)(int *, int, CUdevice);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*cuCtxSetCurrent)(CUcontext);
  CUresult (*cuModuleLoadData)(CUmodule *, const void *);
  CUresult (*cuModuleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*cuLaunchKernel)(CUfunction, unsigned, unsigned, unsigned,
                             unsigned, unsigned, unsigned, unsigned, CUstream,
                             void **, void **);
  CUresult (*cuStreamCreate)(CUstream *, unsigned);
  CUresult (*cuStreamSynchronize)(CUstream);
  CUresult (*cuMemAlloc)(CUdeviceptr *, size_t);
  CUresult (*cuMemFree)(CUdeviceptr);
  CUresult (*cuMemAllocHost)(void **, size_t);
  CUresult (*cuMemFreeHost)(void *);
  CUresult (*cuMemGetInfo)(size_t *, size_t *);
  CUresult (*cuMemcpyHtoDAsync)(CUdeviceptr, const void *, size_t, CUstream);
  CUresult (*cuMemcpyDtoHAsync)(void *, CUdeviceptr, size_t, CUstream);
  CUresult (*cuMemsetD8Async)(CUdeviceptr, unsigned char, size_t, CUstream);
  CUresult (*cuStreamBeginCapture)(CUstream, int);
  CUresult (*cuStreamEndCapture)(CUstream, CUgraph *);
  CUresult (*cuGraphInstantiateWithFlags)(CUgraphExec *, CUgraph,
                                          unsigned long long);
  CUresult (*cuGraphLaunch)(CUgraphExec, CUstream);
  CUresult (*cuGraphDestroy)(CUgraph);
  CUresult (*cuEventCreate)(CUevent *, unsigned);
  CUresult (*cuStreamWaitEvent)(CUstream, CUevent, unsigned);
  CUresult (*cuEventRecord)(CUevent, CUstream);
  CUresult (*cuEventSynchronize)(CUevent);
  CUresult (*cuEventElapsedTime)(float *, CUevent, CUevent);
  CUresult (*cuGetErrorString)(CUresult, const char **);

  // cuBLAS (libcublas)
  int (*cublasCreate)(void **);
  int (*cublasSetStream)(void *, CUstream);
  int (*cublasSetWorkspace)(void *, void *, size_t);
  int (*cublasSetMathMode)(void *, int);
  int (*cublasSgemm)(void *, int, int, int, int, int, const float *,
                     const float *, int, const float *, int, const float *,
                     float *, int);
  int (*cublasSgemmStridedBatched)(void *, int, int, int, int, int,
                                   const float *, const float *, int,
                                   long long, const float *, int, long long,
                                   const float *, float *, int, long long,
                                   int);
};

/// The loaded driver with a current context on device 0 and one stream;
/// throws CudaError (with the reason: no libcuda, no device, ...) when the
/// GPU cannot be used.
const Driver &driver();
/// The device the context is made on (default 0; data parallelism: the
/// rank within the node). Call before the first use of the GPU.
void useDevice(int ordinal);
/// Whether driver() would succeed; `why` gets the reason when not.
bool available(std::string *why = nullptr);
/// The stream every snnc kernel, copy and library call runs on.
CUstream stream();
/// A second stream, for copies that overlap the step (the next batch).
CUstream copyStream();
/// Throws CudaError("<what>: <CUDA's message>") when `r` is not success.
void check(CUresult r, const char *what);
/// The cuBLAS handle bound to stream() (throws when libcublas is missing).
void *cublas();
/// Lets cuBLAS and cuDNN use TF32 tensor cores for f32 data (faster, about
/// 1e-3 relative error per product); off by default. Call before the first
/// step.
void allowTF32(bool allow);
bool tf32Allowed();
/// Makes cuDNN pick, per convolution, the first deterministic algorithm in
/// its heuristic order instead of the fastest one by timing, so that runs
/// repeat bit for bit (snnc's kernels and cuBLAS already do). Call before
/// the first step.
void requireDeterminism(bool require);
bool determinismRequired();
/// libcudnn's handle of the named function (throws when missing).
void *cudnnSymbol(const char *name);
/// Device name and peak DRAM bandwidth (GB/s, from the memory clock and bus
/// width) for reports.
std::string deviceName();
double peakBandwidthGBs();

/// Device memory that is freed with its owner.
class DeviceBuffer {
public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t bytes);
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer &&o) noexcept : ptr(o.ptr), size(o.size) {
    o.ptr = 0;
    o.size = 0;
  }
  DeviceBuffer &operator=(DeviceBuffer &&o) noexcept;
  DeviceBuffer(const DeviceBuffer &) = delete;
  DeviceBuffer &operator=(const DeviceBuffer &) = delete;
  void *data() const { return reinterpret_cast<void *>(ptr); }
  size_t bytes() const { return size; }

private:
  CUdeviceptr ptr = 0;
  size_t size = 0;
};

} // namespace snnrt::cuda

#endif
