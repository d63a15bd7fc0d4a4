//===- NCCL.cpp - snn.grad_all_reduce on GPUs: NCCL on the step's stream ----===//
//
// One rank per GPU: the rank's device is its rank within the node
// (Communicator::localRank, set before the CUDA context exists, see
// cuda::useDevice). libnccl.so.2 is opened with dlopen like cuBLAS; the
// communicator is bootstrapped through MPI (rank 0's ncclUniqueId is
// broadcast) before the first step, because the step's host code runs
// while the step's CUDA graph is captured, where ncclCommInitRank cannot.
// The step's gradients are reduced by one ncclAllReduce each inside one
// ncclGroupStart/ncclGroupEnd (NCCL fuses a group into one launch), on
// cuda::stream(), so the reduction is captured into the CUDA graph
// (NCCL >= 2.9 supports stream capture). Nothing synchronizes the host.
//
//===----------------------------------------------------------------------===//
#include "NCCL.h"
#include "Communicator.h"
#include "runtime/cuda/Driver.h"
#include "runtime/cuda/Launch.h"
#include "snnrt/snnrt.h"

#include <dlfcn.h>
#include <string>
#include <vector>

namespace snnrt::parallel {

namespace {

struct UniqueId {
  char internal[128]; // NCCL_UNIQUE_ID_BYTES
};
constexpr int kFloat32 = 7, kSum = 0, kAvg = 4; // ncclFloat32, ncclSum, ncclAvg

struct Nccl {
  int (*getUniqueId)(UniqueId *) = nullptr;
  int (*commInitRank)(void **, int, UniqueId, int) = nullptr;
  int (*allReduce)(const void *, void *, size_t, int, int, void *,
                   void *) = nullptr;
  int (*groupStart)() = nullptr;
  int (*groupEnd)() = nullptr;
  const char *(*errorString)(int) = nullptr;
  int (*getVersion)(int *) = nullptr;
  void *comm = nullptr;
  int version = 0;
};

Nccl &nccl() {
  static Nccl n;
  return n;
}

std::vector<GradientBuffer> pending;

void check(int rc, const char *what) {
  if (rc != 0)
    throw cuda::CudaError(std::string(what) + " failed: " +
                          (nccl().errorString ? nccl().errorString(rc)
                                              : std::to_string(rc)));
}

} // namespace

std::string initNCCL(Communicator &c) {
  Nccl &n = nccl();
  if (n.comm)
    return "";
  void *h = nullptr;
  std::string why;
  for (const char *name : {"libnccl.so.2", "libnccl.so",
                           "/usr/local/cuda/lib64/libnccl.so.2"}) {
    if ((h = ::dlopen(name, RTLD_NOW | RTLD_GLOBAL)))
      break;
    if (const char *e = ::dlerror(); e && why.empty())
      why = e;
  }
  if (!h)
    throw cuda::CudaError("data-parallel training on GPUs needs NCCL "
                          "(libnccl.so.2): " + why);
  auto bind = [&](auto &fn, const char *name) {
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(
        ::dlsym(h, name));
    if (!fn)
      throw cuda::CudaError(std::string("libnccl lacks ") + name);
  };
  bind(n.getUniqueId, "ncclGetUniqueId");
  bind(n.commInitRank, "ncclCommInitRank");
  bind(n.allReduce, "ncclAllReduce");
  bind(n.groupStart, "ncclGroupStart");
  bind(n.groupEnd, "ncclGroupEnd");
  bind(n.errorString, "ncclGetErrorString");
  bind(n.getVersion, "ncclGetVersion");
  n.getVersion(&n.version);
  UniqueId id{};
  if (c.rank() == 0)
    check(n.getUniqueId(&id), "ncclGetUniqueId");
  c.broadcast(&id, sizeof(id), 0, "NCCL's unique id");
  cuda::driver(); // the rank's context is current
  check(n.commInitRank(&n.comm, c.size(), id, c.rank()), "ncclCommInitRank");
  int v = n.version;
  return "NCCL " + std::to_string(v / 10000) + "." +
         std::to_string(v / 100 % 100) + "." + std::to_string(v % 100);
}

} // namespace snnrt::parallel

extern "C" void _mlir_ciface_snnrt_cuda_grad_all_reduce(snnrt_memref1d *g,
                                                        int64_t index,
                                                        int64_t count,
                                                        int64_t mean) {
  using namespace snnrt::parallel;
  Communicator *c = world();
  if (!c || c->size() == 1)
    return;
  try {
    Nccl &n = nccl();
    if (!n.comm)
      throw snnrt::cuda::CudaError("snnrt_cuda_grad_all_reduce: NCCL was not "
                                   "initialized (initNCCL)");
    if (!collectGradient(pending, g->aligned + g->offset, g->sizes[0], index,
                         count))
      return;
    check(n.groupStart(), "ncclGroupStart");
    for (const GradientBuffer &p : pending)
      check(n.allReduce(p.data, p.data, static_cast<size_t>(p.n), kFloat32,
                        mean ? kAvg : kSum, n.comm, snnrt::cuda::stream()),
            "ncclAllReduce");
    check(n.groupEnd(), "ncclGroupEnd");
  } catch (const std::exception &e) {
    snnrt::cuda::setError(e.what());
  }
}
