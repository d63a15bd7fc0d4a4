//===- StepExecutor.cpp - the model object's entry table -------------------===//
#include "StepExecutor.h"

namespace snnrt {

const snnc_entry *findEntry(const std::string &name) {
  for (const snnc_entry *e = snnc_entries; e->name; ++e)
    if (name == e->name)
      return e;
  return nullptr;
}

std::vector<std::string> compiledMethods() {
  std::vector<std::string> names;
  for (const snnc_entry *e = snnc_entries; e->name; ++e) {
    std::string n = e->name;
    if (n.rfind("train:", 0) == 0 && n.find(":cuda") == std::string::npos)
      names.push_back(n.substr(6));
  }
  return names;
}

} // namespace snnrt
