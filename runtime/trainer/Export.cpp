//===- Export.cpp - the trained model as ONNX -------------------------------===//
#include "Export.h"
#include "runtime/core/OutputFile.h"
#include "Report.h"
#include "runtime/nir/NIRWriter.h"

#include <onnx/onnx_pb.h>

#include <stdexcept>

namespace snnrt {

namespace {
/// The embedded model with the learned values as its initializers.
onnx::ModelProto trainedModel(const std::string &bytes,
                              const std::string &path,
                              const std::vector<std::string> &names,
                              const std::vector<std::vector<int64_t>> &shapes,
                              const std::vector<std::vector<float>> &values) {
  if (bytes.empty())
    throw std::runtime_error(path + ": the model was compiled from MLIR, not "
                                    "ONNX or NIR; there is no model to export");
  onnx::ModelProto model;
  if (!model.ParseFromString(bytes))
    throw std::runtime_error(path + ": the embedded ONNX model is corrupt");
  onnx::GraphProto *graph = model.mutable_graph();
  for (size_t i = 0; i < names.size(); ++i) {
    onnx::TensorProto *t = nullptr;
    for (auto &init : *graph->mutable_initializer())
      if (init.name() == names[i])
        t = &init;
    if (!t)
      t = graph->add_initializer();
    t->Clear();
    t->set_name(names[i]);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : shapes[i])
      t->add_dims(d);
    t->set_raw_data(std::string(reinterpret_cast<const char *>(values[i].data()),
                                values[i].size() * sizeof(float)));
  }
  return model;
}
} // namespace

void exportONNX(const std::string &bytes, const std::string &path,
                const std::vector<std::string> &names,
                const std::vector<std::vector<int64_t>> &shapes,
                const std::vector<std::vector<float>> &values) {
  onnx::ModelProto model = trainedModel(bytes, path, names, shapes, values);
  std::string out;
  if (!model.SerializeToString(&out))
    throw std::runtime_error(path + ": cannot serialize the trained model");
  io::writeOutput(path, out);
}

void exportNIR(const std::string &bytes, const std::string &path,
               const std::vector<std::string> &names,
               const std::vector<std::vector<int64_t>> &shapes,
               const std::vector<std::vector<float>> &values) {
  onnx::ModelProto model = trainedModel(bytes, path, names, shapes, values);
  std::string out;
  try {
    out = writeNIR(model);
  } catch (const std::runtime_error &e) {
    throw std::runtime_error(path + ": " + e.what());
  }
  io::writeOutput(path, out);
}

} // namespace snnrt
