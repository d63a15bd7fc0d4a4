//===- DataTest.cpp - loaders and checkpoints on files the test writes -----===//
#include "runtime/data/Augment.h"
#include "runtime/core/OutputFile.h"
#include "runtime/data/Dataset.h"
#include "runtime/trainer/Checkpoint.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

using namespace snnrt;

namespace {

class TempDir {
public:
  TempDir() {
    char tmpl[] = "/tmp/snnc-data-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::system(("rm -rf " + path).c_str()); }
  std::string path;
};

void writeBytes(const std::string &path, const std::vector<uint8_t> &b,
                bool gz = false) {
  if (gz) {
    gzFile f = gzopen(path.c_str(), "wb");
    gzwrite(f, b.data(), b.size());
    gzclose(f);
    return;
  }
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char *>(b.data()), b.size());
}

void be32(std::vector<uint8_t> &b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8)
    b.push_back((v >> s) & 0xff);
}

/// n images of 2x3 with pixel i = (k + i) * 10 and label k % 10.
void writeIdx(const std::string &dir, const std::string &prefix, uint32_t n,
              bool gz, uint32_t imageMagic = 0x803, uint8_t badLabel = 0) {
  std::vector<uint8_t> images, labels;
  be32(images, imageMagic);
  be32(images, n);
  be32(images, 2);
  be32(images, 3);
  be32(labels, 0x801);
  be32(labels, n);
  for (uint32_t k = 0; k < n; ++k) {
    for (int i = 0; i < 6; ++i)
      images.push_back(static_cast<uint8_t>((k + i) * 10));
    labels.push_back(badLabel ? badLabel : k % 10);
  }
  std::string ext = gz ? ".gz" : "";
  writeBytes(dir + "/" + prefix + "-images-idx3-ubyte" + ext, images, gz);
  writeBytes(dir + "/" + prefix + "-labels-idx1-ubyte" + ext, labels, gz);
}

std::string errorOf(const std::function<void()> &f) {
  try {
    f();
  } catch (const std::exception &e) {
    return e.what();
  }
  return "";
}

TEST(IdxLoader, RawAndGzip) {
  for (bool gz : {false, true}) {
    TempDir t;
    writeIdx(t.path, "train", 12, gz);
    Dataset ds = loadIdx(t.path, "train");
    ASSERT_EQ(ds.size(), 12);
    EXPECT_EQ(ds.sampleShape, (std::vector<int64_t>{1, 2, 3}));
    EXPECT_FLOAT_EQ(ds.x[6 * 4 + 1], (4 + 1) * 10 / 255.0f);
    EXPECT_EQ(ds.y[11], 1);
  }
}

TEST(IdxLoader, Errors) {
  TempDir t;
  EXPECT_NE(errorOf([&] { loadIdx(t.path + "/nope", "train"); })
                .find("nope: no such data folder"),
            std::string::npos);
  EXPECT_NE(errorOf([&] { loadIdx(t.path, "train"); })
                .find("train-images-idx3-ubyte[.gz]: no such file"),
            std::string::npos);
  writeIdx(t.path, "train", 4, false, 0x1234);
  EXPECT_NE(errorOf([&] { loadIdx(t.path, "train"); }).find("wrong magic"),
            std::string::npos);
  writeIdx(t.path, "train", 4, false, 0x803, 12);
  EXPECT_NE(errorOf([&] { loadIdx(t.path, "train"); })
                .find("label 12 of item 0 is out of range"),
            std::string::npos);
  writeIdx(t.path, "train", 4, false);
  std::string images = t.path + "/train-images-idx3-ubyte";
  truncate(images.c_str(), 16 + 10);
  EXPECT_NE(errorOf([&] { loadIdx(t.path, "train"); }).find("truncated"),
            std::string::npos);
  writeBytes(images + ".gz", {1, 2, 3});
  std::remove(images.c_str());
  EXPECT_NE(errorOf([&] { loadIdx(t.path, "train"); }).find("train-images"),
            std::string::npos);
}

TEST(CifarLoader, ReadsRecordsAndRejectsTruncation) {
  TempDir t;
  std::vector<uint8_t> rec;
  for (int r = 0; r < 3; ++r) {
    rec.push_back(r + 1);
    for (int i = 0; i < 3072; ++i)
      rec.push_back(static_cast<uint8_t>(i + r));
  }
  writeBytes(t.path + "/test_batch.bin", rec);
  Dataset ds = loadCifar10(t.path, false);
  ASSERT_EQ(ds.size(), 3);
  EXPECT_EQ(ds.y[2], 3);
  EXPECT_FLOAT_EQ(ds.x[3072 + 5], 6 / 255.0f);
  rec.pop_back();
  writeBytes(t.path + "/test_batch.bin", rec);
  EXPECT_NE(errorOf([&] { loadCifar10(t.path, false); }).find("truncated"),
            std::string::npos);
}

/// Orchard's format: 40 bits per event: x, y, polarity (1 bit) and a 23-bit
/// timestamp in microseconds.
std::vector<uint8_t> events(std::vector<std::array<uint32_t, 4>> list) {
  std::vector<uint8_t> b;
  for (auto [x, y, p, ts] : list) {
    b.push_back(x);
    b.push_back(y);
    b.push_back(static_cast<uint8_t>((p << 7) | ((ts >> 16) & 0x7f)));
    b.push_back((ts >> 8) & 0xff);
    b.push_back(ts & 0xff);
  }
  return b;
}

