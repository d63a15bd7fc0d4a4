//===- TrainerData.cpp - which dataset, and the batches of it --------------===//
#include "Trainer.h"
#include "runtime/core/Settings.h"

#include <cstring>
#include <numeric>
#include <random>
#include <stdexcept>

namespace snnrt {

void Trainer::loadData() {
  std::string name = o.dataset.empty()
                         ? (d.settings.count("dataset") ? d.settings.at("dataset")
                                                        : "fashion-mnist")
                         : o.dataset;
  std::string valid = checkSetting("dataset", name);
  if (!valid.empty())
    usageError("unknown dataset '" + name + "' (" + valid + ")");
  std::string dir = o.data;
  if (dir.empty() && name != "synthetic") {
    if (name != "fashion-mnist")
      usageError("--data DIR is required for dataset '" + name + "'");
    dir = "/usr/share/datasets/fashion-mnist";
  }
  if (name == "fashion-mnist" || name == "mnist") {
    train = loadIdx(dir, "train");
    test = loadIdx(dir, "t10k");
  } else if (name == "cifar10") {
    train = loadCifar10(dir, true);
    test = loadCifar10(dir, false);
  } else if (name == "nmnist") {
    train = loadNMNIST(dir, true, d.steps(), o.nmnistKeep);
    test = loadNMNIST(dir, false, d.steps(), o.nmnistKeep);
  } else if (name == "synthetic") {
    train = syntheticData(50);
    test = syntheticData(2);
  } else {
    usageError("unknown dataset '" + name +
               "' (fashion-mnist, mnist, cifar10, nmnist, synthetic)");
  }
  // The model's data input is [B, features...] (currents) or [T*B, ...]
  // (events); a sample must fill one batch row.
  int64_t perRow = 1;
  for (size_t i = 1; i < xDesc->shape.size(); ++i)
    perRow *= xDesc->shape[i];
  int64_t expected = train.timeSteps > 0 ? perRow * d.steps() : perRow;
  for (auto [ds, which] : {std::pair{&train, "training"}, {&test, "test"}}) {
    if (ds->size() == 0)
      throw DataError(dir + ": the " + std::string(which) + " set is empty");
    if (ds->sampleSize() != expected)
      throw DataError(dir + ": " + which + " samples of " +
                      std::to_string(ds->sampleSize()) +
                      " values do not match the model's input '" +
                      xDesc->name + "', which takes " +
                      std::to_string(expected) + " per sample");
  }
  // snn.input_mean / snn.input_std: one value, or one per input channel.
  int64_t channels = train.sampleShape.size() > 1 ? train.sampleShape[0] : 1;
  for (auto [v, key] : {std::pair{&inputMean, "input_mean"}, {&inputStd, "input_std"}})
    if (v->size() > 1 && static_cast<int64_t>(v->size()) != channels)
      usageError("the model's setting snn." + std::string(key) + " has " +
                 std::to_string(v->size()) + " values; the dataset's samples "
                 "have " + std::to_string(channels) + " channel(s) (give one "
                 "value, or one per channel)");
  if (train.timeSteps > 0 && (!inputMean.empty() || !inputStd.empty()))
    usageError("snn.input_mean / snn.input_std normalize images; this "
               "dataset's samples are events");
  for (const Dataset *ds : {&train, &test})
    for (int32_t label : ds->y)
      if (label < 0 || label >= d.classes())
        throw DataError(dir + ": label " + std::to_string(label) +
                        " is out of range for a model with " +
                        std::to_string(d.classes()) + " outputs");
  if (s.validation > 0)
    holdOut(s.validation, dir);
}

/// --validation N: N training samples, chosen by a Fisher-Yates shuffle
/// with a fixed seed (the same split in every run, whatever --seed is),
/// become the evaluation set; the test set is dropped unread. Both parts
/// keep the file's order.
void Trainer::holdOut(int64_t n, const std::string &dir) {
  int64_t total = train.size();
  if (n >= total)
    throw DataError(dir + ": --validation " + std::to_string(n) +
                    " leaves no training samples (the training set has " +
                    std::to_string(total) + ")");
  std::vector<int64_t> idx(total);
  std::iota(idx.begin(), idx.end(), 0);
  std::mt19937_64 rng(0x76616c6964617465ull);
  for (int64_t i = total - 1; i > 0; --i)
    std::swap(idx[i], idx[rng() % static_cast<uint64_t>(i + 1)]);
  std::vector<char> held(total, 0);
  for (int64_t i = 0; i < n; ++i)
    held[idx[i]] = 1;
  Dataset kept, val;
  for (Dataset *part : {&kept, &val}) {
    part->sampleShape = train.sampleShape;
    part->classes = train.classes;
    part->timeSteps = train.timeSteps;
  }
  int64_t size = train.sampleSize();
  for (int64_t i = 0; i < total; ++i) {
    Dataset &to = held[i] ? val : kept;
    to.x.insert(to.x.end(), train.x.begin() + i * size,
                train.x.begin() + (i + 1) * size);
    to.y.push_back(train.y[i]);
  }
  train = std::move(kept);
  test = std::move(val);
}

/// `batches` batches of uniform random inputs in the model's input shape
/// and random labels (benchmarks of models whose data is not installed).
Dataset Trainer::syntheticData(int64_t batches) const {
  Dataset ds;
  bool events = xDesc->shape[0] != d.batch();
  ds.timeSteps = events ? d.steps() : 0;
  if (events)
    ds.sampleShape.push_back(d.steps());
  ds.sampleShape.insert(ds.sampleShape.end(), xDesc->shape.begin() + 1,
                        xDesc->shape.end());
  ds.classes = static_cast<int32_t>(d.classes());
  std::mt19937_64 rng(o.seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  int64_t n = batches * d.batch();
  ds.x.resize(n * ds.sampleSize());
  for (float &v : ds.x)
    v = events ? (u(rng) < 0.1f ? 1.0f : 0.0f) : u(rng);
  for (int64_t i = 0; i < n; ++i)
    ds.y.push_back(static_cast<int32_t>(rng() % d.classes()));
  return ds;
}

Batch Trainer::makeBatch(const Dataset &ds, const std::vector<int64_t> &order,
                         int64_t first, bool trainMode,
                         uint64_t augmentSeed) const {
  int64_t B = d.batch(), F = ds.sampleSize();
  Batch b;
  b.x.resize(B * F);
  b.y.resize(B);
  for (int64_t k = 0; k < B; ++k) {
    int64_t idx = first + k;
    if (idx < static_cast<int64_t>(order.size()))
      ++b.valid;
    else
      idx = order.size() - 1; // pad the last evaluation batch
    int64_t sample = order[idx];
    const float *src = ds.x.data() + sample * F;
    b.y[k] = ds.y[sample];
    if (ds.timeSteps > 0) {
      // Events: the model wants [T*B, ...] time-major.
      int64_t T = ds.timeSteps, per = F / T;
      for (int64_t t = 0; t < T; ++t)
        std::memcpy(b.x.data() + (t * B + k) * per, src + t * per,
                    per * sizeof(float));
    } else {
      float *dst = b.x.data() + k * F;
      std::memcpy(dst, src, F * sizeof(float));
      if (trainMode && augment.any())
        augmentImage(augment, ds.sampleShape, dst, augmentSeed ^ (sample * 0x9E3779B97F4A7C15ull));
      if (!inputMean.empty() || !inputStd.empty()) {
        int64_t C = ds.sampleShape.size() > 1 ? ds.sampleShape[0] : 1;
        int64_t per = F / C;
        for (int64_t c = 0; c < C; ++c) {
          float m = inputMean.empty() ? 0.0f
                    : inputMean[inputMean.size() == 1 ? 0 : c];
          float sd = inputStd.empty() ? 1.0f
                     : inputStd[inputStd.size() == 1 ? 0 : c];
          for (int64_t i = 0; i < per; ++i)
            dst[c * per + i] = (dst[c * per + i] - m) / sd;
        }
      }
    }
  }
  return b;
}

} // namespace snnrt
