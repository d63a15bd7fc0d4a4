//===- DataFuzzer.cpp - libFuzzer target for checkpoints and datasets ------===//
//
// The first byte chooses what reads the rest:
//   0  a checkpoint (runtime/trainer/Checkpoint.cpp, parseCheckpoint)
//   1  MNIST idx images (with 4 valid labels), raw or gzip (bit 4: gzip)
//   2  MNIST idx labels (with 4 valid 2x2 images)
//   3  a CIFAR-10 test batch
//   4  an N-MNIST recording, binned into 5 steps
// Any input must load or be refused with a DataError / runtime_error whose
// message is one line; never a crash, a hang, a leak or an ASan report.
//
//===----------------------------------------------------------------------===//
#include "runtime/data/Dataset.h"
#include "runtime/trainer/Checkpoint.h"

#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

const std::string &dir() {
  static std::string d = [] {
    char tmpl[] = "/tmp/snnc-data-fuzz-XXXXXX";
    return std::string(mkdtemp(tmpl));
  }();
  return d;
}

void put(const std::string &name, const std::string &bytes, bool gz) {
  std::string path = dir() + "/" + name;
  std::remove(path.c_str());
  std::remove((path + ".gz").c_str());
  if (gz) {
    gzFile f = gzopen((path + ".gz").c_str(), "wb");
    gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
    gzclose(f);
  } else {
    FILE *f = std::fopen(path.c_str(), "wb");
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
  }
}

std::string be32(uint32_t v) {
  return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
}

void oneLine(const std::exception &e) {
  std::string m = e.what();
  if (m.empty() || m.find('\n') != std::string::npos)
    std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  std::string rest(reinterpret_cast<const char *>(data) + 1, size - 1);
  int which = data[0] & 0x0f;
  bool gz = data[0] & 0x10;
  try {
    switch (which) {
    case 0:
      snnrt::parseCheckpoint("fuzz.ckpt", rest);
      break;
    case 1:
    case 2: {
      std::string images = be32(0x803) + be32(4) + be32(2) + be32(2) +
                           std::string(16, '\x7f');
      std::string labels = be32(0x801) + be32(4) + std::string("\1\2\3\4");
      put("t10k-images-idx3-ubyte", which == 1 ? rest : images, gz);
      put("t10k-labels-idx1-ubyte", which == 2 ? rest : labels, gz);
      snnrt::loadIdx(dir(), "t10k");
      break;
    }
    case 3:
      put("test_batch.bin", rest, gz);
      snnrt::loadCifar10(dir(), false);
      break;
    case 4: {
      std::vector<uint8_t> events(rest.begin(), rest.end());
      std::vector<float> out(5 * 2 * 34 * 34);
      snnrt::binNMNISTEvents(events, "fuzz.bin", 5, 0.5, out.data());
      break;
    }
    default:
      break;
    }
  } catch (const snnrt::DataError &e) {
    oneLine(e);
  } catch (const std::runtime_error &e) {
    oneLine(e);
  }
  return 0;
}