TEST(NMNISTLoader, BinsEventsAndKeepsTheFirstPart) {
  std::vector<float> out(4 * 2 * 34 * 34);
  // Timestamps 0..999: with keep = 0.5 only t < 500 counts, in 4 bins.
  auto bytes = events({{1, 2, 0, 0}, {1, 2, 0, 10}, {3, 4, 1, 260},
                       {5, 6, 1, 499}, {7, 7, 0, 600}, {0, 0, 0, 999}});
  binNMNISTEvents(bytes, "x.bin", 4, 0.5, out.data());
  auto at = [&](int t, int p, int y, int x) {
    return out[((t * 2 + p) * 34 + y) * 34 + x];
  };
  EXPECT_EQ(at(0, 0, 2, 1), 2.0f);
  EXPECT_EQ(at(2, 1, 4, 3), 1.0f);
  EXPECT_EQ(at(3, 1, 6, 5), 1.0f);
  EXPECT_EQ(at(0, 0, 7, 7) + at(1, 0, 7, 7) + at(2, 0, 7, 7) + at(3, 0, 7, 7),
            0.0f);
  bytes.pop_back();
  EXPECT_NE(errorOf([&] { binNMNISTEvents(bytes, "x.bin", 4, 1.0, out.data()); })
                .find("x.bin: truncated"),
            std::string::npos);
}

TEST(NMNISTLoader, ReadsTheFolderLayout) {
  TempDir t;
  for (int label : {0, 3}) {
    std::string dir = t.path + "/Test/" + std::to_string(label);
    mkdir((t.path + "/Test").c_str(), 0755);
    mkdir(dir.c_str(), 0755);
    writeBytes(dir + "/00001.bin", events({{static_cast<uint32_t>(label), 1, 0, 5}, {2, 2, 1, 9}}));
  }
  Dataset ds = loadNMNIST(t.path, false, 3, 1.0);
  ASSERT_EQ(ds.size(), 2);
  EXPECT_EQ(ds.y[1], 3);
  EXPECT_EQ(ds.sampleShape, (std::vector<int64_t>{3, 2, 34, 34}));
  EXPECT_EQ(ds.timeSteps, 3);
}

TEST(Augment, ParsesAndIsDeterministic) {
  EXPECT_THROW(parseAugment("crop,zoom"), std::invalid_argument);
  EXPECT_EQ(parseAugment("crop").cropPadding, 4);
  EXPECT_EQ(parseAugment("crop:2").cropPadding, 2);
  for (const char *bad : {"crop:", "crop:0", "crop:17", "crop:-1", "crop:2x", "crop:999"})
    EXPECT_THROW(parseAugment(bad), std::invalid_argument) << bad;
  // crop:1 moves an image by at most one pixel each way.
  {
    std::vector<float> img(1 * 5 * 5, 0.0f);
    img[2 * 5 + 2] = 1.0f; // the centre
    bool moved = false;
    for (uint64_t seed = 0; seed < 40; ++seed) {
      std::vector<float> a = img;
      augmentImage(parseAugment("crop:1"), {1, 5, 5}, a.data(), seed);
      int at = -1;
      for (int i = 0; i < 25; ++i)
        if (a[i] == 1.0f) at = i;
      ASSERT_GE(at, 0);
      EXPECT_LE(std::abs(at / 5 - 2), 1);
      EXPECT_LE(std::abs(at % 5 - 2), 1);
      moved |= at != 12;
    }
    EXPECT_TRUE(moved);
  }
  AugmentOptions o = parseAugment("crop,flip,rotate,jitter");
  std::vector<float> a(3 * 8 * 8), b;
  for (size_t i = 0; i < a.size(); ++i)
    a[i] = (i % 13) / 13.0f;
  b = a;
  augmentImage(o, {3, 8, 8}, a.data(), 42);
  augmentImage(o, {3, 8, 8}, b.data(), 42);
  EXPECT_EQ(a, b);
}

TrainState sampleState() {
  TrainState s;
  s.fingerprint = 99;
  s.epoch = 1;
  s.batchInEpoch = 5;
  s.step = 17;
  s.seed = 3;
  s.history.push_back({1, 0.5, 0.7, 0.8, 1.0, 100.0, 5e-4});
  s.params = {{1, 2, 3}, {4}};
  s.m = {{0.1f, 0.2f, 0.3f}, {0.4f}};
  s.v = {{1e-3f, 2e-3f, 3e-3f}, {4e-3f}};
  return s;
}

TEST(Checkpoint, RoundTrip) {
  TempDir t;
  std::string path = t.path + "/ck";
  saveCheckpoint(path, sampleState());
  TrainState r = loadCheckpoint(path);
  EXPECT_EQ(r.step, 17);
  EXPECT_EQ(r.batchInEpoch, 5);
  EXPECT_EQ(r.params, sampleState().params);
  EXPECT_EQ(r.v, sampleState().v);
  ASSERT_EQ(r.history.size(), 1u);
  EXPECT_DOUBLE_EQ(r.history[0].testAcc, 0.8);
  // Corruption is an error, not a crash.
  truncate(path.c_str(), 40);
  EXPECT_THROW(loadCheckpoint(path), std::runtime_error);
  EXPECT_THROW(snnrt::io::checkOutput(t.path + "/no/dir/ck", "--checkpoint"),
               snnrt::io::OutputError);
}

TEST(Checkpoint, CrashBeforeRenameKeepsTheOldCheckpoint) {
  TempDir t;
  std::string path = t.path + "/ck";
  saveCheckpoint(path, sampleState());
  pid_t child = fork();
  if (child == 0) {
    setenv("SNNC_TEST_CRASH_BEFORE_RENAME", "1", 1);
    TrainState s = sampleState();
    s.step = 1000;
    s.params = {{9, 9, 9}, {9}};
    saveCheckpoint(path, s); // dies between the fsync and the rename
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 99);
  TrainState r = loadCheckpoint(path);
  EXPECT_EQ(r.step, 17);
  EXPECT_EQ(r.params, sampleState().params);
}

} // namespace
