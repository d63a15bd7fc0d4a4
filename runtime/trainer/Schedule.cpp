//===- Schedule.cpp - the learning rate at every step ---------------------===//
#include "Schedule.h"

#include <cmath>
#include <cstdlib>

namespace snnrt {

double learningRate(const Schedule &s, int64_t epoch, int64_t batch,
                    int64_t batches) {
  double lr = s.lr0;
  if (s.kind == "multistep") {
    for (int64_t m : s.milestones)
      if (epoch >= m)
        lr *= s.gamma;
  } else if (s.kind == "cosine") {
    double x = static_cast<double>(epoch) / static_cast<double>(s.epochs);
    lr = s.lrMin + (s.lr0 - s.lrMin) * (1.0 + std::cos(M_PI * x)) / 2.0;
  } else {
    lr *= std::pow(s.decay, static_cast<double>(epoch));
  }
  int64_t warmSteps = s.warmupEpochs * batches;
  int64_t step = epoch * batches + batch;
  if (step < warmSteps)
    lr *= static_cast<double>(step + 1) / static_cast<double>(warmSteps);
  return lr;
}

std::vector<int64_t> parseMilestones(const std::string &list) {
  std::vector<int64_t> out;
  size_t at = 0;
  while (at < list.size()) {
    size_t comma = list.find(',', at);
    out.push_back(std::strtoll(list.substr(at, comma - at).c_str(), nullptr, 10));
    if (comma == std::string::npos)
      break;
    at = comma + 1;
  }
  return out;
}

} // namespace snnrt
