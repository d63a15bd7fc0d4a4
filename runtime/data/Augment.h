//===- Augment.h - image augmentation for training batches --------*- C++ -*-===//
#ifndef SNNRT_DATA_AUGMENT_H
#define SNNRT_DATA_AUGMENT_H

#include <cstdint>
#include <string>
#include <vector>

namespace snnrt {

struct AugmentOptions {
  int cropPadding = 0;      // random crop after zero padding (crop)
  bool flip = false;        // horizontal flip with probability 1/2 (flip)
  float rotateDegrees = 0;  // uniform rotation in [-d, d] (rotate)
  float jitter = 0;         // brightness and contrast in [1-j, 1+j] (jitter)
  bool any() const { return cropPadding || flip || rotateDegrees || jitter; }
};

/// "crop,flip,rotate,jitter" (any subset, "" for none); throws
/// std::invalid_argument naming an unknown entry.
AugmentOptions parseAugment(const std::string &list);

/// Augments one [C, H, W] image in place; deterministic in `seed`.
void augmentImage(const AugmentOptions &o, const std::vector<int64_t> &shape,
                  float *image, uint64_t seed);

} // namespace snnrt

#endif
