//===- Augment.cpp - image augmentation for training batches ---------------===//
#include "Augment.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>
#include <stdexcept>

namespace snnrt {

AugmentOptions parseAugment(const std::string &list) {
  AugmentOptions o;
  std::stringstream ss(list);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty())
      continue;
    if (item == "crop")
      o.cropPadding = 4;
    else if (item.rfind("crop:", 0) == 0) {
      // crop:N, a shift of at most N pixels (1..16).
      const std::string n = item.substr(5);
      if (n.empty() || n.size() > 2 ||
          n.find_first_not_of("0123456789") != std::string::npos ||
          std::stoi(n) < 1 || std::stoi(n) > 16)
        throw std::invalid_argument("--augment: '" + item +
                                    "' needs a padding of 1 to 16 pixels");
      o.cropPadding = std::stoi(n);
    } else if (item == "flip")
      o.flip = true;
    else if (item == "rotate")
      o.rotateDegrees = 10.0f;
    else if (item == "jitter")
      o.jitter = 0.2f;
    else
      throw std::invalid_argument("--augment: unknown augmentation '" + item +
                                  "' (crop, crop:N, flip, rotate, jitter)");
  }
  return o;
}

void augmentImage(const AugmentOptions &o, const std::vector<int64_t> &shape,
                  float *image, uint64_t seed) {
  int64_t c = shape[0], h = shape[1], w = shape[2];
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  std::vector<float> src(image, image + c * h * w);
  int dy = 0, dx = 0;
  if (o.cropPadding) {
    std::uniform_int_distribution<int> shift(-o.cropPadding, o.cropPadding);
    dy = shift(rng);
    dx = shift(rng);
  }
  bool flip = o.flip && unit(rng) < 0.5f;
  float angle = o.rotateDegrees ? (unit(rng) * 2 - 1) * o.rotateDegrees *
                                      3.14159265f / 180.0f
                                : 0.0f;
  float cs = std::cos(angle), sn = std::sin(angle);
  float cy = (h - 1) / 2.0f, cx = (w - 1) / 2.0f;
  // Output pixel (y, x) reads the source at the inverse transform.
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) {
      float fx = flip ? static_cast<float>(w - 1 - x) : static_cast<float>(x);
      float ry = cs * (y - cy) - sn * (fx - cx) + cy + dy;
      float rx = sn * (y - cy) + cs * (fx - cx) + cx + dx;
      int64_t sy = static_cast<int64_t>(std::lround(ry));
      int64_t sx = static_cast<int64_t>(std::lround(rx));
      bool inside = sy >= 0 && sy < h && sx >= 0 && sx < w;
      for (int64_t ch = 0; ch < c; ++ch)
        image[(ch * h + y) * w + x] =
            inside ? src[(ch * h + sy) * w + sx] : 0.0f;
    }
  if (o.jitter) {
    float brightness = 1 + (unit(rng) * 2 - 1) * o.jitter;
    float contrast = 1 + (unit(rng) * 2 - 1) * o.jitter;
    float mean = 0;
    for (int64_t i = 0; i < c * h * w; ++i)
      mean += image[i];
    mean /= c * h * w;
    for (int64_t i = 0; i < c * h * w; ++i)
      image[i] = std::clamp((image[i] - mean) * contrast + mean * brightness,
                            0.0f, 1.0f);
  }
}

} // namespace snnrt
