//===- main.cpp - the trainer that snnc links with every compiled model ---===//
//
// Generic over models: the compiled object provides snnc_train_step,
// snnc_eval_step (packed calls), snnc_model_info and snnc_param_init.
//
//===----------------------------------------------------------------------===//
#include "Checkpoint.h"
#include "Export.h"
#include "ModelDesc.h"
#include "CudaStep.h"
#include <memory>
#include <optional>
#include <functional>
#include "PackedArgs.h"
#include "../cpu/CpuKernels.h"
#include "../cuda/Driver.h"
#include "Report.h"
#include "runtime/core/OutputFile.h"
#include "runtime/core/Settings.h"
#include "runtime/data/Augment.h"
#include "runtime/data/Dataset.h"

#include "snnrt/snnrt.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <pthread.h>
#include <fstream>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <future>
#include <malloc.h>
#include <map>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern "C" {
extern const char snnc_model_info[];
extern const float *const snnc_param_init[];
extern const char snnc_onnx_model[];
extern const int64_t snnc_onnx_model_size;
void snnc_train_step(void **args);
__attribute__((weak)) void snnc_train_step_stbp(void **args);
void snnc_eval_step(void **args);
// The CUDA side (absent when snnc found no CUDA toolkit or got --cuda=false).
__attribute__((weak)) void snnc_train_step_cuda(void **args);
__attribute__((weak)) void snnc_train_step_stbp_cuda(void **args);
__attribute__((weak)) void snnc_eval_step_cuda(void **args);
__attribute__((weak)) extern const int64_t snnc_cuda_workspace_train_step_cuda;
__attribute__((weak)) extern const int64_t
    snnc_cuda_workspace_train_step_stbp_cuda;
__attribute__((weak)) extern const int64_t snnc_cuda_workspace_eval_step_cuda;
}

using namespace snnrt;
namespace io = snnrt::io;

namespace {

#ifndef SNNC_VERSION
#define SNNC_VERSION "0.1.0"
#endif

/// The signal that stops training (SIGINT: Ctrl-C; SIGTERM: what Slurm and
/// other schedulers send before SIGKILL); 0 while none came.
std::atomic<int> interrupted{0};
/// Whether the training loop runs (and will stop at the next step with a
/// checkpoint); before it, a signal ends the process at once.
std::atomic<bool> training{false};

/// SIGINT and SIGTERM are blocked in every thread (the mask is inherited
/// by OpenMP's, oneDNN's and the data loader's threads) and taken by one
/// thread with sigwait: no signal handler ever runs on the stack of
/// compiled or JIT-generated code. (With a handler, a Ctrl-C during a step
/// corrupted the heap in about 1 run in 10: its frame, with the AVX-512
/// state, landed on memory that code was still using.)
void takeSignalsOnOneThread() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([set] {
    int sig = 0;
    while (sigwait(&set, &sig) == 0) {
      if (!training)
        std::_Exit(128 + sig);
      interrupted = sig;
    }
  }).detach();
}

struct Options {
  std::string data, dataset, checkpoint, metrics, plot, augment, exportPath;
  int64_t epochs = -1, batch = -1, threads = 0, maxSteps = -1;
  double lr = -1, lrDecay = -1, nmnistKeep = 0.3, weightClip = 0;
  uint64_t seed = 1;
  std::string device = "auto", backward;
  bool resume = false, evalOnly = false, cudaGraphs = true, logSteps = false,
       tf32 = false, deterministic = false, overwrite = false;
};

