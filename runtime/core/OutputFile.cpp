//===- OutputFile.cpp - outputs that never destroy what they should not ----===//
#include "OutputFile.h"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace snnrt::io {
namespace {

[[noreturn]] void fail(const std::string &path, const std::string &why) {
  throw OutputError(path + ": " + why);
}

std::string sysError() { return std::strerror(errno); }

std::string dirOf(const std::string &path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos)
    return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string baseOf(const std::string &path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

/// The absolute path with the directory resolved (the file may not exist).
std::string absolute(const std::string &path) {
  char buf[PATH_MAX];
  if (!realpath(dirOf(path).c_str(), buf))
    return path;
  std::string dir = buf;
  return (dir == "/" ? "" : dir) + "/" + baseOf(path);
}

const char *kindOf(mode_t mode) {
  if (S_ISDIR(mode))
    return "a directory";
  if (S_ISFIFO(mode))
    return "a FIFO";
  if (S_ISSOCK(mode))
    return "a socket";
  if (S_ISBLK(mode))
    return "a block device";
  return "not a regular file";
}

void writeAll(int fd, const std::string &bytes, const std::string &path) {
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + off, bytes.size() - off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      fail(path, "cannot write: " + (n < 0 ? sysError() : "no progress"));
    off += static_cast<size_t>(n);
  }
}

void syncDir(const std::string &path) {
  int dfd = ::open(dirOf(path).c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

bool isCharDevice(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISCHR(st.st_mode);
}

/// `mode` under the process's umask (mkstemp creates files 0600).
mode_t newFileMode(mode_t mode) {
  mode_t mask = ::umask(0);
  ::umask(mask);
  return mode & ~mask;
}

} // namespace

bool sameFile(const std::string &a, const std::string &b) {
  struct stat sa, sb;
  bool ea = ::stat(a.c_str(), &sa) == 0, eb = ::stat(b.c_str(), &sb) == 0;
  if (ea && eb)
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
  if (ea != eb)
    return false;
  return absolute(a) == absolute(b);
}

OutputKind checkOutput(const std::string &path, const std::string &what,
                       const std::vector<std::string> &inputs) {
  if (path.empty())
    throw OutputError(what + ": the path is empty");
  for (const std::string &in : inputs)
    if (!in.empty() && sameFile(path, in))
      fail(path, what + " would overwrite an input of this run ('" + in +
                     "'); choose another path");
  struct stat st;
  OutputKind kind = OutputKind::New;
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISCHR(st.st_mode)) {
      if (::access(path.c_str(), W_OK) != 0)
        fail(path, "cannot write " + what + ": " + sysError());
      return OutputKind::CharDevice;
    }
    if (!S_ISREG(st.st_mode))
      fail(path, std::string("is ") + kindOf(st.st_mode) + "; " + what +
                     " needs a file path");
    kind = OutputKind::Regular;
  } else if (errno != ENOENT) {
    fail(path, "cannot write " + what + ": " + sysError());
  }
  std::string dir = dirOf(path);
  struct stat ds;
  if (::stat(dir.c_str(), &ds) != 0)
    fail(path, "cannot write " + what + ": directory '" + dir +
                   "' does not exist");
  if (!S_ISDIR(ds.st_mode))
    fail(path, "cannot write " + what + ": '" + dir + "' is not a directory");
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    fail(path, "cannot write " + what + ": directory '" + dir +
                   "' is not writable");
  return kind;
}

std::vector<OutputKind> checkOutputs(const std::vector<Output> &outputs,
                                     const std::vector<std::string> &inputs) {
  std::vector<OutputKind> kinds(outputs.size(), OutputKind::New);
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (outputs[i].path.empty())
      continue;
    kinds[i] = checkOutput(outputs[i].path, outputs[i].what, inputs);
    if (kinds[i] == OutputKind::CharDevice) // /dev/null may take several
      continue;
    for (size_t j = 0; j < i; ++j)
      if (!outputs[j].path.empty() && sameFile(outputs[i].path, outputs[j].path))
        fail(outputs[i].path, outputs[i].what + " and " + outputs[j].what +
                                  " are the same file; each needs its own");
  }
  return kinds;
}

std::string temporaryPathFor(const std::string &path) {
  std::string dir = dirOf(path);
  std::string tmpl = dir + "/." + baseOf(path) + ".XXXXXX.tmp";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  int fd = ::mkstemps(buf.data(), 4);
  if (fd < 0)
    fail(path, "cannot create a temporary file in '" + dir + "': " +
                   sysError());
  ::close(fd);
  return std::string(buf.data());
}

void writeOutput(const std::string &path, const std::string &bytes, bool sync,
                 const std::function<void()> &beforeRename) {
  if (isCharDevice(path)) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
      fail(path, "cannot write: " + sysError());
    try {
      writeAll(fd, bytes, path);
    } catch (...) {
      ::close(fd);
      throw;
    }
    ::close(fd);
    return;
  }
  std::string tmp = temporaryPathFor(path);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) {
    ::unlink(tmp.c_str());
    fail(path, "cannot write: " + sysError());
  }
  ::fchmod(fd, newFileMode(0666));
  try {
    writeAll(fd, bytes, path);
    if (sync && ::fsync(fd) != 0)
      fail(path, "cannot flush to disk: " + sysError());
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  if (::close(fd) != 0) {
    ::unlink(tmp.c_str());
    fail(path, "cannot write: " + sysError());
  }
  if (beforeRename)
    beforeRename();
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string why = sysError();
    ::unlink(tmp.c_str());
    fail(path, "cannot replace: " + why);
  }
  if (sync)
    syncDir(path);
}

void commitOutput(const std::string &tmp, const std::string &path,
                  bool executable) {
  if (isCharDevice(path)) {
    std::string bytes;
    try {
      bytes = readInputFile(tmp, SIZE_MAX, "the temporary output");
    } catch (...) {
      ::unlink(tmp.c_str());
      throw;
    }
    ::unlink(tmp.c_str());
    writeOutput(path, bytes);
    return;
  }
  ::chmod(tmp.c_str(), newFileMode(executable ? 0777 : 0666));
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string why = sysError();
    ::unlink(tmp.c_str());
    fail(path, "cannot replace: " + why);
  }
}

std::string readInputFile(const std::string &path, size_t limit,
                          const std::string &what) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer.
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    fail(path, "cannot read " + what + ": " + sysError());
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    fail(path, std::string("is ") + kindOf(st.st_mode) + "; " + what +
                   " must be a regular file");
  }
  if (static_cast<uint64_t>(st.st_size) > limit) {
    ::close(fd);
    fail(path, what + " is " + std::to_string(st.st_size) +
                   " bytes, more than the limit of " + std::to_string(limit));
  }
  std::string bytes(static_cast<size_t>(st.st_size), '\0');
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::read(fd, bytes.data() + off, bytes.size() - off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      std::string why = sysError();
      ::close(fd);
      fail(path, "cannot read " + what + ": " + why);
    }
    if (n == 0)
      break; // shrank while reading
    off += static_cast<size_t>(n);
  }
  bytes.resize(off);
  ::close(fd);
  return bytes;
}

} // namespace snnrt::io
