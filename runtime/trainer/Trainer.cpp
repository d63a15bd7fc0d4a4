//===- Trainer.cpp - the training loop, checkpoints, metrics, export -------===//
//
// Generic over models: the compiled object provides its steps in
// snnc_entries, snnc_model_info and snnc_param_init (snnrt/model.h).
//
//===----------------------------------------------------------------------===//
#include "Trainer.h"
#include "CpuStep.h"
#include "CudaStep.h"
#include "Export.h"
#include "Report.h"
#include "Schedule.h"
#include "../cpu/CpuKernels.h"
#include "../cuda/Driver.h"
#include "runtime/core/Settings.h"

#include "snnrt/snnrt.h"

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <future>
#include <numeric>
#include <optional>
#include <random>
#include <stdexcept>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace snnrt {

std::atomic<int> interrupted{0};
std::atomic<bool> training{false};

namespace {
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
} // namespace

void Trainer::chooseExecutor() {
  const snnc_entry *train = findEntry("train:" + method);
  const snnc_entry *eval = findEntry("eval");
  if (!train || !eval) {
    std::string held;
    for (const std::string &m : compiledMethods())
      held += (held.empty() ? "" : ", ") + m;
    usageError("this trainer was compiled without the '" + method +
               "' step (it holds: " + held + "; snnc --methods)");
  }
  if (o.device != "cpu" && o.device != "auto" && o.device != "cuda")
    usageError("--device must be cpu, cuda or auto");
  std::string why;
  if (o.device != "cpu") {
    const snnc_entry *trainGPU = findEntry("train:" + method + ":cuda");
    const snnc_entry *evalGPU = findEntry("eval:cuda");
    if (!trainGPU || !evalGPU)
      why = "this trainer was compiled without CUDA code (snnc found no CUDA "
            "toolkit, or --cuda=false)";
    else if (!cuda::available(&why))
      why = "no usable GPU: " + why;
    if (!why.empty() && o.device == "cuda")
      throw std::runtime_error("--device cuda: " + why);
    if (why.empty()) {
      cuda::allowTF32(o.tf32);
      cuda::requireDeterminism(o.deterministic);
      exec = std::make_unique<CudaStep>(
          d, CudaStep::Entry{trainGPU->fn, trainGPU->workspace_bytes},
          CudaStep::Entry{evalGPU->fn, evalGPU->workspace_bytes},
          o.cudaGraphs);
      onGPU = true;
      std::fprintf(stderr, "trainer: device cuda (%s)%s%s%s\n",
                   cuda::deviceName().c_str(),
                   o.cudaGraphs ? "" : ", CUDA graphs off",
                   o.tf32 ? ", TF32 allowed" : "",
                   o.deterministic ? ", deterministic" : "");
      return;
    }
  }
  exec = std::make_unique<CpuStep>(d, train->fn, eval->fn);
  std::fprintf(stderr, "trainer: %s\n",
               cpu::cpuKernelsLine(snnrt_get_num_threads()).c_str());
  std::string warning = cpu::cpuKernelsWarning();
  if (!warning.empty())
    std::fprintf(stderr, "trainer: warning: %s\n", warning.c_str());
}

float Trainer::step(const Batch &b, float lr,
                    const std::function<void()> &whileOnDevice) {
  exec->launch(b.x.data(), b.y.data(), s.step + 1, lr,
               static_cast<int64_t>(o.seed * 1000003u + s.step));
  if (whileOnDevice)
    whileOnDevice();
  float loss = exec->finish(spikes.data());
  ++s.step;
  if (o.weightClip > 0)
    exec->clampParams(static_cast<float>(o.weightClip));
  return loss;
}