const char *kUsage =
    "usage: trainer [options]\n"
    "Trains the compiled spiking network with NA (Neighborhood Aggregation).\n"
    "  --data DIR            dataset folder (default for fashion-mnist:\n"
    "                        /usr/share/datasets/fashion-mnist)\n"
    "  --dataset NAME        fashion-mnist | mnist | cifar10 | nmnist |\n"
    "                        synthetic (random data, for benchmarks)\n"
    "  --epochs N            number of epochs (model setting 'epochs', else 5)\n"
    "  --batch N             must equal the compiled batch size\n"
    "  --lr X                AdamW learning rate (model 'lr', else 5e-4)\n"
    "  --lr-decay X          exponential decay of lr per epoch (default 1)\n"
    "  --weight-clip X       clamp every weight to [-X, X] after each step\n"
    "  --seed N              seed of initialization, shuffling, dropout\n"
    "  --backward na|stbp    NA (default) or the STBP surrogate gradient\n"
    "  --threads N           CPU threads (default: all cores)\n"
    "  --device cpu|cuda|auto  where the step runs (auto: a GPU when the\n"
    "                        trainer has CUDA code and one is found)\n"
    "  --no-cuda-graphs      launch the step's kernels one by one\n"
    "  --log-steps           print every training step's loss\n"
    "  --tf32                GPU: TF32 tensor cores for convolutions and\n"
    "                        GEMMs (faster; ~1e-3 relative error a product)\n"
    "  --deterministic       GPU: the same results on every run (cuDNN's\n"
    "                        deterministic algorithms, chosen by heuristics\n"
    "                        instead of by timing; may be slower)\n"
    "  --augment LIST        comma list of crop,flip,rotate,jitter\n"
    "  --nmnist-keep X       fraction of each N-MNIST recording kept (0.3)\n"
    "  --checkpoint PATH     write a checkpoint after every epoch and on Ctrl-C\n"
    "  --resume              continue from --checkpoint\n"
    "  --overwrite           replace an existing --checkpoint and --metrics\n"
    "                        file (without it, a new run refuses them)\n"
    "  --eval                only evaluate on the test set\n"
    "  --export FILE.onnx    write the model with the learned weights\n"
    "  --metrics FILE        one JSON line per epoch\n"
    "  --plot FILE.svg       loss and accuracy per epoch\n"
    "  --max-steps N         stop after N training steps (benchmarks)\n"
    "  --help, --version\n";

[[noreturn]] void usageError(const std::string &m) {
  std::fprintf(stderr, "trainer: error: %s (see --help)\n", m.c_str());
  std::exit(2);
}

Options parseArgs(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i], value;
    bool hasValue = false;
    if (auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = a.substr(eq + 1);
      a = a.substr(0, eq);
      hasValue = true;
    }
    auto next = [&]() -> std::string {
      if (hasValue)
        return value;
      if (i + 1 >= argc)
        usageError("option '" + a + "' needs a value");
      return argv[++i];
    };
    auto num = [&](const std::string &s) {
      char *end = nullptr;
      double v = std::strtod(s.c_str(), &end);
      if (s.empty() || *end)
        usageError("option '" + a + "' needs a number, got '" + s + "'");
      return v;
    };
    // A finite number > 0 (rates, bounds).
    auto positive = [&](const std::string &s) {
      double v = num(s);
      if (!std::isfinite(v) || !(v > 0))
        usageError("option '" + a + "' needs a finite number > 0, got '" +
                   s + "'");
      return v;
    };
    // A whole number in [lo, hi] (counts, sizes, the seed).
    auto whole = [&](const std::string &s, uint64_t lo, uint64_t hi) {
      char *end = nullptr;
      errno = 0;
      unsigned long long v = std::strtoull(s.c_str(), &end, 10);
      if (s.empty() || *end || s[0] == '-' || errno == ERANGE || v < lo ||
          v > hi)
        usageError("option '" + a + "' needs a whole number from " +
                   std::to_string(lo) + " to " + std::to_string(hi) +
                   ", got '" + s + "'");
      return static_cast<uint64_t>(v);
    };
    constexpr uint64_t kMany = uint64_t(1) << 40;
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else if (a == "--version") {
      std::printf("snnc trainer %s\n", SNNC_VERSION);
      std::exit(0);
    } else if (a == "--data") o.data = next();
    else if (a == "--dataset") o.dataset = next();
    else if (a == "--epochs") o.epochs = static_cast<int64_t>(whole(next(), 1, kMany));
    else if (a == "--batch") o.batch = static_cast<int64_t>(whole(next(), 1, kMany));
    else if (a == "--lr") o.lr = positive(next());
    else if (a == "--lr-decay") o.lrDecay = positive(next());
    else if (a == "--weight-clip") o.weightClip = positive(next());
    else if (a == "--seed") o.seed = whole(next(), 0, UINT64_MAX);
    else if (a == "--threads") o.threads = static_cast<int64_t>(whole(next(), 1, 1024));
    else if (a == "--device") o.device = next();
    else if (a == "--backward") o.backward = next();
    else if (a == "--augment") o.augment = next();
    else if (a == "--nmnist-keep") {
      o.nmnistKeep = positive(next());
      if (o.nmnistKeep > 1)
        usageError("option '--nmnist-keep' needs a fraction in (0, 1]");
    }
    else if (a == "--checkpoint") o.checkpoint = next();
    else if (a == "--resume") o.resume = true;
    else if (a == "--overwrite") o.overwrite = true;
    else if (a == "--eval") o.evalOnly = true;
    else if (a == "--no-cuda-graphs") o.cudaGraphs = false;
    else if (a == "--log-steps") o.logSteps = true;
    else if (a == "--tf32") o.tf32 = true;
    else if (a == "--deterministic") o.deterministic = true;
    else if (a == "--export") o.exportPath = next();
    else if (a == "--metrics") o.metrics = next();
    else if (a == "--plot") o.plot = next();
    else if (a == "--max-steps") o.maxSteps = static_cast<int64_t>(whole(next(), 1, kMany));
    else
      usageError("unknown option '" + a + "'");
  }
  return o;
}

