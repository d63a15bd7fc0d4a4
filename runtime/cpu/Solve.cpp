//===- Solve.cpp - batched dense linear solves on LAPACK --------------------===//
//
// IDE's exact solver (snn.feedback_grad with solver = exact, for tests and
// small modules): one LAPACK sgesv (LU with partial pivoting) per sample.
// And the log of solves that did not converge (every solver), which the
// trainer prints.
//
//===----------------------------------------------------------------------===//
#include "snnrt/snnrt.h"

#include <cstdio>
#include <cstdlib>
#include <dlfcn.h>
#include <mutex>
#include <vector>

namespace {

using Sgesv = void (*)(const int *n, const int *nrhs, float *a, const int *lda,
                       int *ipiv, float *b, const int *ldb, int *info);

/// LAPACK is opened at the first exact solve, not linked: Debian's
/// liblapack.so.3 is often OpenBLAS's, whose constructor starts a thread
/// pool when the library loads, before the trainer's main() blocks SIGINT
/// and SIGTERM (runtime/trainer/main.cpp); a Ctrl-C delivered to one of
/// those threads killed the trainer without its checkpoint. Opened here,
/// its threads inherit the blocked mask. The solves run one per sample on
/// OpenMP threads, so OpenBLAS's own threading is turned off.
Sgesv lapackSgesv() {
  static Sgesv fn = nullptr;
  static std::once_flag once;
  std::call_once(once, [] {
    const char *names[] = {"liblapack.so.3", "liblapack.so"};
    void *lib = nullptr;
    for (const char *name : names)
      if ((lib = dlopen(name, RTLD_NOW | RTLD_LOCAL)))
        break;
    if (!lib) {
      std::fprintf(stderr,
                   "snnrt: error: the exact IDE solver needs LAPACK "
                   "(liblapack.so.3, Debian's liblapack3): %s\n",
                   dlerror());
      std::exit(1);
    }
    if (auto setThreads = reinterpret_cast<void (*)(int)>(
            dlsym(lib, "openblas_set_num_threads")))
      setThreads(1);
    fn = reinterpret_cast<Sgesv>(dlsym(lib, "sgesv_"));
    if (!fn) {
      std::fprintf(stderr, "snnrt: error: %s\n", dlerror());
      std::exit(1);
    }
  });
  return fn;
}

} // namespace

extern "C" {

void _mlir_ciface_snnrt_solve_batched(snnrt_memref2d *a, snnrt_memref2d *x) {
  const int64_t batch = x->sizes[0], n = x->sizes[1];
  if (a->sizes[0] != batch * n || a->sizes[1] != n || a->strides[0] != n ||
      x->strides[0] != n) {
    std::fprintf(stderr, "snnrt: error: snnrt_solve_batched needs contiguous "
                         "[B*N, N] and [B, N] buffers\n");
    std::exit(1);
  }
  const int in = static_cast<int>(n), one = 1;
  Sgesv sgesv_ = lapackSgesv();
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<int> pivots(n);
    int info = 0;
    sgesv_(&in, &one, snnrt_data2d(a) + b * n * n, &in, pivots.data(),
           snnrt_data2d(x) + b * n, &in, &info);
    if (info != 0) {
      std::fprintf(stderr,
                   "snnrt: error: the exact IDE solve found (I - J^T) "
                   "singular for sample %lld (LAPACK sgesv info %d)\n",
                   static_cast<long long>(b), info);
      std::exit(1);
    }
  }
}

namespace {
snnrt_ide_solver_stats gStats{0, 0, 0.0, 0.0};
}

void snnrt_ide_solver_report(int64_t samples, float residual, float tolerance) {
  ++gStats.solves;
  gStats.samples += samples;
  if (gStats.solves == 1 || residual / tolerance >
                                gStats.worstResidual / gStats.tolerance) {
    gStats.worstResidual = residual;
    gStats.tolerance = tolerance;
  }
}

snnrt_ide_solver_stats snnrt_ide_take_solver_stats(void) {
  snnrt_ide_solver_stats s = gStats;
  gStats = {0, 0, 0.0, 0.0};
  return s;
}

} // extern "C"
