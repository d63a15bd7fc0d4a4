//===- Checkpoint.cpp - atomic training checkpoints -------------------------===//
//
// Format 3: the magic "SNNCKPT3", the payload, and zlib's CRC-32 of magic
// and payload (4 bytes, little-endian). Formats 2 (no --validation count)
// and 1 (no checksum either) are still read. Every field is checked on reading: a flipped bit, a truncated file
// or an impossible value is one line naming the file, never garbage state.
//
//===----------------------------------------------------------------------===//
#include "Checkpoint.h"

#include "runtime/core/OutputFile.h"

#include <zlib.h>

#include <cmath>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <unistd.h>

namespace snnrt {

namespace {

const char kMagic1[8] = {'S', 'N', 'N', 'C', 'K', 'P', 'T', '1'};
const char kMagic2[8] = {'S', 'N', 'N', 'C', 'K', 'P', 'T', '2'};
const char kMagic3[8] = {'S', 'N', 'N', 'C', 'K', 'P', 'T', '3'};
/// Far beyond any real run, small enough that nothing overflows.
constexpr int64_t kMaxCount = int64_t(1) << 50;
/// The largest checkpoint read (parameters and both moments).
constexpr size_t kMaxCheckpointBytes = size_t(64) << 30;

uint32_t crc32Of(const std::string &bytes, size_t n) {
  uLong crc = crc32(0L, Z_NULL, 0);
  size_t off = 0;
  while (off < n) {
    uInt chunk = static_cast<uInt>(std::min<size_t>(n - off, 1u << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef *>(bytes.data() + off), chunk);
    off += chunk;
  }
  return static_cast<uint32_t>(crc);
}

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

} // namespace

void saveCheckpoint(const std::string &path, const TrainState &s) {
  Writer w;
  w.bytes.append(kMagic3, sizeof(kMagic3));
  w.put(s.fingerprint);
  w.put(s.epoch);
  w.put(s.batchInEpoch);
  w.put(s.step);
  w.put(s.seed);
  w.put(s.validation);
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
  uint32_t crc = crc32Of(w.bytes, w.bytes.size());
  w.put(crc);
  try {
    io::writeOutput(path, w.bytes, /*sync=*/true, [] {
      // Tests simulate a crash between the write and the rename.
      if (std::getenv("SNNC_TEST_CRASH_BEFORE_RENAME"))
        std::_Exit(99);
    });
  } catch (const io::OutputError &e) {
    throw std::runtime_error(std::string(e.what()) + " (the checkpoint)");
  }
}

std::string readCheckpointFile(const std::string &path) {
  try {
    return io::readInputFile(path, kMaxCheckpointBytes, "the checkpoint");
  } catch (const io::OutputError &e) {
    throw std::runtime_error(e.what());
  }
}

TrainState loadCheckpoint(const std::string &path) {
  return parseCheckpoint(path, readCheckpointFile(path));
}

TrainState parseCheckpoint(const std::string &path, std::string bytes) {
  Reader r{path, std::move(bytes)};
  auto is = [&](const char(&magic)[8]) {
    return r.bytes.size() >= sizeof(magic) &&
           std::memcmp(r.bytes.data(), magic, sizeof(magic)) == 0;
  };
  bool v3 = is(kMagic3), v2 = v3 || is(kMagic2);
  bool v1 = is(kMagic1);
  if (!v1 && !v2)
    fail(path, "not an snnc checkpoint");
  if (v2) {
    if (r.bytes.size() < sizeof(kMagic2) + sizeof(uint32_t))
      fail(path, "truncated checkpoint");
    size_t n = r.bytes.size() - sizeof(uint32_t);
    uint32_t stored;
    std::memcpy(&stored, r.bytes.data() + n, sizeof(stored));
    if (crc32Of(r.bytes, n) != stored)
      fail(path, "corrupt checkpoint (checksum mismatch: the file was "
                 "changed or damaged after it was written)");
    r.bytes.resize(n);
  }
  r.pos = sizeof(kMagic2);
  auto count = [&](int64_t v, const char *field, int64_t lo = 0) {
    if (v < lo || v > kMaxCount)
      fail(path, std::string("corrupt checkpoint (") + field + " = " +
                     std::to_string(v) + ")");
    return v;
  };
  TrainState s;
  s.fingerprint = r.get<uint64_t>();
  s.epoch = count(r.get<int64_t>(), "epoch");
  s.batchInEpoch = count(r.get<int64_t>(), "batch in epoch");
  s.step = count(r.get<int64_t>(), "step");
  s.seed = r.get<uint64_t>();
  if (v3)
    s.validation = count(r.get<int64_t>(), "validation samples");
  s.epochLossSum = r.get<double>();
  if (!std::isfinite(s.epochLossSum))
    fail(path, "corrupt checkpoint (the epoch's loss sum is not finite)");
  s.epochCorrect = count(r.get<int64_t>(), "correct predictions");
  s.epochSeen = count(r.get<int64_t>(), "samples seen");
  if (s.epochCorrect > s.epochSeen)
    fail(path, "corrupt checkpoint (more correct predictions than samples)");
  uint64_t h = r.get<uint64_t>();
  if (h != static_cast<uint64_t>(s.epoch))
    fail(path, "corrupt checkpoint (" + std::to_string(h) +
                   " epochs of history for epoch " + std::to_string(s.epoch) +
                   ")");
  for (uint64_t i = 0; i < h; ++i) {
    EpochRecord e = r.get<EpochRecord>();
    if (e.epoch != static_cast<int64_t>(i + 1))
      fail(path, "corrupt checkpoint (history entry " + std::to_string(i) +
                     " is for epoch " + std::to_string(e.epoch) + ")");
    s.history.push_back(e);
  }
  uint64_t p = r.get<uint64_t>();
  if (p > 100000)
    fail(path, "corrupt checkpoint (" + std::to_string(p) +
                   " parameter tensors)");
  for (uint64_t i = 0; i < p; ++i) {
    s.params.push_back(r.getVec());
    s.m.push_back(r.getVec());
    s.v.push_back(r.getVec());
    for (const std::vector<float> *v : {&s.params.back(), &s.m.back(), &s.v.back()})
      for (float x : *v)
        if (!std::isfinite(x))
          fail(path, "corrupt checkpoint (parameter tensor " +
                         std::to_string(i) + " holds a value that is not "
                         "finite)");
  }
  if (r.pos != r.bytes.size())
    fail(path, "corrupt checkpoint (trailing bytes)");
  return s;
}

} // namespace snnrt