struct Batch {
  std::vector<float> x;
  std::vector<int32_t> y;
  int64_t valid = 0;
};

double setting(const ModelDesc &d, const std::string &key, double def) {
  auto it = d.settings.find(key);
  return it == d.settings.end() ? def : std::strtod(it->second.c_str(), nullptr);
}

/// Kaiming initialization (NA_SPEC section 5): normal for dense [O, I],
/// uniform for conv [O, C, KH, KW], gain sqrt(2).
std::vector<float> kaiming(const TensorDesc &t, std::mt19937_64 &rng) {
  int64_t fanIn = 1;
  for (size_t i = 1; i < t.shape.size(); ++i)
    fanIn *= t.shape[i];
  std::vector<float> w(t.numElements());
  if (t.shape.size() == 2) {
    std::normal_distribution<float> dist(0.0f, std::sqrt(2.0f / fanIn));
    for (float &x : w)
      x = dist(rng);
  } else {
    float bound = std::sqrt(6.0f / fanIn);
    std::uniform_real_distribution<float> dist(-bound, bound);
    for (float &x : w)
      x = dist(rng);
  }
  return w;
}

class Trainer {
public:
  Trainer(ModelDesc desc, Options opts) : d(std::move(desc)), o(std::move(opts)) {}
  ~Trainer();
  int run();

private:
  void loadData();
  Dataset syntheticData(int64_t batches) const;
  Batch makeBatch(const Dataset &ds, const std::vector<int64_t> &order,
                  int64_t first, bool train, uint64_t augmentSeed) const;
  /// Returns the loss; fills `spikes`.
  /// One training step; on a GPU `whileOnDevice` runs while the device
  /// works on it (the trainer stages the next batch there).
  float step(const Batch &b, float lr,
             const std::function<void()> &whileOnDevice = {});
  void clipWeights();
  float evaluate(const Batch &b);
  void addInputs(PackedArgs &a, const Batch &b, int64_t key) const;
  double testAccuracy(double *meanLoss = nullptr);
  int64_t correct(const Batch &b) const;
  void saveAndReport(const std::string &why);
  void exportModel();
  void checkOutputPaths();
  void lockCheckpoint();
  void checkResumedState(int64_t batches) const;
  void writeMetrics();

  ModelDesc d;
  Options o;
  Dataset train, test;
  const TensorDesc *xDesc = nullptr, *yDesc = nullptr;
  TrainState s;
  std::vector<std::vector<float>> nextP, nextM, nextV;
  std::vector<float> spikes;
  AugmentOptions augment;
  void (*trainStep)(void **) = snnc_train_step;
  std::unique_ptr<CudaStep> gpu;
  int lockFd = -1;            // flock'ed PATH.lock of the checkpoint
  std::string lockPath;
  io::OutputKind metricsKind = io::OutputKind::New,
                 checkpointKind = io::OutputKind::New;
  size_t metricsWritten = 0;  // epochs in the metrics file (devices)
  void chooseDevice(bool stbp);
  void syncFromDevice() {
    if (gpu)
      gpu->download(s.params, s.m, s.v);
  }
};

