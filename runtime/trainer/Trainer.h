//===- Trainer.h - the training loop ------------------------------*- C++ -*-===//
//
// By concern: Options.cpp (the command line), TrainerData.cpp (which data,
// batches), Trainer.cpp (the loop, checkpoints, metrics, export), Report.cpp
// (progress, metrics lines, the plot), and the steps behind StepExecutor.h
// (CpuStep, CudaStep).
//
//===----------------------------------------------------------------------===//
#ifndef SNNRT_TRAINER_TRAINER_H
#define SNNRT_TRAINER_TRAINER_H

#include "Checkpoint.h"
#include "ModelDesc.h"
#include "Options.h"
#include "StepExecutor.h"
#include "runtime/core/OutputFile.h"
#include "runtime/data/Augment.h"
#include "runtime/data/Dataset.h"
#include "runtime/parallel/Communicator.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace snnrt {

/// The signal that stops training (SIGINT: Ctrl-C; SIGTERM: what Slurm and
/// other schedulers send before SIGKILL); 0 while none came.
extern std::atomic<int> interrupted;
/// Whether the training loop runs (and will stop at the next step with a
/// checkpoint); before it, a signal ends the process at once.
extern std::atomic<bool> training;

struct Batch {
  std::vector<float> x;
  std::vector<int32_t> y;
  int64_t valid = 0;
};

/// A model setting as a number, or `def`.
inline double setting(const ModelDesc &d, const std::string &key, double def) {
  auto it = d.settings.find(key);
  return it == d.settings.end() ? def : std::strtod(it->second.c_str(), nullptr);
}

/// The training loop over a compiled model: data, steps on an executor,
/// evaluation, checkpoints, metrics, export.
class Trainer {
public:
  Trainer(ModelDesc desc, Options opts) : d(std::move(desc)), o(std::move(opts)) {}
  ~Trainer();
  int run();

private:
  void loadData();
  void holdOut(int64_t n, const std::string &dir);
  /// "validation" with --validation, else "test".
  const char *evalSet() const { return s.validation > 0 ? "validation" : "test"; }
  Dataset syntheticData(int64_t batches) const;
  Batch makeBatch(const Dataset &ds, const std::vector<int64_t> &order,
                  int64_t first, bool train, uint64_t augmentSeed) const;
  /// Returns the loss; fills `spikes`.
  /// One training step; on a GPU `whileOnDevice` runs while the device
  /// works on it (the trainer stages the next batch there).
  float step(const Batch &b, float lr,
             const std::function<void()> &whileOnDevice = {});
  float evaluate(const Batch &b);
  double testAccuracy(double *meanLoss = nullptr);
  void reportSolver(const std::string &when, int64_t steps);
  int64_t correct(const Batch &b) const;
  void saveAndReport(const std::string &why);
  void exportModel();
  void checkOutputPaths();
  void lockCheckpoint();
  void checkResumedState(int64_t batches) const;
  void writeMetrics();

  ModelDesc d;
  Options o;
  Dataset train, test;
  const TensorDesc *xDesc = nullptr, *yDesc = nullptr;
  TrainState s;
  std::vector<float> spikes;
  AugmentOptions augment;
  // snn.input_mean / snn.input_std: x := (x - mean_c) / std_c per input
  // channel after augmentation (torchvision's Normalize); empty: as loaded.
  std::vector<float> inputMean, inputStd;
  std::string method;                  // the training method (--backward)
  std::unique_ptr<StepExecutor> exec;  // the CPU or the CUDA step
  bool onGPU = false;
  int lockFd = -1;            // flock'ed PATH.lock of the checkpoint
  std::string lockPath;
  io::OutputKind metricsKind = io::OutputKind::New,
                 checkpointKind = io::OutputKind::New;
  size_t metricsWritten = 0;  // epochs in the metrics file (devices)
  // Data parallelism (docs/data-parallel.md): the ranks, or null alone.
  parallel::Communicator *comm = nullptr;
  int rank = 0, ranks = 1;
  /// Rank 0 (or the only process) prints, writes and exports.
  bool lead() const { return rank == 0; }
  /// Every rank's `v` summed in place (nothing alone).
  void sumOverRanks(double *v, int64_t n, const char *what);
  /// The state of rank 0 on every rank: the resumed checkpoint's bytes, or
  /// the initial parameters.
  void shareState(bool resumed);
  /// Rank 0's buffers (BatchNorm's running statistics, which each rank
  /// updates from its own shard) on every rank.
  void shareBuffers();
  /// Stops the run when the ranks' parameters differ (after each epoch).
  void checkRanksAgree();
  /// The executor of `method` on the CPU or a GPU (--device).
  void chooseExecutor();
  /// The executor's parameters and moments into `s`.
  void syncFromDevice() { exec->download(s.params, s.m, s.v); }
};

} // namespace snnrt

#endif
