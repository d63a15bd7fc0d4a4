//===- NIRReader.h - NIR graphs (HDF5) into ONNX with ai.snn -------*- C++ -*-===//
//
// Reads a NIR 1.0.x file (neuromorphs/NIR: HDF5, written by nir.write,
// snnTorch, Norse, SpikingJelly, ...) with HDF5's C API and maps it onto
// snnc's neurons (../shared/NIR_NOTES.md, docs/nir.md) as an ONNX model of
// the ai.snn domain, which the ONNX importer then checks and imports like
// any other: one mapping, one set of checks, and --export writes it back.
//
// NIR stores neither the time step nor the number of steps, nor the input
// encoding, the target or the loss: those are options. Whatever cannot be
// represented exactly is refused with one line naming the file, the node
// and the parameter; a malformed file gives one line, never HDF5's own
// error dump.
//
//===----------------------------------------------------------------------===//
#ifndef SNNC_COMPILER_IMPORT_NIRREADER_H
#define SNNC_COMPILER_IMPORT_NIRREADER_H

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mlir::snn {

struct NIROptions {
  /// The simulation step in the file's time unit; <= 0: inferred as
  /// tau_mem / r (the convention of nir.write's examples and snnTorch).
  double dt = 0;
  /// Time steps T (required: NIR has none) and the compiled batch size.
  int64_t steps = 0, batch = 64;
  /// "van-rossum" or "spike-count".
  std::string loss = "van-rossum";
  /// The Van Rossum kernel's tau_s in steps (<= 0: the output layer's
  /// synapse, else 2).
  double lossTauS = 0;
  /// snn.<key> settings written into the model (epochs, lr, ...).
  std::vector<std::pair<std::string, std::string>> settings;
};

/// Reads `path` and returns the equivalent ONNX model as binary protobuf.
/// On failure returns false and sets `error` to one line (with the file
/// name). `notes` receives what the reader assumed (the dt it inferred).
bool readNIR(const std::string &path, const NIROptions &options,
             std::string &onnxBytes, std::string &error,
             std::vector<std::string> &notes);

/// The same from file contents in memory, in this process (HDF5 runs
/// here: use it on trusted files only).
bool readNIRBytes(const std::string &bytes, const std::string &name,
                  const NIROptions &options, std::string &onnxBytes,
                  std::string &error, std::vector<std::string> &notes);

/// readNIRBytes in a child process: a crash of HDF5 or a read longer than
/// 60 s (SNNC_NIR_READ_SECONDS) is one line in `error`, never a crash or a
/// hang of the caller. What snnc and the fuzz target use.
bool readNIRIsolated(const std::string &bytes, const std::string &name,
                     const NIROptions &options, std::string &onnxBytes,
                     std::string &error, std::vector<std::string> &notes);

} // namespace mlir::snn

#endif
