//===- Options.h - the trainer's command line --------------------*- C++ -*-===//
#ifndef SNNRT_TRAINER_OPTIONS_H
#define SNNRT_TRAINER_OPTIONS_H

#include <cstdint>
#include <string>

namespace snnrt {

struct Options {
  std::string data, dataset, checkpoint, metrics, plot, augment, exportPath;
  int64_t epochs = -1, batch = -1, threads = 0, maxSteps = -1;
  double lr = -1, lrDecay = -1, nmnistKeep = 0.3, weightClip = 0;
  std::string schedule, milestones, evalSpikes, exportNIR;
  double gamma = -1, lrMin = -1;
  int64_t warmupEpochs = -1;
  // Training samples held out for evaluation instead of the test set (-1:
  // none, or the checkpoint's on --resume).
  int64_t validation = -1;
  // Data parallelism (mpirun/srun): seconds a collective may wait, and the
  // gradient bucket (bytes; 0: one collective per tensor; -1: one bucket).
  double dpTimeout = 300;
  int64_t dpBucketBytes = -1;
  uint64_t seed = 1;
  std::string device = "auto", backward;
  bool resume = false, evalOnly = false, cudaGraphs = true, logSteps = false,
       tf32 = false, deterministic = false, overwrite = false;
};

/// Parses argv; --help and --version print and exit, a bad option exits 2.
Options parseArgs(int argc, char **argv);
[[noreturn]] void usageError(const std::string &m);

} // namespace snnrt

#endif
