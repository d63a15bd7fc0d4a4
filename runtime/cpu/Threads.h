//===- Threads.h - one thread pool for the CPU runtime and compiled loops ---===//
//
// The compiled neuron loops are OpenMP loops on LLVM's libomp. The runtime's
// GEMMs and convolutions split their work over the same OpenMP threads (g++
// compiles the pragmas to GOMP_* calls, which libomp implements) and run
// OpenBLAS single-threaded inside them: a second pool of BLAS threads would
// spin on the same cores between calls (measured: about a fifth of the MNIST
// CNN step went to sched_yield with OpenBLAS's own threads).
//
//===----------------------------------------------------------------------===//
#ifndef SNNRT_CPU_THREADS_H
#define SNNRT_CPU_THREADS_H

#include "CpuKernels.h"

#include <omp.h>

#include <cstdint>

namespace snnrt::cpu {

/// Calls f(begin, count) on each OpenMP thread with its share of [0, n).
template <typename F> void forEachShare(int64_t n, F &&f) {
#pragma omp parallel
  {
    int64_t t = omp_get_thread_num(), threads = omp_get_num_threads();
    int64_t begin = n * t / threads, end = n * (t + 1) / threads;
    if (end > begin)
      f(begin, end - begin);
  }
}

} // namespace snnrt::cpu

#endif
