//===- Checkpoint.h - atomic training checkpoints -----------------*- C++ -*-===//
//
// A checkpoint holds everything to continue a run exactly: the position
// (epoch, batch within the epoch, global step), the history of per-epoch
// metrics, and the parameters with their AdamW moments, under a CRC-32. It
// is written to a uniquely named temporary file, fsync'ed, renamed over the
// target and the directory fsync'ed (runtime/core/OutputFile.h): a crash
// leaves either the old or the new checkpoint, never a mix.
//
//===----------------------------------------------------------------------===//
#ifndef SNNRT_TRAINER_CHECKPOINT_H
#define SNNRT_TRAINER_CHECKPOINT_H

#include <cstdint>
#include <string>
#include <vector>

namespace snnrt {

struct EpochRecord {
  int64_t epoch;
  double loss, trainAcc, testAcc, seconds, samplesPerSecond, lr;
};

struct TrainState {
  uint64_t fingerprint = 0;
  int64_t epoch = 0;      // epochs completed
  int64_t batchInEpoch = 0;
  int64_t step = 0;       // AdamW steps taken
  uint64_t seed = 0;
  int64_t validation = 0; // training samples held out (--validation)
  double epochLossSum = 0;
  int64_t epochCorrect = 0, epochSeen = 0;
  std::vector<EpochRecord> history;
  std::vector<std::vector<float>> params, m, v;
};

/// Throws std::runtime_error naming the path on failure.
void saveCheckpoint(const std::string &path, const TrainState &s);
TrainState loadCheckpoint(const std::string &path);
/// The checkpoint's bytes, unchecked (data parallelism: rank 0 reads them
/// and broadcasts them to the others, which parse them).
std::string readCheckpointFile(const std::string &path);
/// Parses and checks checkpoint bytes (`path` names them in errors).
TrainState parseCheckpoint(const std::string &path, std::string bytes);

} // namespace snnrt

#endif