float Trainer::evaluate(const Batch &b) {
  return exec->eval(b.x.data(), b.y.data(), spikes.data());
}

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
    // --eval --eval-spikes: the first batch's output spikes, raw float32
    // [T, B, N] (to compare the compiled forward pass with a reference).
    if (first == 0 && o.evalOnly && !o.evalSpikes.empty())
      io::writeOutput(o.evalSpikes,
                      std::string(reinterpret_cast<const char *>(spikes.data()),
                                  spikes.size() * sizeof(float)));
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
  if (o.exportPath.empty() && o.exportNIR.empty())
    return;
  syncFromDevice();
  std::vector<std::string> names;
  std::vector<std::vector<int64_t>> shapes;
  for (const TensorDesc &p : d.params) {
    names.push_back(p.name);
    shapes.push_back(p.shape);
  }
  std::string model(snnc_onnx_model, snnc_onnx_model_size);
  if (!o.exportPath.empty()) {
    exportONNX(model, o.exportPath, names, shapes, s.params);
    std::fprintf(stderr, "trainer: trained model written to %s\n",
                 o.exportPath.c_str());
  }
  if (!o.exportNIR.empty()) {
    exportNIR(model, o.exportNIR, names, shapes, s.params);
    std::fprintf(stderr, "trainer: trained model written to %s (NIR)\n",
                 o.exportNIR.c_str());
  }
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
                                  {o.exportPath, "--export"},
                                  {o.evalSpikes, "--eval-spikes"},
                                  {o.exportNIR, "--export-nir"}};
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
  // --backward, else the model's setting, else the first compiled method
  // (na unless snnc --methods said otherwise).
  std::vector<std::string> held = compiledMethods();
  method = !o.backward.empty()            ? o.backward
           : d.settings.count("backward") ? d.settings.at("backward")
           : held.empty()                 ? "na"
                                          : held.front();
  augment = parseAugment(o.augment);
  snnrt_set_num_threads(static_cast<int>(o.threads));
  int64_t epochs = o.epochs > 0 ? o.epochs : static_cast<int64_t>(setting(d, "epochs", 5));
  // The schedule: flags, else the model's settings, else the defaults.
  Schedule sched;
  sched.lr0 = o.lr > 0 ? o.lr : setting(d, "lr", 5e-4);
  sched.decay = o.lrDecay > 0 ? o.lrDecay : setting(d, "lr_decay", 1.0);
  sched.kind = !o.schedule.empty()           ? o.schedule
               : d.settings.count("schedule") ? d.settings.at("schedule")
                                              : "exponential";
  if (sched.kind != "exponential" && sched.kind != "multistep" &&
      sched.kind != "cosine")
    usageError("--schedule must be exponential, multistep or cosine");
  std::string milestones = !o.milestones.empty() ? o.milestones
                           : d.settings.count("milestones")
                               ? d.settings.at("milestones")
                               : "";
  if (!milestones.empty()) {
    if (!checkSetting("milestones", milestones).empty())
      usageError("--milestones '" + milestones + "' must be " +
                 checkSetting("milestones", milestones));
    sched.milestones = parseMilestones(milestones);
  }
  if (sched.kind == "multistep" && sched.milestones.empty())
    usageError("a multistep schedule needs --milestones (or snn.milestones)");
  sched.gamma = o.gamma > 0 ? o.gamma : setting(d, "gamma", 0.1);
  sched.lrMin = o.lrMin >= 0 ? o.lrMin : setting(d, "lr_min", 0.0);
  sched.warmupEpochs = o.warmupEpochs >= 0
                           ? o.warmupEpochs
                           : static_cast<int64_t>(setting(d, "warmup_epochs", 0));

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
  chooseExecutor();
  exec->upload(s.params, s.m, s.v);
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
    sched.epochs = epochs;
    float lr = static_cast<float>(learningRate(sched, epoch, 0, batches));
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
      lr = static_cast<float>(learningRate(sched, epoch, k, batches));
      float loss = step(b, lr, [&] {
        if (k + 1 >= batches || interrupted ||
            (o.maxSteps > 0 && s.step + 1 >= o.maxSteps))
          return;
        if (!exec->stages())
          return;
        ready = next.get();
        exec->stage(ready->x.data(), ready->y.data());
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
        if (exec->meanStepMs() > 0)
          std::printf(" (device: %.4f ms/step, %.0f samples/s)",
                      exec->meanStepMs(), B * 1000.0 / exec->meanStepMs());
        double flops = static_cast<double>(snnrt_get_flops() - flops0);
        if (!onGPU && flops > 0)
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
  if (exec->meanStepMs() > 0)
    std::printf(" (device: %.4f ms/step)", exec->meanStepMs());
  std::printf("\n");
  return 0;
}

} // namespace snnrt
