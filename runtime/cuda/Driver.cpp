//===- Driver.cpp - dlopen of libcuda, libcublas, libcudnn ------------------===//
#include "Driver.h"

#include <dlfcn.h>
#include <mutex>
#include <vector>

namespace snnrt::cuda {
namespace {

int &wantedDevice() {
  static int ordinal = 0;
  return ordinal;
}

constexpr int kAttrMemoryClockKHz = 36;
constexpr int kAttrBusWidthBits = 37;

/// dlopen of the first name that loads, also under CUDA's usual folders.
void *openLibrary(const std::vector<std::string> &names, std::string &why) {
  std::vector<std::string> dirs{"", "/usr/local/cuda/lib64/",
                                "/usr/local/cuda/targets/x86_64-linux/lib/"};
  std::string first; // the reason of the plain first name: the telling one
  for (const std::string &dir : dirs)
    for (const std::string &name : names) {
      if (void *h = dlopen((dir + name).c_str(), RTLD_NOW | RTLD_GLOBAL))
        return h;
      const char *e = dlerror();
      if (first.empty() && e)
        first = e;
    }
  why = "cannot load " + names.front() + (first.empty() ? "" : ": " + first);
  return nullptr;
}

template <typename F>
bool bind(void *lib, F &slot, const char *name, std::string &why) {
  slot = reinterpret_cast<F>(dlsym(lib, name));
  if (!slot)
    why = std::string("missing symbol ") + name;
  return slot != nullptr;
}

struct State {
  Driver d{};
  CUstream s = nullptr, copy = nullptr;
  CUdevice dev = 0;
  std::string error; // empty once initialized
  void *cublasHandle = nullptr;
  void *cudnnLib = nullptr;
  std::string cudnnError;
};

State &state() {
  static State st;
  static std::once_flag once;
  std::call_once(once, [] {
    State &s = st;
    std::string why;
    void *lib = openLibrary({"libcuda.so.1", "libcuda.so"}, why);
    if (!lib) {
      s.error = why + " (no NVIDIA driver)";
      return;
    }
    Driver &d = s.d;
    bool ok = bind(lib, d.cuInit, "cuInit", why) &&
              bind(lib, d.cuDriverGetVersion, "cuDriverGetVersion", why) &&
              bind(lib, d.cuDeviceGetCount, "cuDeviceGetCount", why) &&
              bind(lib, d.cuDeviceGet, "cuDeviceGet", why) &&
              bind(lib, d.cuDeviceGetName, "cuDeviceGetName", why) &&
              bind(lib, d.cuDeviceGetAttribute, "cuDeviceGetAttribute", why) &&
              bind(lib, d.cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain", why) &&
              bind(lib, d.cuCtxSetCurrent, "cuCtxSetCurrent", why) &&
              bind(lib, d.cuModuleLoadData, "cuModuleLoadData", why) &&
              bind(lib, d.cuModuleGetFunction, "cuModuleGetFunction", why) &&
              bind(lib, d.cuLaunchKernel, "cuLaunchKernel", why) &&
              bind(lib, d.cuStreamCreate, "cuStreamCreate", why) &&
              bind(lib, d.cuStreamSynchronize, "cuStreamSynchronize", why) &&
              bind(lib, d.cuMemAlloc, "cuMemAlloc_v2", why) &&
              bind(lib, d.cuMemFree, "cuMemFree_v2", why) &&
              bind(lib, d.cuMemAllocHost, "cuMemAllocHost_v2", why) &&
              bind(lib, d.cuMemFreeHost, "cuMemFreeHost", why) &&
              bind(lib, d.cuMemGetInfo, "cuMemGetInfo_v2", why) &&
              bind(lib, d.cuMemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2", why) &&
              bind(lib, d.cuMemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2", why) &&
              bind(lib, d.cuMemsetD8Async, "cuMemsetD8Async", why) &&
              bind(lib, d.cuStreamBeginCapture, "cuStreamBeginCapture_v2", why) &&
              bind(lib, d.cuStreamEndCapture, "cuStreamEndCapture", why) &&
              bind(lib, d.cuGraphInstantiateWithFlags, "cuGraphInstantiateWithFlags", why) &&
              bind(lib, d.cuGraphLaunch, "cuGraphLaunch", why) &&
              bind(lib, d.cuGraphDestroy, "cuGraphDestroy", why) &&
              bind(lib, d.cuEventCreate, "cuEventCreate", why) &&
              bind(lib, d.cuStreamWaitEvent, "cuStreamWaitEvent", why) &&
              bind(lib, d.cuEventRecord, "cuEventRecord", why) &&
              bind(lib, d.cuEventSynchronize, "cuEventSynchronize", why) &&
              bind(lib, d.cuEventElapsedTime, "cuEventElapsedTime_v2", why) &&
              bind(lib, d.cuGetErrorString, "cuGetErrorString", why);
    if (!ok) {
      s.error = "libcuda: " + why;
      return;
    }
    int count = 0;
    CUcontext ctx = nullptr;
    if (d.cuInit(0) != 0 || d.cuDeviceGetCount(&count) != 0 || count < 1) {
      s.error = "no CUDA device";
      return;
    }
    int ordinal = wantedDevice();
    if (ordinal >= count) {
      s.error = "no CUDA device " + std::to_string(ordinal) + " (this node has " +
                std::to_string(count) + "; one rank per GPU)";
      return;
    }
    if (d.cuDeviceGet(&s.dev, ordinal) != 0 ||
        d.cuDevicePrimaryCtxRetain(&ctx, s.dev) != 0 ||
        d.cuCtxSetCurrent(ctx) != 0 || d.cuStreamCreate(&s.s, 0) != 0 ||
        d.cuStreamCreate(&s.copy, 0) != 0) {
      s.error = "cannot create a context on CUDA device " +
                std::to_string(ordinal);
      return;
    }
  });
  return st;
}

} // namespace

void useDevice(int ordinal) { wantedDevice() = ordinal; }

bool available(std::string *why) {
  State &s = state();
  if (why)
    *why = s.error;
  return s.error.empty();
}

const Driver &driver() {
  State &s = state();
  if (!s.error.empty())
    throw CudaError(s.error);
  return s.d;
}

CUstream stream() {
  driver();
  return state().s;
}

CUstream copyStream() {
  driver();
  return state().copy;
}

void check(CUresult r, const char *what) {
  if (r == 0)
    return;
  const char *msg = nullptr;
  if (state().d.cuGetErrorString)
    state().d.cuGetErrorString(r, &msg);
  throw CudaError(std::string(what) + ": " +
                  (msg ? msg : "CUDA error " + std::to_string(r)));
}

void *cublas() {
  State &s = state();
  if (s.cublasHandle)
    return s.cublasHandle;
  Driver &d = const_cast<Driver &>(driver());
  std::string why;
  void *lib = openLibrary({"libcublas.so.13", "libcublas.so.12", "libcublas.so"},
                          why);
  if (!lib || !bind(lib, d.cublasCreate, "cublasCreate_v2", why) ||
      !bind(lib, d.cublasSetStream, "cublasSetStream_v2", why) ||
      !bind(lib, d.cublasSetWorkspace, "cublasSetWorkspace_v2", why) ||
      !bind(lib, d.cublasSgemm, "cublasSgemm_v2", why) ||
      !bind(lib, d.cublasSgemmStridedBatched, "cublasSgemmStridedBatched",
            why) ||
      !bind(lib, d.cublasSetMathMode, "cublasSetMathMode", why))
    throw CudaError("cuBLAS: " + why);
  void *h = nullptr;
  if (d.cublasCreate(&h) != 0 || d.cublasSetStream(h, s.s) != 0)
    throw CudaError("cuBLAS: cannot create a handle");
  // A fixed workspace keeps cuBLAS capturable in CUDA graphs.
  static DeviceBuffer workspace(32u << 20);
  if (d.cublasSetWorkspace(h, workspace.data(), workspace.bytes()) != 0)
    throw CudaError("cuBLAS: cannot set the workspace");
  constexpr int kDefaultMath = 0, kTF32Math = 3;
  if (d.cublasSetMathMode(h, tf32Allowed() ? kTF32Math : kDefaultMath) != 0)
    throw CudaError("cuBLAS: cannot set the math mode");
  s.cublasHandle = h;
  return h;
}

static bool tf32 = false;
void allowTF32(bool allow) { tf32 = allow; }
bool tf32Allowed() { return tf32; }

static bool deterministic = false;
void requireDeterminism(bool require) { deterministic = require; }
bool determinismRequired() { return deterministic; }

void *cudnnSymbol(const char *name) {
  State &s = state();
  if (!s.cudnnLib) {
    std::string why;
    s.cudnnLib = openLibrary({"libcudnn.so.9", "libcudnn.so"}, why);
    if (!s.cudnnLib)
      throw CudaError("cuDNN: " + why);
  }
  void *f = dlsym(s.cudnnLib, name);
  if (!f)
    throw CudaError(std::string("cuDNN: missing symbol ") + name);
  return f;
}

std::string deviceName() {
  const Driver &d = driver();
  char name[256] = {0};
  d.cuDeviceGetName(name, sizeof(name), state().dev);
  return name;
}

double peakBandwidthGBs() {
  const Driver &d = driver();
  int clockKHz = 0, busBits = 0;
  d.cuDeviceGetAttribute(&clockKHz, kAttrMemoryClockKHz, state().dev);
  d.cuDeviceGetAttribute(&busBits, kAttrBusWidthBits, state().dev);
  // Double data rate: two transfers a clock.
  return 2.0 * clockKHz * 1e3 * (busBits / 8.0) / 1e9;
}

DeviceBuffer::DeviceBuffer(size_t bytes) : size(bytes) {
  if (bytes)
    check(driver().cuMemAlloc(&ptr, bytes), "cuMemAlloc");
}

DeviceBuffer::~DeviceBuffer() {
  if (ptr)
    state().d.cuMemFree(ptr);
}

DeviceBuffer &DeviceBuffer::operator=(DeviceBuffer &&o) noexcept {
  if (this != &o) {
    if (ptr)
      state().d.cuMemFree(ptr);
    ptr = o.ptr;
    size = o.size;
    o.ptr = 0;
    o.size = 0;
  }
  return *this;
}

} // namespace snnrt::cuda