void Trainer::chooseDevice(bool stbp) {
  if (o.device != "cpu" && o.device != "auto" && o.device != "cuda")
    usageError("--device must be cpu, cuda or auto");
  if (o.device == "cpu")
    return;
  bool compiled = snnc_train_step_cuda && snnc_eval_step_cuda &&
                  (!stbp || snnc_train_step_stbp_cuda);
  std::string why;
  if (!compiled)
    why = "this trainer was compiled without CUDA code (snnc found no CUDA "
          "toolkit, or --cuda=false)";
  else if (!cuda::available(&why))
    why = "no usable GPU: " + why;
  if (!why.empty()) {
    if (o.device == "cuda")
      throw std::runtime_error("--device cuda: " + why);
    return;
  }
  CudaStep::Entry train{stbp ? snnc_train_step_stbp_cuda : snnc_train_step_cuda,
                        stbp ? snnc_cuda_workspace_train_step_stbp_cuda
                             : snnc_cuda_workspace_train_step_cuda};
  CudaStep::Entry eval{snnc_eval_step_cuda, snnc_cuda_workspace_eval_step_cuda};
  cuda::allowTF32(o.tf32);
  cuda::requireDeterminism(o.deterministic);
  gpu = std::make_unique<CudaStep>(d, train, eval, o.cudaGraphs);
  std::fprintf(stderr, "trainer: device cuda (%s)%s%s%s\n",
               cuda::deviceName().c_str(),
               o.cudaGraphs ? "" : ", CUDA graphs off",
               o.tf32 ? ", TF32 allowed" : "",
               o.deterministic ? ", deterministic" : "");
}

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
  for (const Dataset *ds : {&train, &test})
    for (int32_t label : ds->y)
      if (label < 0 || label >= d.classes())
        throw DataError(dir + ": label " + std::to_string(label) +
                        " is out of range for a model with " +
                        std::to_string(d.classes()) + " outputs");
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
    }
  }
  return b;
}

/// The model's inputs in order: the batch, its labels, the dropout key.
void Trainer::addInputs(PackedArgs &a, const Batch &b, int64_t key) const {
  for (const TensorDesc &in : d.inputs) {
    if (&in == xDesc)
      a.buffer(const_cast<float *>(b.x.data()), in.shape);
    else if (&in == yDesc)
      a.buffer(const_cast<int32_t *>(b.y.data()), in.shape);
    else
      a.i64(key);
  }
}

float Trainer::step(const Batch &b, float lr,
                   const std::function<void()> &whileOnDevice) {
  if (gpu) {
    gpu->launch(b.x.data(), b.y.data(), s.step + 1, lr,
                static_cast<int64_t>(o.seed * 1000003u + s.step));
    if (whileOnDevice)
      whileOnDevice();
    float loss = gpu->finish(spikes.data());
    ++s.step;
    if (o.weightClip > 0) {
      syncFromDevice();
      clipWeights();
      gpu->upload(s.params, s.m, s.v);
    }
    return loss;
  }
  PackedArgs a;
  size_t P = d.params.size();
  for (auto *set : {&s.params, &s.m, &s.v})
    for (size_t i = 0; i < P; ++i)
      a.buffer((*set)[i].data(), d.params[i].shape);
  a.i64(s.step + 1);
  a.f32(lr);
  addInputs(a, b, static_cast<int64_t>(o.seed * 1000003u + s.step));
  for (auto *set : {&nextP, &nextM, &nextV})
    for (size_t i = 0; i < P; ++i)
      a.buffer((*set)[i].data(), d.params[i].shape);
  a.buffer(spikes.data(), d.outputSpikes);
  float loss = 0.0f;
  trainStep(a.finish(&loss));
  std::swap(s.params, nextP);
  std::swap(s.m, nextM);
  std::swap(s.v, nextV);
  ++s.step;
  if (o.weightClip > 0)
    clipWeights();
  return loss;
}

void Trainer::clipWeights() {
  float c = static_cast<float>(o.weightClip);
  for (std::vector<float> &p : s.params)
    for (float &w : p)
      w = std::min(std::max(w, -c), c);
}

