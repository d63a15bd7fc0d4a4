//===- Launch.h - errors of generated code's CUDA calls ------------*- C++ -*-===//
#ifndef SNNRT_CUDA_LAUNCH_H
#define SNNRT_CUDA_LAUNCH_H

#include <string>

namespace snnrt::cuda {
/// Keeps the first error of a runtime call made from generated code.
void setError(const std::string &e);
/// Returns and clears it (empty: none).
std::string takeError();
} // namespace snnrt::cuda

#endif
