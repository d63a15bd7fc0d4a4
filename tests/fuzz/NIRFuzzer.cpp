//===- NIRFuzzer.cpp - libFuzzer target for the NIR reader -----------------===//
//
// The input is a NIR file's contents (HDF5). Any input must give an ONNX
// model or a one-line error, never a crash, a hang or HDF5's error dump.
//
//===----------------------------------------------------------------------===//
#include "compiler/Import/NIRReader.h"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mlir::snn::NIROptions o;
  o.steps = 5;
  o.batch = 2;
  std::string onnx, error;
  std::vector<std::string> notes;
  std::string bytes(reinterpret_cast<const char *>(data), size);
  // What snnc runs: HDF5 in a child process (its crashes and spins on
  // corrupt files are one-line errors).
  if (!mlir::snn::readNIRIsolated(bytes, "fuzz.nir", o, onnx, error, notes) &&
      (error.empty() || error.find('\n') != std::string::npos))
    std::abort(); // every failure must be one line
  return 0;
}
