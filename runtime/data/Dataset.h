//===- Dataset.h - datasets the trainer reads ---------------------*- C++ -*-===//
//
// Every loader returns samples as float feature vectors in [0, 1] (images:
// [C, H, W]; N-MNIST: event counts [T, 2, 34, 34]) with int32 labels, or
// throws DataError with one line naming the file and what is wrong.
//
//===----------------------------------------------------------------------===//
#ifndef SNNRT_DATA_DATASET_H
#define SNNRT_DATA_DATASET_H

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace snnrt {

struct DataError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Dataset {
  std::vector<int64_t> sampleShape; // per sample, e.g. {1, 28, 28}
  std::vector<float> x;             // size() * sampleSize()
  std::vector<int32_t> y;
  int32_t classes = 10;
  /// N-MNIST: samples carry a leading time axis of this many steps.
  int64_t timeSteps = 0;

  int64_t size() const { return static_cast<int64_t>(y.size()); }
  int64_t sampleSize() const {
    int64_t n = 1;
    for (int64_t d : sampleShape)
      n *= d;
    return n;
  }
};

/// Reads a whole file, transparently gunzipping `.gz` (zlib).
/// A regular file's bytes, inflated when gzip-compressed, at most `limit`
/// bytes of them (a larger file, or one that inflates past the limit, is
/// refused before it fills memory).
std::vector<uint8_t> readMaybeGzip(const std::string &path,
                                   uint64_t limit = uint64_t(4) << 30);

/// MNIST / Fashion-MNIST idx files (raw or .gz); `prefix` is "train" or
/// "t10k": finds <dir>/<prefix>-images-idx3-ubyte[.gz] and the labels.
Dataset loadIdx(const std::string &dir, const std::string &prefix);
/// CIFAR-10 binary batches: data_batch_1..5.bin or test_batch.bin in dir.
Dataset loadCifar10(const std::string &dir, bool train);
/// N-MNIST (Orchard's .bin events) from dir/Train|Test/<label>/*.bin,
/// binned into `steps` bins over the first `keep` fraction of each recording.
Dataset loadNMNIST(const std::string &dir, bool train, int64_t steps,
                   double keep);

/// Decodes one N-MNIST recording into `steps` x 2 x 34 x 34 event counts.
void binNMNISTEvents(const std::vector<uint8_t> &bytes, const std::string &path,
                     int64_t steps, double keep, float *out);

} // namespace snnrt

#endif
