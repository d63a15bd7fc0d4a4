//===- Dataset.cpp - MNIST/Fashion-MNIST, CIFAR-10 and N-MNIST loaders -----===//
#include "Dataset.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <sys/stat.h>

namespace snnrt {

namespace {

[[noreturn]] void fail(const std::string &path, const std::string &what) {
  throw DataError(path + ": " + what);
}

bool exists(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

bool isDir(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

uint32_t bigEndian32(const uint8_t *p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) |
         (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

std::string findIdx(const std::string &dir, const std::string &name) {
  for (const char *ext : {"", ".gz"}) {
    std::string p = dir + "/" + name + ext;
    if (exists(p))
      return p;
  }
  fail(dir + "/" + name + "[.gz]", "no such file");
}

void requireDir(const std::string &dir) {
  if (!isDir(dir))
    fail(dir, "no such data folder");
}

std::vector<std::string> listDir(const std::string &dir) {
  std::vector<std::string> names;
  DIR *d = ::opendir(dir.c_str());
  if (!d)
    return names;
  while (dirent *e = ::readdir(d))
    if (e->d_name[0] != '.')
      names.push_back(e->d_name);
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

} // namespace

namespace {

/// gzopen of a regular file (gzopen would block on a FIFO and read a device
/// forever); raw files read through as they are.
gzFile openRegular(const std::string &path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    fail(path, std::strerror(errno));
  if (!S_ISREG(st.st_mode))
    fail(path, "not a regular file");
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f)
    fail(path, std::strerror(errno));
  return f;
}

} // namespace

std::vector<uint8_t> readMaybeGzip(const std::string &path, uint64_t limit) {
  gzFile f = openRegular(path);
  std::vector<uint8_t> out;
  uint8_t buf[1 << 16];
  for (;;) {
    int n = gzread(f, buf, sizeof(buf));
    if (n < 0) {
      int code = 0;
      std::string msg = gzerror(f, &code);
      gzclose(f);
      fail(path, "corrupt or truncated compressed data (" + msg + ")");
    }
    if (n == 0)
      break;
    if (out.size() + n > limit) {
      gzclose(f);
      fail(path, "holds (or inflates to) more than " + std::to_string(limit) +
                     " bytes, more than its header or format allows");
    }
    out.insert(out.end(), buf, buf + n);
  }
  if (!gzeof(f) && out.empty()) {
    gzclose(f);
    fail(path, "cannot read");
  }
  gzclose(f);
  return out;
}

namespace {

/// The first `n` bytes (fewer if the file is shorter) of a regular,
/// possibly gzip-compressed file.
std::vector<uint8_t> readIdxHeader(const std::string &path, size_t n) {
  gzFile f = openRegular(path);
  std::vector<uint8_t> head(n);
  int got = gzread(f, head.data(), static_cast<unsigned>(n));
  gzclose(f);
  if (got < 0)
    fail(path, "corrupt or truncated compressed data");
  head.resize(static_cast<size_t>(got));
  return head;
}

} // namespace

Dataset loadIdx(const std::string &dir, const std::string &prefix) {
  requireDir(dir);
  std::string imagesPath = findIdx(dir, prefix + "-images-idx3-ubyte");
  std::string labelsPath = findIdx(dir, prefix + "-labels-idx1-ubyte");
  // The headers say how large the files are: nothing past that is read.
  std::vector<uint8_t> head = readIdxHeader(imagesPath, 16);
  if (head.size() < 16 || bigEndian32(head.data()) != 0x803)
    fail(imagesPath, "not an idx3 image file (wrong magic number)");
  uint64_t n = bigEndian32(head.data() + 4);
  uint64_t rows = bigEndian32(head.data() + 8);
  uint64_t cols = bigEndian32(head.data() + 12);
  uint64_t pixels = 0;
  if (rows < 1 || cols < 1 || rows > 65536 || cols > 65536 ||
      __builtin_mul_overflow(n, rows * cols, &pixels) ||
      pixels > (uint64_t(1) << 34))
    fail(imagesPath, "the header promises " + std::to_string(n) +
                         " images of " + std::to_string(rows) + "x" +
                         std::to_string(cols) +
                         " (sizes from 1 to 65536, at most 2^34 pixels)");
  std::vector<uint8_t> images = readMaybeGzip(imagesPath, 16 + n * rows * cols + 1);
  std::vector<uint8_t> labelHead = readIdxHeader(labelsPath, 8);
  if (labelHead.size() < 8 || bigEndian32(labelHead.data()) != 0x801)
    fail(labelsPath, "not an idx1 label file (wrong magic number)");
  std::vector<uint8_t> labels =
      readMaybeGzip(labelsPath, 8 + uint64_t(bigEndian32(labelHead.data() + 4)) + 1);
  if (images.size() != 16 + n * rows * cols)
    fail(imagesPath, "truncated: the header promises " + std::to_string(n) +
                         " images of " + std::to_string(rows) + "x" +
                         std::to_string(cols) + " but the file holds " +
                         std::to_string(images.size() - 16) + " bytes");
  uint64_t nl = bigEndian32(labels.data() + 4);
  if (labels.size() != 8 + nl)
    fail(labelsPath, "truncated: the header promises " + std::to_string(nl) +
                         " labels but the file holds " +
                         std::to_string(labels.size() - 8));
  if (nl != n)
    fail(labelsPath, std::to_string(nl) + " labels for " + std::to_string(n) +
                         " images in " + imagesPath);
  Dataset ds;
  ds.sampleShape = {1, static_cast<int64_t>(rows), static_cast<int64_t>(cols)};
  ds.x.resize(n * rows * cols);
  for (size_t i = 0; i < ds.x.size(); ++i)
    ds.x[i] = images[16 + i] / 255.0f;
  ds.y.resize(n);
  for (uint64_t i = 0; i < n; ++i) {
    if (labels[8 + i] > 9)
      fail(labelsPath, "label " + std::to_string(labels[8 + i]) + " of item " +
                           std::to_string(i) + " is out of range [0, 10)");
    ds.y[i] = labels[8 + i];
  }
  return ds;
}

Dataset loadCifar10(const std::string &dir, bool train) {
  requireDir(dir);
  std::vector<std::string> files;
  if (train)
    for (int i = 1; i <= 5; ++i)
      files.push_back(dir + "/data_batch_" + std::to_string(i) + ".bin");
  else
    files.push_back(dir + "/test_batch.bin");
  Dataset ds;
  ds.sampleShape = {3, 32, 32};
  const size_t record = 1 + 3 * 32 * 32;
  for (const std::string &f : files) {
    if (!exists(f))
      fail(f, "no such file");
    std::vector<uint8_t> bytes = readMaybeGzip(f, uint64_t(1) << 31);
    if (bytes.empty() || bytes.size() % record != 0)
      fail(f, "truncated: " + std::to_string(bytes.size()) +
                  " bytes is not a whole number of 3073-byte records");
    for (size_t r = 0; r < bytes.size() / record; ++r) {
      const uint8_t *p = bytes.data() + r * record;
      if (p[0] > 9)
        fail(f, "label " + std::to_string(p[0]) + " of record " +
                    std::to_string(r) + " is out of range [0, 10)");
      ds.y.push_back(p[0]);
      for (size_t k = 1; k < record; ++k)
        ds.x.push_back(p[k] / 255.0f);
    }
  }
  return ds;
}

void binNMNISTEvents(const std::vector<uint8_t> &bytes, const std::string &path,
                     int64_t steps, double keep, float *out) {
  if (bytes.size() % 5 != 0)
    fail(path, "truncated: " + std::to_string(bytes.size()) +
                   " bytes is not a whole number of 5-byte events");
  const int64_t plane = 34 * 34;
  std::fill(out, out + steps * 2 * plane, 0.0f);
  size_t n = bytes.size() / 5;
  if (n == 0)
    return;
  auto stamp = [&](size_t i) {
    const uint8_t *p = bytes.data() + 5 * i;
    return ((uint32_t(p[2]) & 0x7f) << 16) | (uint32_t(p[3]) << 8) | p[4];
  };
  uint32_t last = 0;
  for (size_t i = 0; i < n; ++i)
    last = std::max(last, stamp(i));
  double window = std::max(1.0, keep * (last + 1));
  for (size_t i = 0; i < n; ++i) {
    const uint8_t *p = bytes.data() + 5 * i;
    int x = p[0], y = p[1], polarity = p[2] >> 7;
    double t = stamp(i);
    if (t >= window)
      continue;
    if (x >= 34 || y >= 34)
      fail(path, "event " + std::to_string(i) + " at (" + std::to_string(x) +
                     ", " + std::to_string(y) + ") is outside 34x34");
    int64_t bin = std::min<int64_t>(steps - 1, static_cast<int64_t>(t / window * steps));
    out[(bin * 2 + polarity) * plane + y * 34 + x] += 1.0f;
  }
}

Dataset loadNMNIST(const std::string &dir, bool train, int64_t steps,
                   double keep) {
  std::string root = dir + (train ? "/Train" : "/Test");
  requireDir(root);
  Dataset ds;
  ds.sampleShape = {steps, 2, 34, 34};
  ds.timeSteps = steps;
  const int64_t size = steps * 2 * 34 * 34;
  for (int label = 0; label < 10; ++label) {
    std::string folder = root + "/" + std::to_string(label);
    for (const std::string &name : listDir(folder)) {
      std::string path = folder + "/" + name;
      std::vector<uint8_t> bytes = readMaybeGzip(path, uint64_t(1) << 28);
      ds.x.resize(ds.x.size() + size);
      binNMNISTEvents(bytes, path, steps, keep, ds.x.data() + ds.x.size() - size);
      ds.y.push_back(label);
    }
  }
  if (ds.y.empty())
    fail(root, "no recordings in <label>/*.bin");
  return ds;
}

} // namespace snnrt
