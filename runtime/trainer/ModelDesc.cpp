//===- ModelDesc.cpp - the compiled model's description ---------------------===//
#include "ModelDesc.h"

#include "runtime/core/Settings.h"

#include <sstream>
#include <stdexcept>

namespace snnrt {

ModelDesc parseModelDesc(const char *text) {
  ModelDesc d;
  d.text = text;
  std::istringstream in(d.text);
  std::string line;
  bool header = false;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string kind;
    ls >> kind;
    if (kind == "snnc-model") {
      header = true;
    } else if (kind == "fingerprint") {
      std::string hex;
      ls >> hex;
      d.networkFingerprint = std::strtoull(hex.c_str(), nullptr, 16);
    } else if (kind == "param" || kind == "buffer" || kind == "input") {
      TensorDesc t;
      t.buffer = kind == "buffer";
      ls >> t.name;
      t.name = unescapeToken(t.name);
      t.dtype = "f32";
      if (kind == "input")
        ls >> t.dtype;
      int64_t dim;
      while (ls >> dim)
        t.shape.push_back(dim);
      (kind == "input" ? d.inputs : d.params).push_back(t);
    } else if (kind == "init") {
      std::string name, scheme;
      ls >> name >> scheme;
      name = unescapeToken(name);
      for (TensorDesc &t : d.params)
        if (t.name == name)
          t.initScheme = unescapeToken(scheme);
    } else if (kind == "output") {
      std::string what;
      ls >> what;
      int64_t dim;
      while (ls >> dim)
        d.outputSpikes.push_back(dim);
    } else if (kind == "loss") {
      std::string reduction;
      ls >> reduction;
      d.lossIsMean = reduction == "mean";
    } else if (kind == "setting") {
      std::string key, value;
      ls >> key >> value;
      d.settings[unescapeToken(key)] = unescapeToken(value);
    }
  }
  if (!header || d.outputSpikes.size() != 3 || d.params.empty())
    throw std::runtime_error("the embedded model description is malformed");
  return d;
}

const TensorDesc *ModelDesc::dataInput() const {
  for (const TensorDesc &t : inputs)
    if (t.dtype == "f32")
      return &t;
  return nullptr;
}

const TensorDesc *ModelDesc::labelInput() const {
  for (const TensorDesc &t : inputs)
    if (t.dtype == "i32")
      return &t;
  return nullptr;
}

bool ModelDesc::hasKey() const {
  for (const TensorDesc &t : inputs)
    if (t.dtype == "i64")
      return true;
  return false;
}

uint64_t ModelDesc::fingerprint() const {
  if (networkFingerprint)
    return networkFingerprint;
  uint64_t h = 1469598103934665603ull;
  for (char c : text) {
    h ^= static_cast<uint8_t>(c);
    h *= 1099511628211ull;
  }
  return h;
}

} // namespace snnrt
