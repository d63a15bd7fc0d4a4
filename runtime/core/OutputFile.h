//===- OutputFile.h - outputs that never destroy what they should not -*- C++ -*-===//
//
// Every file snnc and the trainer write (trainers, objects, IR, checkpoints,
// plots, exported models, metrics) goes through these rules:
// - checked before any work starts: a directory, a FIFO, a socket or a
//   block device is refused, as is a missing or unwritable directory, and an
//   output that is one of the run's inputs or another of its outputs;
// - a regular file (or a new one) is replaced atomically: written to a
//   temporary file with a unique name in the same directory, flushed, and
//   renamed over the target, so a crash leaves the old or the new file;
// - a character device (/dev/null, /dev/stdout, a terminal) is written
//   through, never replaced by a regular file.
//
//===----------------------------------------------------------------------===//
#ifndef SNNRT_CORE_OUTPUTFILE_H
#define SNNRT_CORE_OUTPUTFILE_H

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace snnrt::io {

/// "PATH: reason", one line.
struct OutputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class OutputKind { New, Regular, CharDevice };

/// One output of a run, for checkOutputs.
struct Output {
  std::string path, what; // what: "the checkpoint", "--plot", ...
};

/// Checks one output path as the header says; `inputs` are files the run
/// reads (an output may not be one of them). Throws OutputError.
OutputKind checkOutput(const std::string &path, const std::string &what,
                       const std::vector<std::string> &inputs = {});

/// checkOutput for each (empty paths are skipped, kind New), and no two of
/// them the same file; the kinds in the order of `outputs`.
std::vector<OutputKind> checkOutputs(const std::vector<Output> &outputs,
                                     const std::vector<std::string> &inputs = {});

/// Whether a and b name the same file (the same inode when both exist, the
/// same absolute path otherwise).
bool sameFile(const std::string &a, const std::string &b);

/// Writes `bytes` to `path` by the rules above; `sync` also fsyncs the file
/// and its directory. `beforeRename` (tests) runs between write and rename.
void writeOutput(const std::string &path, const std::string &bytes,
                 bool sync = false,
                 const std::function<void()> &beforeRename = {});

/// For outputs another program writes (the linker): a unique temporary path
/// next to `path`, and moving it into place (renamed, or copied into a
/// character device and removed) with the permissions of a new file (an
/// executable's when `executable`) under the process's umask.
std::string temporaryPathFor(const std::string &path);
void commitOutput(const std::string &tmp, const std::string &path,
                  bool executable = false);

/// Reads a whole regular file of at most `limit` bytes; a non-regular file
/// (a device, a FIFO, a directory) or a larger one is refused with one
/// line. Throws OutputError (the message names the path).
std::string readInputFile(const std::string &path, size_t limit,
                          const std::string &what);

} // namespace snnrt::io

#endif
