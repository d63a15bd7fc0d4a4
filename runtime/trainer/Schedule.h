//===- Schedule.h - the learning rate at every step ---------------*- C++ -*-===//
//
// The step's lr is an operand of the compiled update (snn.adamw, snn.adam,
// snn.sgd), so the schedule is plain arithmetic here, a function of the
// position (epoch, batch) alone: a resumed run continues it exactly.
//
//   exponential: lr0 * decay^epoch                      (snn.lr_decay)
//   multistep:   lr0 * gamma^(milestones <= epoch)      (torch MultiStepLR)
//   cosine:      lr_min + (lr0 - lr_min)(1 + cos(pi epoch / epochs)) / 2
//                                                       (torch CosineAnnealingLR)
// and a linear warm-up over the first `warmup` epochs, per step:
// lr * (step + 1) / (warmup * batches) for step < warmup * batches.
//
//===----------------------------------------------------------------------===//
#ifndef SNNRT_TRAINER_SCHEDULE_H
#define SNNRT_TRAINER_SCHEDULE_H

#include <cstdint>
#include <string>
#include <vector>

namespace snnrt {

struct Schedule {
  std::string kind = "exponential";
  double lr0 = 5e-4, decay = 1.0, gamma = 0.1, lrMin = 0.0;
  std::vector<int64_t> milestones;
  int64_t epochs = 1, warmupEpochs = 0;
};

/// The learning rate of batch `batch` (0-based) of epoch `epoch` (0-based).
double learningRate(const Schedule &s, int64_t epoch, int64_t batch,
                    int64_t batches);

/// Reads "30,60,90" (already validated by checkSetting).
std::vector<int64_t> parseMilestones(const std::string &list);

} // namespace snnrt

#endif
