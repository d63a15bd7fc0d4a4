//===- PackedArgs.h - arguments of snnc's packed entry points -----*- C++ -*-===//
//
// snnc_train_step(void **args) and friends take one pointer per scalar of
// the lowered signature: a memref is (allocated, aligned, offset, sizes...,
// strides...), followed by a pointer to the f32 result.
//
//===----------------------------------------------------------------------===//
#ifndef SNNRT_TRAINER_PACKEDARGS_H
#define SNNRT_TRAINER_PACKEDARGS_H

#include <cstdint>
#include <cstring>
#include <vector>

namespace snnrt {

/// Expanded memref / scalar arguments for a packed call.
class PackedArgs {
public:
  void buffer(void *data, const std::vector<int64_t> &shape) {
    push(reinterpret_cast<uint64_t>(data));
    push(reinterpret_cast<uint64_t>(data));
    push(0);
    for (int64_t d : shape)
      push(static_cast<uint64_t>(d));
    std::vector<int64_t> strides(shape.size());
    int64_t s = 1;
    for (size_t i = shape.size(); i-- > 0;) {
      strides[i] = s;
      s *= shape[i];
    }
    for (int64_t st : strides)
      push(static_cast<uint64_t>(st));
  }
  void i64(int64_t v) { push(static_cast<uint64_t>(v)); }
  void f32(float v) {
    uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof(v));
    push(bits);
  }
  void **finish(float *result) {
    ptrs.clear();
    for (uint64_t &s : slots)
      ptrs.push_back(&s);
    ptrs.push_back(result);
    return ptrs.data();
  }

private:
  void push(uint64_t v) { slots.push_back(v); }
  std::vector<uint64_t> slots;
  std::vector<void *> ptrs;
};

} // namespace snnrt

#endif
