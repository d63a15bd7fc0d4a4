//===- Report.h - progress bar, metrics lines, SVG plot -----------*- C++ -*-===//
#ifndef SNNRT_TRAINER_REPORT_H
#define SNNRT_TRAINER_REPORT_H

#include "Checkpoint.h"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace snnrt {

/// A progress bar with samples/s and ETA on a terminal; plain lines every
/// few seconds otherwise (logs, CI).
class Progress {
public:
  Progress(int64_t epoch, int64_t epochs, int64_t total);
  void update(int64_t done, int64_t samples, double loss, double acc);
  void finish();

private:
  int64_t epoch, epochs, total;
  bool tty;
  std::chrono::steady_clock::time_point start, lastPrint;
};

/// One JSON object per line; the accuracy is "<evalSet>_accuracy" (the
/// test set, or the held-out training samples of --validation).
std::string metricsLine(const EpochRecord &r, const char *evalSet = "test");
/// Loss and accuracy per epoch as an SVG line chart.
std::string plotSVG(const std::vector<EpochRecord> &history,
                    const char *evalSet = "test");

} // namespace snnrt

#endif
