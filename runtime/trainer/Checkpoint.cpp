//===- Checkpoint.cpp - atomic training checkpoints -------------------------===//
#include "Checkpoint.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <unistd.h>

namespace snnrt {

namespace {

const char kMagic[8] = {'S', 'N', 'N', 'C', 'K', 'P', 'T', '1'};

[[noreturn]] void fail(const std::string &path, const std::string &what) {
  throw std::runtime_error(path + ": " + what);
}

struct Writer {
  std::string bytes;
  template <typename T> void put(const T &v) {
    bytes.append(reinterpret_cast<const char *>(&v), sizeof(T));
  }
  void putVec(const std::vector<float> &v) {
    put<uint64_t>(v.size());
    bytes.append(reinterpret_cast<const char *>(v.data()),
                 v.size() * sizeof(float));
  }
};

struct Reader {
  const std::string &path;
  std::string bytes;
  size_t pos = 0;
  template <typename T> T get() {
    if (pos + sizeof(T) > bytes.size())
      fail(path, "truncated checkpoint");
    T v;
    std::memcpy(&v, bytes.data() + pos, sizeof(T));
    pos += sizeof(T);
    return v;
  }
  std::vector<float> getVec() {
    uint64_t n = get<uint64_t>();
    if (n > (bytes.size() - pos) / sizeof(float))
      fail(path, "truncated checkpoint");
    std::vector<float> v(n);
    std::memcpy(v.data(), bytes.data() + pos, n * sizeof(float));
    pos += n * sizeof(float);
    return v;
  }
};

std::string dirOf(const std::string &path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash + 1);
}

} // namespace

void checkWritable(const std::string &path) {
  std::string probe = path + ".probe";
  int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0)
    fail(path, std::string("cannot write the checkpoint: ") + std::strerror(errno));
  ::close(fd);
  ::unlink(probe.c_str());
}

void saveCheckpoint(const std::string &path, const TrainState &s) {
  Writer w;
  w.bytes.append(kMagic, sizeof(kMagic));
  w.put(s.fingerprint);
  w.put(s.epoch);
  w.put(s.batchInEpoch);
  w.put(s.step);
  w.put(s.seed);
  w.put(s.epochLossSum);
  w.put(s.epochCorrect);
  w.put(s.epochSeen);
  w.put<uint64_t>(s.history.size());
  for (const EpochRecord &r : s.history)
    w.put(r);
  w.put<uint64_t>(s.params.size());
  for (size_t i = 0; i < s.params.size(); ++i) {
    w.putVec(s.params[i]);
    w.putVec(s.m[i]);
    w.putVec(s.v[i]);
  }
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0)
    fail(path, std::string("cannot write the checkpoint: ") + std::strerror(errno));
  size_t off = 0;
  while (off < w.bytes.size()) {
    ssize_t n = ::write(fd, w.bytes.data() + off, w.bytes.size() - off);
    if (n < 0) {
      int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      fail(path, std::string("cannot write the checkpoint: ") + std::strerror(e));
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    fail(path, "cannot flush the checkpoint to disk");
  }
  // Tests simulate a crash between the write and the rename.
  if (std::getenv("SNNC_TEST_CRASH_BEFORE_RENAME"))
    std::_Exit(99);
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    fail(path, std::string("cannot replace the checkpoint: ") + std::strerror(errno));
  int dfd = ::open(dirOf(path).c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

TrainState loadCheckpoint(const std::string &path) {
  Reader r{path, {}};
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f)
    fail(path, std::string("cannot read the checkpoint: ") + std::strerror(errno));
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0)
    r.bytes.append(buf, n);
  std::fclose(f);
  if (r.bytes.size() < sizeof(kMagic) ||
      std::memcmp(r.bytes.data(), kMagic, sizeof(kMagic)) != 0)
    fail(path, "not an snnc checkpoint");
  r.pos = sizeof(kMagic);
  TrainState s;
  s.fingerprint = r.get<uint64_t>();
  s.epoch = r.get<int64_t>();
  s.batchInEpoch = r.get<int64_t>();
  s.step = r.get<int64_t>();
  s.seed = r.get<uint64_t>();
  s.epochLossSum = r.get<double>();
  s.epochCorrect = r.get<int64_t>();
  s.epochSeen = r.get<int64_t>();
  uint64_t h = r.get<uint64_t>();
  if (h > 1000000)
    fail(path, "corrupt checkpoint");
  for (uint64_t i = 0; i < h; ++i)
    s.history.push_back(r.get<EpochRecord>());
  uint64_t p = r.get<uint64_t>();
  if (p > 100000)
    fail(path, "corrupt checkpoint");
  for (uint64_t i = 0; i < p; ++i) {
    s.params.push_back(r.getVec());
    s.m.push_back(r.getVec());
    s.v.push_back(r.getVec());
  }
  if (r.pos != r.bytes.size())
    fail(path, "corrupt checkpoint (trailing bytes)");
  return s;
}

} // namespace snnrt
