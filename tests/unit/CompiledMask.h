//===- CompiledMask.h - the compiled dropout's masks, recomputed -*- C++ -*-===//
//
// The keep mask a compiled dropout (snn.dropout, snn.feedback,
// snn.feedback_ring) draws: compiler/Conversion/LoopEmitter.h's uniform,
// splitmix64 of key * golden + (i + stream << 40), kept where it is at
// least `rate`, as 1 / (1 - rate). The numeric tests hand it to the
// references.
//
//===----------------------------------------------------------------------===//
#ifndef SNNC_TESTS_UNIT_COMPILEDMASK_H
#define SNNC_TESTS_UNIT_COMPILEDMASK_H

#include <cstdint>
#include <vector>

namespace snnc::test {

inline std::vector<double> compiledMask(int64_t key, int64_t stream, int count,
                                        float rate) {
  std::vector<double> m(count);
  for (int i = 0; i < count; ++i) {
    uint64_t z = static_cast<uint64_t>(key) * 0x9E3779B97F4A7C15ull +
                 (static_cast<uint64_t>(i) + (static_cast<uint64_t>(stream) << 40));
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z = z ^ (z >> 31);
    float u = static_cast<float>(z >> 40) * (1.0f / 16777216.0f);
    m[i] = u >= rate ? 1.0 / (1.0 - rate) : 0.0;
  }
  return m;
}

} // namespace snnc::test

#endif
