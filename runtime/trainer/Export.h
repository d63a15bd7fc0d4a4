//===- Export.h - the trained model as ONNX or NIR -----------------------*- C++ -*-===//
#ifndef SNNRT_TRAINER_EXPORT_H
#define SNNRT_TRAINER_EXPORT_H

#include <cstdint>
#include <string>
#include <vector>

namespace snnrt {

/// Writes `model` (binary ONNX) to `path` (atomically) with every named
/// weight stored as an initializer holding `values`. Throws
/// std::runtime_error naming the path on failure.
void exportONNX(const std::string &model, const std::string &path,
                const std::vector<std::string> &names,
                const std::vector<std::vector<int64_t>> &shapes,
                const std::vector<std::vector<float>> &values);

/// The same as a NIR 1.0 graph (runtime/nir/NIRWriter.h); a model without
/// a NIR form is one line naming the node.
void exportNIR(const std::string &model, const std::string &path,
               const std::vector<std::string> &names,
               const std::vector<std::vector<int64_t>> &shapes,
               const std::vector<std::vector<float>> &values);

} // namespace snnrt

#endif
