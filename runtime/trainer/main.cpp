//===- main.cpp - the trainer that snnc links with every compiled model ---===//
//
// Signals and the entry point; the loop is Trainer.h.
//
//===----------------------------------------------------------------------===//
#include "Trainer.h"

#include "snnrt/model.h"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <malloc.h>
#include <pthread.h>
#include <thread>

using namespace snnrt;

namespace {

/// SIGINT and SIGTERM are blocked in every thread (the mask is inherited
/// by OpenMP's, oneDNN's and the data loader's threads) and taken by one
/// thread with sigwait: no signal handler ever runs on the stack of
/// compiled or JIT-generated code. (With a handler, a Ctrl-C during a step
/// corrupted the heap in about 1 run in 10: its frame, with the AVX-512
/// state, landed on memory that code was still using.)
void takeSignalsOnOneThread() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([set] {
    int sig = 0;
    while (sigwait(&set, &sig) == 0) {
      if (!training)
        std::_Exit(128 + sig);
      interrupted = sig;
    }
  }).detach();
}

} // namespace

int main(int argc, char **argv) {
  // The compiled step allocates the same large buffers every step: keep
  // them in the heap, never in mmap'ed memory that free() unmaps, and never
  // give the heap's top back to the system, so that every step after the
  // first reuses pages instead of faulting fresh ones in (measured, CIFAR-10
  // AlexNet on 2 cores: 1.1 million page faults per step before, none after;
  // 13.5 -> about 5.4 s per step). The peak memory is the same.
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, -1);
  takeSignalsOnOneThread();
  Options opts = parseArgs(argc, argv);
  try {
    Trainer trainer(parseModelDesc(snnc_model_info), opts);
    return trainer.run();
  } catch (const std::exception &e) {
    std::fprintf(stderr, "trainer: error: %s\n", e.what());
    return 1;
  }
}
