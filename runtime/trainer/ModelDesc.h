//===- ModelDesc.h - the compiled model's description -------------*- C++ -*-===//
//
// Parses the `snnc_model_info` text that snnc embeds in every trainer (see
// compiler/Target/ModelInfo.h for the format).
//
//===----------------------------------------------------------------------===//
#ifndef SNNRT_TRAINER_MODELDESC_H
#define SNNRT_TRAINER_MODELDESC_H

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace snnrt {

struct TensorDesc {
  std::string name, dtype; // dtype: f32, i32, i64 (scalar)
  std::vector<int64_t> shape;
  /// A parameter that the step updates itself (BatchNorm's running
  /// statistics), not the optimizer; the same on every rank only after
  /// Trainer::shareBuffers.
  bool buffer = false;
  /// How the trainer initialises it when the model gives no value
  /// (runtime/trainer/Init.h); empty: Kaiming.
  std::string initScheme;
  int64_t numElements() const {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    return n;
  }
};

struct ModelDesc {
  std::vector<TensorDesc> params, inputs;
  /// The step's loss is a batch mean (cross-entropy), not a batch sum.
  bool lossIsMean = false;
  std::vector<int64_t> outputSpikes; // [T, B, N]
  std::map<std::string, std::string> settings;

  int64_t steps() const { return outputSpikes.at(0); }
  int64_t batch() const { return outputSpikes.at(1); }
  int64_t classes() const { return outputSpikes.at(2); }
  /// The f32 data input, the i32 labels input, the optional i64 key.
  const TensorDesc *dataInput() const;
  const TensorDesc *labelInput() const;
  bool hasKey() const;
  /// What a checkpoint must match to be resumed: the network's fingerprint
  /// (snnc writes it: the network without its settings), else a hash of the
  /// whole description.
  uint64_t fingerprint() const;
  std::string text;
  uint64_t networkFingerprint = 0;
};

/// Throws std::runtime_error when the text is malformed.
ModelDesc parseModelDesc(const char *text);

} // namespace snnrt

#endif