float Trainer::evaluate(const Batch &b) {
  if (gpu)
    return gpu->eval(b.x.data(), b.y.data(), spikes.data());
  PackedArgs a;
  for (size_t i = 0; i < d.params.size(); ++i)
    a.buffer(s.params[i].data(), d.params[i].shape);
  addInputs(a, b, 0);
  a.buffer(spikes.data(), d.outputSpikes);
  float loss = 0.0f;
  snnc_eval_step(a.finish(&loss));
  return loss;
}

/// Prediction: the output neuron with the most spikes (NA_SPEC section 2).
int64_t Trainer::correct(const Batch &b) const {
  int64_t T = d.steps(), B = d.batch(), N = d.classes(), hits = 0;
  for (int64_t k = 0; k < b.valid; ++k) {
    int64_t best = 0;
    float bestCount = -1.0f;
    for (int64_t n = 0; n < N; ++n) {
      float count = 0.0f;
      for (int64_t t = 0; t < T; ++t)
        count += spikes[(t * B + k) * N + n];
      if (count > bestCount) {
        bestCount = count;
        best = n;
      }
    }
    hits += best == b.y[k];
  }
  return hits;
}

double Trainer::testAccuracy(double *meanLoss) {
  std::vector<int64_t> order(test.size());
  std::iota(order.begin(), order.end(), 0);
  int64_t hits = 0;
  double loss = 0;
  for (int64_t first = 0; first < test.size(); first += d.batch()) {
    Batch b = makeBatch(test, order, first, false, 0);
    loss += evaluate(b);
    hits += correct(b);
  }
  if (meanLoss)
    *meanLoss = loss / std::max<int64_t>(test.size(), 1);
  return static_cast<double>(hits) / std::max<int64_t>(test.size(), 1);
}

void Trainer::saveAndReport(const std::string &why) {
  if (o.checkpoint.empty())
    return;
  syncFromDevice();
  saveCheckpoint(o.checkpoint, s);
  std::fprintf(stderr, "trainer: checkpoint written to %s (%s)\n",
               o.checkpoint.c_str(), why.c_str());
}

void Trainer::exportModel() {
  if (o.exportPath.empty())
    return;
  syncFromDevice();
  std::vector<std::string> names;
  std::vector<std::vector<int64_t>> shapes;
  for (const TensorDesc &p : d.params) {
    names.push_back(p.name);
    shapes.push_back(p.shape);
  }
  exportONNX(std::string(snnc_onnx_model, snnc_onnx_model_size), o.exportPath,
             names, shapes, s.params);
  std::fprintf(stderr, "trainer: trained model written to %s\n",
               o.exportPath.c_str());
}

/// Every output is checked before the first step: a path that cannot be
/// written fails now, not after hours of training.
void Trainer::checkOutputPaths() {
  // --eval writes none of the run's outputs but --export.
  auto during = [&](const std::string &path) {
    return o.evalOnly ? std::string() : path;
  };
  std::vector<io::Output> outputs{{during(o.checkpoint), "--checkpoint"},
                                  {during(o.metrics), "--metrics"},
                                  {during(o.plot), "--plot"},
                                  {o.exportPath, "--export"}};
  std::vector<std::string> inputs;
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n > 0)
    inputs.push_back(std::string(self, static_cast<size_t>(n)));
  std::vector<io::OutputKind> kinds = io::checkOutputs(outputs, inputs);
  checkpointKind = kinds[0];
  metricsKind = kinds[1];
  if (o.evalOnly)
    return;
  struct stat st;
  auto existingFile = [&](const std::string &path) {
    return !path.empty() && ::stat(path.c_str(), &st) == 0 &&
           S_ISREG(st.st_mode);
  };
  if (!o.resume && !o.overwrite && existingFile(o.checkpoint))
    throw std::runtime_error(o.checkpoint +
                             ": a checkpoint is already there; continue it "
                             "with --resume or replace it with --overwrite");
  if (!o.resume && !o.overwrite && existingFile(o.metrics) && st.st_size > 0)
    throw std::runtime_error(o.metrics +
                             ": the metrics file already holds a run; "
                             "continue it with --resume or replace it with "
                             "--overwrite");
}

