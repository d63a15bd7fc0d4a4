//===- Launch.cpp - the mgpu* entry points that MLIR's gpu-to-llvm emits ----===//
//
// gpu-to-llvm lowers gpu.binary / gpu.launch_func to calls of
// mgpuModuleLoadJIT (from a global constructor), mgpuModuleGetFunction,
// mgpuStreamCreate, mgpuLaunchKernel, mgpuStreamSynchronize and
// mgpuStreamDestroy. snnc's runtime implements them on the dlopen'ed driver:
//   - modules load lazily on the first launch, so that a trainer starts (and
//     runs on the CPU) on a machine without a GPU;
//   - every launch goes to snnrt's one stream and "synchronize" is a no-op:
//     the host code of a prepared step never reads device memory, so the
//     whole step is asynchronous and can be captured as one CUDA graph.
// Errors cannot unwind through generated code: the first one is kept and
// the caller of the step collects it (takeError).
//
//===----------------------------------------------------------------------===//
#include "Driver.h"
#include "Launch.h"

#include <mutex>
#include <string>
#include <unordered_map>

namespace snnrt::cuda {
namespace {

struct LazyModule {
  std::string ptx; // NUL-terminated for cuModuleLoadData
  CUmodule module = nullptr;
  std::unordered_map<std::string, CUfunction> functions;
};

std::mutex errorMutex;
std::string firstError;

void recordError(const std::string &e) {
  std::lock_guard<std::mutex> lock(errorMutex);
  if (firstError.empty())
    firstError = e;
}

} // namespace

void setError(const std::string &e) { recordError(e); }

std::string takeError() {
  std::lock_guard<std::mutex> lock(errorMutex);
  std::string e;
  e.swap(firstError);
  return e;
}

} // namespace snnrt::cuda

using namespace snnrt::cuda;

extern "C" {

void *mgpuModuleLoadJIT(void *data, int /*optLevel*/) {
  auto *m = new LazyModule;
  m->ptx = static_cast<const char *>(data);
  return m;
}

void *mgpuModuleLoad(void *data, size_t size) {
  auto *m = new LazyModule;
  m->ptx.assign(static_cast<const char *>(data), size);
  return m;
}

void mgpuModuleUnload(void *module) {
  // At exit the driver may already be gone: the process frees everything.
  (void)module;
}

void *mgpuModuleGetFunction(void *module, const char *name) {
  auto *m = static_cast<LazyModule *>(module);
  try {
    auto it = m->functions.find(name);
    if (it != m->functions.end())
      return it->second;
    const Driver &d = driver();
    if (!m->module)
      check(d.cuModuleLoadData(&m->module, m->ptx.c_str()),
            "cuModuleLoadData (JIT of the kernels' PTX)");
    CUfunction f = nullptr;
    check(d.cuModuleGetFunction(&f, m->module, name), "cuModuleGetFunction");
    m->functions.emplace(name, f);
    return f;
  } catch (const std::exception &e) {
    recordError(std::string(e.what()) + " (kernel " + name + ")");
    return nullptr;
  }
}

void *mgpuStreamCreate() {
  try {
    return stream();
  } catch (const std::exception &e) {
    recordError(e.what());
    return nullptr;
  }
}

void mgpuStreamSynchronize(void *) {}
void mgpuStreamDestroy(void *) {}

void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t smem, void *stream,
                      void **params, void **extra, size_t /*paramsCount*/) {
  if (!function)
    return; // the error is recorded already
  CUresult r = driver().cuLaunchKernel(
      function, gridX, gridY, gridZ, blockX, blockY, blockZ, smem, stream,
      params, extra);
  if (r != 0) {
    try {
      check(r, "cuLaunchKernel");
    } catch (const std::exception &e) {
      recordError(e.what());
    }
  }
}

} // extern "C"