/// One trainer per checkpoint: an advisory lock on PATH.lock, held for the
/// whole run.
void Trainer::lockCheckpoint() {
  if (o.checkpoint.empty() || o.evalOnly ||
      checkpointKind == io::OutputKind::CharDevice)
    return;
  lockPath = o.checkpoint + ".lock";
  lockFd = ::open(lockPath.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lockFd < 0)
    throw std::runtime_error(lockPath + ": cannot create the checkpoint's "
                             "lock file: " + std::strerror(errno));
  if (::flock(lockFd, LOCK_EX | LOCK_NB) != 0) {
    ::close(lockFd);
    lockFd = -1;
    throw std::runtime_error(o.checkpoint +
                             ": another trainer is using this checkpoint "
                             "(it holds " + lockPath + ")");
  }
}

Trainer::~Trainer() {
  if (lockFd >= 0) {
    ::unlink(lockPath.c_str());
    ::close(lockFd);
  }
}

/// A resumed state must fit this model and this dataset: a checkpoint that
/// passed its checksum but was written by another build or for other data
/// still stops here with one line.
void Trainer::checkResumedState(int64_t batches) const {
  auto bad = [&](const std::string &what) {
    throw std::runtime_error(o.checkpoint + ": " + what);
  };
  if (s.params.size() != d.params.size())
    bad("holds " + std::to_string(s.params.size()) +
        " parameter tensors, the model has " + std::to_string(d.params.size()));
  for (size_t i = 0; i < d.params.size(); ++i) {
    size_t n = static_cast<size_t>(d.params[i].numElements());
    if (s.params[i].size() != n || s.m[i].size() != n || s.v[i].size() != n)
      bad("parameter '" + d.params[i].name + "' has " +
          std::to_string(s.params[i].size()) + " values, the model needs " +
          std::to_string(n));
  }
  if (s.batchInEpoch > batches)
    bad("is at batch " + std::to_string(s.batchInEpoch) +
        " of an epoch, but an epoch of this dataset has " +
        std::to_string(batches));
}

/// The metrics file holds one line per epoch of the history: rewritten
/// whole (atomically) after each epoch, so a resumed run never repeats a
/// line; a device (a terminal, /dev/null) gets the new lines only.
void Trainer::writeMetrics() {
  if (o.metrics.empty())
    return;
  std::string text;
  size_t from = metricsKind == io::OutputKind::CharDevice ? metricsWritten : 0;
  for (size_t i = from; i < s.history.size(); ++i)
    text += metricsLine(s.history[i]);
  io::writeOutput(o.metrics, text);
  metricsWritten = s.history.size();
}

int Trainer::run() {
  xDesc = d.dataInput();
  yDesc = d.labelInput();
  if (!xDesc || !yDesc)
    throw std::runtime_error("the model has no float data input or no int32 labels");
  if (o.batch > 0 && o.batch != d.batch())
    usageError("--batch " + std::to_string(o.batch) +
               " differs from the compiled batch size " +
               std::to_string(d.batch()) + " (recompile with snnc)");
  if (o.resume && o.checkpoint.empty())
    usageError("--resume needs --checkpoint PATH");
  std::string backward = !o.backward.empty()          ? o.backward
                         : d.settings.count("backward") ? d.settings.at("backward")
                                                        : "na";
  if (backward == "stbp") {
    if (!snnc_train_step_stbp)
      usageError("this trainer was compiled without the STBP step");
    trainStep = snnc_train_step_stbp;
  } else if (backward != "na") {
    usageError("--backward must be na or stbp");
  }
  augment = parseAugment(o.augment);
  snnrt_set_num_threads(static_cast<int>(o.threads));
  int64_t epochs = o.epochs > 0 ? o.epochs : static_cast<int64_t>(setting(d, "epochs", 5));
  double lr0 = o.lr > 0 ? o.lr : setting(d, "lr", 5e-4);
  double decay = o.lrDecay > 0 ? o.lrDecay : setting(d, "lr_decay", 1.0);

  checkOutputPaths();
  lockCheckpoint();
  if (o.resume) {
    s = loadCheckpoint(o.checkpoint);
    if (s.fingerprint != d.fingerprint())
      throw std::runtime_error(o.checkpoint +
                               ": the checkpoint belongs to a different model");
    o.seed = s.seed;
  } else {
    s.fingerprint = d.fingerprint();
    s.seed = o.seed;
    std::mt19937_64 rng(o.seed);
    for (size_t i = 0; i < d.params.size(); ++i) {
      const TensorDesc &p = d.params[i];
      s.params.push_back(snnc_param_init[i]
                             ? std::vector<float>(snnc_param_init[i],
                                                  snnc_param_init[i] + p.numElements())
                             : kaiming(p, rng));
      s.m.emplace_back(p.numElements(), 0.0f);
      s.v.emplace_back(p.numElements(), 0.0f);
    }
  }
  chooseDevice(trainStep == snnc_train_step_stbp);
  if (!gpu) {
    std::fprintf(stderr, "trainer: %s\n",
                 cpu::cpuKernelsLine(snnrt_get_num_threads()).c_str());
    std::string warning = cpu::cpuKernelsWarning();
    if (!warning.empty())
      std::fprintf(stderr, "trainer: warning: %s\n", warning.c_str());
  }
  if (gpu)
    gpu->upload(s.params, s.m, s.v);
  nextP = s.params;
  nextM = s.m;
  nextV = s.v;
  spikes.assign(d.outputSpikes[0] * d.outputSpikes[1] * d.outputSpikes[2], 0.0f);
  loadData();
  std::fprintf(stderr,
               "trainer: %lld training / %lld test samples, batch %lld, T %lld, "
               "%zu parameter tensors\n",
               (long long)train.size(), (long long)test.size(),
               (long long)d.batch(), (long long)d.steps(), d.params.size());

  if (o.evalOnly) {
    double loss = 0;
    double acc = testAccuracy(&loss);
    std::printf("test accuracy: %.2f%%, test loss %.6g per sample\n",
                100.0 * acc, loss);
    exportModel();
    return 0;
  }
  training = true;
  int64_t B = d.batch(), batches = train.size() / B;
  if (batches == 0)
    throw DataError("the training set has fewer samples than one batch");
  if (o.resume)
    checkResumedState(batches);
  if (o.maxSteps > 0 && s.step >= o.maxSteps) {
    std::printf("stopped: the checkpoint is at step %lld already "
                "(--max-steps %lld)\n",
                (long long)s.step, (long long)o.maxSteps);
    return 0;
  }
  metricsWritten = s.history.size(); // a resumed run's lines are there
  if (o.resume && metricsKind != io::OutputKind::CharDevice)
    writeMetrics();
  while (s.epoch < epochs) {
    int64_t epoch = s.epoch;
    float lr = static_cast<float>(lr0 * std::pow(decay, epoch));
    std::vector<int64_t> order(train.size());
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 shuffle(o.seed * 7919 + epoch);
    std::shuffle(order.begin(), order.end(), shuffle);
    Progress progress(epoch + 1, epochs, batches);
    auto start = std::chrono::steady_clock::now();
    int64_t flops0 = snnrt_get_flops();
    int64_t first = s.batchInEpoch;
    uint64_t augSeed = o.seed * 104729 + epoch;
    std::future<Batch> next = std::async(std::launch::async, [&, first] {
      return makeBatch(train, order, first * B, true, augSeed);
    });
    // On a GPU the next batch, built on another thread meanwhile, is copied
    // to the device while the step runs (`ready` holds it).
    std::optional<Batch> ready;
    for (int64_t k = first; k < batches; ++k) {
      Batch b = ready ? std::move(*ready) : next.get();
      ready.reset();
      if (k + 1 < batches)
        next = std::async(std::launch::async, [&, k] {
          return makeBatch(train, order, (k + 1) * B, true, augSeed);
        });
      float loss = step(b, lr, [&] {
        if (k + 1 >= batches || interrupted ||
            (o.maxSteps > 0 && s.step + 1 >= o.maxSteps))
          return;
        ready = next.get();
        gpu->stage(ready->x.data(), ready->y.data());
      });
      if (o.logSteps)
      {
        std::printf("step %lld loss %.7g\n", (long long)s.step, loss);
        std::fflush(stdout);
      }
      s.epochLossSum += loss / B;
      s.epochCorrect += correct(b);
      s.epochSeen += B;
      s.batchInEpoch = k + 1;
      progress.update(k + 1, (k + 1 - first) * B,
                      s.epochLossSum / (k + 1),
                      static_cast<double>(s.epochCorrect) / s.epochSeen);
      bool stop = o.maxSteps > 0 && s.step >= o.maxSteps;
      if (interrupted || stop) {
        if (next.valid())
          next.wait();
        progress.finish();
        if (int sig = interrupted) {
          saveAndReport(sig == SIGTERM ? "SIGTERM" : "interrupted");
          std::fprintf(stderr, "trainer: %s after step %lld\n",
                       sig == SIGTERM ? "terminated (SIGTERM)" : "interrupted",
                       (long long)s.step);
          return 128 + sig;
        }
        double secs = std::chrono::duration<double>(
                          std::chrono::steady_clock::now() - start).count();
        std::printf("stopped after %lld steps: %.3f ms/step, %.0f samples/s",
                    (long long)s.step, 1000.0 * secs / (k + 1 - first),
                    (k + 1 - first) * B / secs);
        if (gpu && gpu->meanStepMs() > 0)
          std::printf(" (device: %.4f ms/step, %.0f samples/s)",
                      gpu->meanStepMs(), B * 1000.0 / gpu->meanStepMs());
        double flops = static_cast<double>(snnrt_get_flops() - flops0);
        if (!gpu && flops > 0)
          std::printf(", GEMMs and convolutions %.3f GFLOP/step, %.1f GFLOP/s",
                      flops / (k + 1 - first) / 1e9, flops / secs / 1e9);
        std::printf("\n");
        saveAndReport("--max-steps");
        exportModel();
        return 0;
      }
    }
    progress.finish();
    double secs = std::chrono::duration<double>(
                      std::chrono::steady_clock::now() - start).count();
    EpochRecord r{epoch + 1,
                  s.epochLossSum / batches,
                  static_cast<double>(s.epochCorrect) / s.epochSeen,
                  testAccuracy(),
                  secs,
                  (batches - first) * B / secs,
                  lr};
    s.history.push_back(r);
    s.epoch = epoch + 1;
    s.batchInEpoch = 0;
    s.epochLossSum = 0;
    s.epochCorrect = s.epochSeen = 0;
    std::printf("epoch %lld: train loss %.4f, train accuracy %.2f%%, test "
                "accuracy %.2f%%, %.1f s (%.0f samples/s)\n",
                (long long)r.epoch, r.loss, 100 * r.trainAcc, 100 * r.testAcc,
                r.seconds, r.samplesPerSecond);
    std::fflush(stdout);
    // The checkpoint first: a metrics file that cannot be written must not
    // cost the epoch.
    saveAndReport("epoch " + std::to_string(r.epoch));
    writeMetrics();
  }
  // Both are attempted: a failed plot does not lose the exported model.
  std::string failure;
  try {
    exportModel();
  } catch (const std::exception &e) {
    failure = e.what();
  }
  if (!o.plot.empty()) {
    try {
      io::writeOutput(o.plot, plotSVG(s.history));
    } catch (const std::exception &e) {
      if (failure.empty())
        failure = e.what();
    }
  }
  if (!failure.empty())
    throw std::runtime_error(failure);
  if (s.history.empty())
    throw std::runtime_error("no epoch was trained");
  const EpochRecord &last = s.history.back();
  std::printf("done: %lld epochs, final test accuracy %.2f%%",
              (long long)last.epoch, 100 * last.testAcc);
  if (gpu && gpu->meanStepMs() > 0)
    std::printf(" (device: %.4f ms/step)", gpu->meanStepMs());
  std::printf("\n");
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  // The compiled step allocates the same large buffers every step: keep
  // them in the heap, never in mmap'ed memory that free() unmaps, and never
  // give the heap's top back to the system, so that every step after the
  // first reuses pages instead of faulting fresh ones in (measured, CIFAR-10
  // AlexNet on 2 cores: 1.1 million page faults per step before, none after;
  // 13.5 -> about 5.4 s per step). The peak memory is the same.
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, -1);
  takeSignalsOnOneThread();
  Options opts = parseArgs(argc, argv);
  try {
    Trainer trainer(parseModelDesc(snnc_model_info), opts);
    return trainer.run();
  } catch (const std::exception &e) {
    std::fprintf(stderr, "trainer: error: %s\n", e.what());
    return 1;
  }
}
