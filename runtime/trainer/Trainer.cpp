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
#include "Init.h"
#include "Report.h"
#include "Schedule.h"
#include "../cpu/CpuKernels.h"
#include "../cuda/Driver.h"
#include "../parallel/NCCL.h"
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
#include <zlib.h>

namespace snnrt {

std::atomic<int> interrupted{0};
std::atomic<bool> training{false};

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
  // One rank per GPU: the rank within the node picks the device.
  if (comm)
    cuda::useDevice(comm->localRank());
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
      std::string nccl;
      if (comm)
        nccl = ", " + parallel::initNCCL(*comm) + " on GPU " +
               std::to_string(comm->localRank()) + " of the node";
      if (lead())
      std::fprintf(stderr, "trainer: device cuda (%s)%s%s%s%s\n",
                   cuda::deviceName().c_str(), nccl.c_str(),
                   o.cudaGraphs ? "" : ", CUDA graphs off",
                   o.tf32 ? ", TF32 allowed" : "",
                   o.deterministic ? ", deterministic" : "");
      return;
    }
  }
  exec = std::make_unique<CpuStep>(d, train->fn, eval->fn);
  if (!lead())
    return;
  std::fprintf(stderr, "trainer: %s\n",
               cpu::cpuKernelsLine(snnrt_get_num_threads()).c_str());
  std::string warning = cpu::cpuKernelsWarning();
  if (!warning.empty())
    std::fprintf(stderr, "trainer: warning: %s\n", warning.c_str());
}

float Trainer::step(const Batch &b, float lr,
                    const std::function<void()> &whileOnDevice) {
  // Dropout's key: rank 0's is the single process's; the other ranks draw
  // their own masks for their own samples.
  uint64_t key = o.seed * 1000003u + s.step +
                 static_cast<uint64_t>(rank) * 0x9E3779B97F4A7C15ull;
  exec->launch(b.x.data(), b.y.data(), s.step + 1, lr,
               static_cast<int64_t>(key));
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

void Trainer::shareBuffers() {
  if (!comm || std::none_of(d.params.begin(), d.params.end(),
                            [](const TensorDesc &t) { return t.buffer; }))
    return;
  syncFromDevice();
  for (size_t i = 0; i < d.params.size(); ++i)
    if (d.params[i].buffer)
      comm->broadcast(s.params[i].data(),
                      static_cast<int64_t>(s.params[i].size() * sizeof(float)),
                      0, "the running statistics");
  exec->upload(s.params, s.m, s.v);
}

double Trainer::testAccuracy(double *meanLoss) {
  // Every rank evaluates with rank 0's running statistics.
  shareBuffers();
  std::vector<int64_t> order(test.size());
  std::iota(order.begin(), order.end(), 0);
  double loss = 0, hits = 0;
  // Data parallel: rank r evaluates batches r, r + ranks, ...; the counts
  // are summed over the ranks.
  for (int64_t first = rank * d.batch(); first < test.size();
       first += ranks * d.batch()) {
    Batch b = makeBatch(test, order, first, false, 0);
    loss += evaluate(b) * (d.lossIsMean ? d.batch() : 1);
    hits += static_cast<double>(correct(b));
    // --eval --eval-spikes: the first batch's output spikes, raw float32
    // [T, B, N] (to compare the compiled forward pass with a reference).
    if (first == 0 && o.evalOnly && !o.evalSpikes.empty())
      io::writeOutput(o.evalSpikes,
                      std::string(reinterpret_cast<const char *>(spikes.data()),
                                  spikes.size() * sizeof(float)));
  }
  double totals[2] = {loss, hits};
  sumOverRanks(totals, 2, "the evaluation's counts");
  if (meanLoss)
    *meanLoss = totals[0] / std::max<int64_t>(test.size(), 1);
  return totals[1] / std::max<int64_t>(test.size(), 1);
}

/// IDE: the solves of `steps` training steps that ended above their
/// tolerance (the compiled solver reports them, runtime/cpu/Solve.cpp),
/// in one line; nothing when every solve converged. Evaluation steps do not
/// solve.
void Trainer::reportSolver(const std::string &when, int64_t steps) {
  snnrt_ide_solver_stats st = snnrt_ide_take_solver_stats();
  // Every rank's solves; the tolerance is the model's, the same on all.
  double counts[2] = {static_cast<double>(st.solves),
                      static_cast<double>(st.samples)};
  double worst[2] = {st.worstResidual, st.tolerance};
  sumOverRanks(counts, 2, "the solver's log");
  if (comm)
    comm->allReduce(worst, 2, parallel::Reduce::Max, "the solver's log");
  if (counts[0] == 0 || !lead())
    return;
  std::printf("ide: the solver did not converge in %.0f of %lld solves (%s): "
              "%.0f of %lld samples, worst residual %.3g (tolerance %.3g)\n",
              counts[0], (long long)(steps * ranks), when.c_str(), counts[1],
              (long long)(steps * d.batch() * ranks), worst[0], worst[1]);
  std::fflush(stdout);
}

void Trainer::sumOverRanks(double *v, int64_t n, const char *what) {
  if (comm)
    comm->allReduce(v, n, parallel::Reduce::Sum, what);
}

void Trainer::shareState(bool resumed) {
  if (!comm)
    return;
  if (resumed) {
    // Rank 0 reads the checkpoint (the others may not see its file
    // system); every rank parses and checks the same bytes.
    std::string bytes;
    std::string error;
    if (lead()) {
      try {
        bytes = readCheckpointFile(o.checkpoint);
      } catch (const std::exception &e) {
        error = e.what();
      }
    }
    int64_t size = error.empty() ? static_cast<int64_t>(bytes.size()) : -1;
    comm->broadcast(&size, sizeof(size), 0, "the checkpoint's size");
    if (size < 0) {
      if (lead())
        throw std::runtime_error(error);
      std::_Exit(1); // rank 0 says why
    }
    bytes.resize(static_cast<size_t>(size));
    comm->broadcast(bytes.data(), size, 0, "the checkpoint");
    s = parseCheckpoint(o.checkpoint, std::move(bytes));
    return;
  }
  // Every rank initialized from the same seed; rank 0's values win anyway.
  for (std::vector<float> &p : s.params)
    comm->broadcast(p.data(), static_cast<int64_t>(p.size() * sizeof(float)),
                    0, "the initial parameters");
}

void Trainer::checkRanksAgree() {
  if (!comm)
    return;
  shareBuffers();
  syncFromDevice();
  // Tests make one rank's parameters drift, as a defect would.
  if (const char *r = std::getenv("SNNC_TEST_DIVERGE_RANK");
      r && std::atoi(r) == rank && !s.params.empty() && !s.params[0].empty()) {
    s.params[0][0] += 1e-3f;
    exec->upload(s.params, s.m, s.v);
  }
  uLong crc = crc32(0L, Z_NULL, 0);
  for (const std::vector<float> &p : s.params)
    crc = crc32_z(crc, reinterpret_cast<const Bytef *>(p.data()),
                  p.size() * sizeof(float));
  int64_t lo = static_cast<int64_t>(crc), hi = lo;
  comm->allReduce(&lo, 1, parallel::Reduce::Min, "the parameter checksum");
  comm->allReduce(&hi, 1, parallel::Reduce::Max, "the parameter checksum");
  if (lo != hi)
    throw std::runtime_error(
        "the parameters differ between the ranks after epoch " +
        std::to_string(s.epoch) + " (CRC-32 of rank " + std::to_string(rank) +
        ": " + std::to_string(crc) + "; the ranks range from " +
        std::to_string(lo) + " to " + std::to_string(hi) +
        "): the run is no longer data-parallel");
}

void Trainer::saveAndReport(const std::string &why) {
  if (o.checkpoint.empty() || !lead())
    return;
  syncFromDevice();
  saveCheckpoint(o.checkpoint, s);
  std::fprintf(stderr, "trainer: checkpoint written to %s (%s)\n",
               o.checkpoint.c_str(), why.c_str());
}

void Trainer::exportModel() {
  if ((o.exportPath.empty() && o.exportNIR.empty()) || !lead())
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
  if (o.checkpoint.empty() || o.evalOnly || !lead() ||
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
  // (The batch counts steps of the run that wrote it, whose number of
  // ranks may differ: at most one step per per-rank batch of samples.)
  if (s.batchInEpoch > train.size() / d.batch() || s.epochSeen > train.size())
    bad("is at batch " + std::to_string(s.batchInEpoch) +
        " of an epoch (sample " + std::to_string(s.epochSeen) +
        "), but an epoch of this dataset has " + std::to_string(batches) +
        " batches of " + std::to_string(d.batch() * ranks) + " samples");
}

/// The metrics file holds one line per epoch of the history: rewritten
/// whole (atomically) after each epoch, so a resumed run never repeats a
/// line; a device (a terminal, /dev/null) gets the new lines only.
void Trainer::writeMetrics() {
  if (o.metrics.empty() || !lead())
    return;
  std::string text;
  size_t from = metricsKind == io::OutputKind::CharDevice ? metricsWritten : 0;
  for (size_t i = from; i < s.history.size(); ++i)
    text += metricsLine(s.history[i], evalSet());
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
  // Started by mpirun or srun with several ranks: data parallel.
  parallel::initWorld(o.dpTimeout,
                      o.dpBucketBytes < 0 ? INT64_MAX : o.dpBucketBytes);
  if ((comm = parallel::world())) {
    rank = comm->rank();
    ranks = comm->size();
  }
  // --backward, else the model's setting, else the first compiled method
  // (na unless snnc --methods said otherwise).
  std::vector<std::string> held = compiledMethods();
  method = !o.backward.empty()            ? o.backward
           : d.settings.count("backward") ? d.settings.at("backward")
           : held.empty()                 ? "na"
                                          : held.front();
  augment = parseAugment(o.augment);
  // The per-channel input normalization of the model's settings.
  {
    auto list = [&](const char *key) {
      std::vector<float> v;
      if (!d.settings.count(key))
        return v;
      std::string text = d.settings.at(key);
      for (size_t at = 0; at <= text.size();) {
        size_t comma = text.find(',', at);
        v.push_back(std::strtof(text.substr(at, comma - at).c_str(), nullptr));
        if (comma == std::string::npos)
          break;
        at = comma + 1;
      }
      return v;
    };
    inputMean = list("input_mean");
    inputStd = list("input_std");
  }
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

  if (lead())
    checkOutputPaths();
  lockCheckpoint();
  if (o.resume) {
    if (comm)
      shareState(/*resumed=*/true);
    else
      s = loadCheckpoint(o.checkpoint);
    if (s.fingerprint != d.fingerprint())
      throw std::runtime_error(o.checkpoint +
                               ": the checkpoint belongs to a different model");
    o.seed = s.seed;
    if (o.validation >= 0 && o.validation != s.validation)
      usageError("--validation " + std::to_string(o.validation) +
                 " differs from the " + std::to_string(s.validation) +
                 " validation samples of " + o.checkpoint +
                 " (resume with the same split)");
  } else {
    s.fingerprint = d.fingerprint();
    s.seed = o.seed;
    s.validation = std::max<int64_t>(o.validation, 0);
    std::mt19937_64 rng(o.seed);
    for (size_t i = 0; i < d.params.size(); ++i) {
      const TensorDesc &p = d.params[i];
      // A scheme (IDE's official initialisation) replaces the importer's
      // constant default; a value the model gives is kept.
      auto earlier = [&](const std::string &name) {
        for (size_t k = 0; k < s.params.size(); ++k)
          if (d.params[k].name == name)
            return InitializedParam{&d.params[k], &s.params[k]};
        return InitializedParam{};
      };
      s.params.push_back(snnc_param_init[i] && p.initScheme.empty()
                             ? std::vector<float>(snnc_param_init[i],
                                                  snnc_param_init[i] + p.numElements())
                             : initialValue(p, rng, earlier));
      s.m.emplace_back(p.numElements(), 0.0f);
      s.v.emplace_back(p.numElements(), 0.0f);
    }
    shareState(/*resumed=*/false);
  }
  chooseExecutor();
  if (comm && lead()) {
    std::string launcher;
    parallel::launchedRanks(&launcher);
    std::fprintf(stderr,
                 "trainer: data parallel on %d ranks (%s, %s), batch %lld "
                 "per rank, %lld in all; gradients summed in %s\n",
                 ranks, launcher.c_str(), comm->library().c_str(),
                 (long long)d.batch(), (long long)(d.batch() * ranks),
                 comm->bucketBytes <= 0 ? "one collective per tensor"
                 : comm->bucketBytes == INT64_MAX
                     ? "one collective per step"
                     : ("buckets of " +
                        std::to_string(comm->bucketBytes / 1048576.0) + " MB")
                           .c_str());
  }
  exec->upload(s.params, s.m, s.v);
  spikes.assign(d.outputSpikes[0] * d.outputSpikes[1] * d.outputSpikes[2], 0.0f);
  loadData();
  if (lead())
    std::fprintf(stderr,
               "trainer: %lld training / %lld %s samples, batch %lld, T %lld, "
               "%zu parameter tensors\n",
               (long long)train.size(), (long long)test.size(), evalSet(),
               (long long)d.batch(), (long long)d.steps(), d.params.size());

  if (o.evalOnly) {
    double loss = 0;
    double acc = testAccuracy(&loss);
    if (lead())
      std::printf("%s accuracy: %.2f%%, %s loss %.6g per sample\n",
                  evalSet(), 100.0 * acc, evalSet(), loss);
    exportModel();
    parallel::finalizeWorld();
    return 0;
  }
  training = true;
  // A step takes `global` samples of the epoch's order: rank r those from
  // r * B on (data parallel: the same samples, in the same order, as one
  // process with an N-times larger batch).
  int64_t B = d.batch(), global = B * ranks, batches = train.size() / global;
  if (batches == 0)
    throw DataError("the training set has fewer samples than one batch" +
                    std::string(ranks > 1 ? " of all ranks" : ""));
  if (o.resume)
    checkResumedState(batches);
  if (o.maxSteps > 0 && s.step >= o.maxSteps) {
    if (lead())
      std::printf("stopped: the checkpoint is at step %lld already "
                  "(--max-steps %lld)\n",
                  (long long)s.step, (long long)o.maxSteps);
    parallel::finalizeWorld();
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
    // The epoch continues at sample `pos0` (a checkpoint written by a run
    // with another number of ranks may stop between this run's steps).
    int64_t pos0 = s.epochSeen;
    int64_t first = s.batchInEpoch;
    int64_t stepsLeft = (train.size() - pos0) / global;
    int64_t lastBatch = first + stepsLeft; // this epoch's batches end here
    auto sampleOf = [&, pos0, first](int64_t k) {
      return pos0 + (k - first) * global + rank * B;
    };
    std::optional<Progress> progress;
    if (lead())
      progress.emplace(epoch + 1, epochs, lastBatch);
    auto start = std::chrono::steady_clock::now();
    int64_t flops0 = snnrt_get_flops();
    uint64_t augSeed = o.seed * 104729 + epoch;
    std::future<Batch> next = std::async(std::launch::async, [&, first] {
      return makeBatch(train, order, sampleOf(first), true, augSeed);
    });
    // On a GPU the next batch, built on another thread meanwhile, is copied
    // to the device while the step runs (`ready` holds it).
    std::optional<Batch> ready;
    for (int64_t k = first; k < lastBatch; ++k) {
      Batch b = ready ? std::move(*ready) : next.get();
      ready.reset();
      if (k + 1 < lastBatch)
        next = std::async(std::launch::async, [&, k] {
          return makeBatch(train, order, sampleOf(k + 1), true, augSeed);
        });
      lr = static_cast<float>(learningRate(sched, epoch, k, lastBatch));
      float loss = step(b, lr, [&] {
        if (k + 1 >= lastBatch || interrupted ||
            (o.maxSteps > 0 && s.step + 1 >= o.maxSteps))
          return;
        if (!exec->stages())
          return;
        ready = next.get();
        exec->stage(ready->x.data(), ready->y.data());
      });
      // The global batch's loss (as a sum over the batch: a mean loss times
      // the batch) and hits, and whether any rank got SIGTERM or SIGINT
      // (then all stop after this same step): one collective.
      int sig = interrupted;
      double stats[4] = {d.lossIsMean ? static_cast<double>(loss) * B : loss,
                         static_cast<double>(correct(b)),
                         sig == SIGTERM ? 1.0 : 0.0,
                         sig && sig != SIGTERM ? 1.0 : 0.0};
      if (comm) {
        sumOverRanks(stats, 4, "the step's loss");
        if (!interrupted && (stats[2] > 0 || stats[3] > 0))
          interrupted = stats[2] > 0 ? SIGTERM : SIGINT;
      }
      if (o.logSteps && lead())
      {
        std::printf("step %lld loss %.7g\n", (long long)s.step,
                    d.lossIsMean ? stats[0] / global : stats[0]);
        std::fflush(stdout);
      }
      // Per sample: the epoch's loss is the mean over its samples.
      s.epochLossSum += stats[0];
      s.epochCorrect += static_cast<int64_t>(stats[1]);
      s.epochSeen += global;
      s.batchInEpoch = k + 1;
      if (progress)
        progress->update(k + 1, (k + 1 - first) * global,
                         s.epochLossSum / s.epochSeen,
                         static_cast<double>(s.epochCorrect) / s.epochSeen);
      bool stop = o.maxSteps > 0 && s.step >= o.maxSteps;
      if (interrupted || stop) {
        if (next.valid())
          next.wait();
        if (progress)
          progress->finish();
        if (int sig = interrupted) {
          saveAndReport(sig == SIGTERM ? "SIGTERM" : "interrupted");
          if (lead())
            std::fprintf(stderr, "trainer: %s after step %lld\n",
                         sig == SIGTERM ? "terminated (SIGTERM)"
                                        : "interrupted",
                         (long long)s.step);
          parallel::finalizeWorld();
          return 128 + sig;
        }
        double secs = std::chrono::duration<double>(
                          std::chrono::steady_clock::now() - start).count();
        // All ranks' GEMM and convolution work.
        double flops = static_cast<double>(snnrt_get_flops() - flops0);
        sumOverRanks(&flops, 1, "the FLOP count");
        reportSolver("these steps", k + 1 - first);
        saveAndReport("--max-steps");
        exportModel();
        parallel::finalizeWorld();
        if (!lead())
          return 0;
        std::printf("stopped after %lld steps: %.3f ms/step, %.0f samples/s",
                    (long long)s.step, 1000.0 * secs / (k + 1 - first),
                    (k + 1 - first) * global / secs);
        if (exec->meanStepMs() > 0)
          std::printf(" (device: %.4f ms/step, %.0f samples/s)",
                      exec->meanStepMs(), global * 1000.0 / exec->meanStepMs());
        if (!onGPU && flops > 0)
          std::printf(", GEMMs and convolutions %.3f GFLOP/step, %.1f GFLOP/s",
                      flops / (k + 1 - first) / 1e9, flops / secs / 1e9);
        std::printf("\n");
        return 0;
      }
    }
    if (progress)
      progress->finish();
    double secs = std::chrono::duration<double>(
                      std::chrono::steady_clock::now() - start).count();
    EpochRecord r{epoch + 1,
                  s.epochLossSum / std::max<int64_t>(s.epochSeen, 1),
                  static_cast<double>(s.epochCorrect) / s.epochSeen,
                  testAccuracy(),
                  secs,
                  (lastBatch - first) * global / secs,
                  lr};
    s.history.push_back(r);
    s.epoch = epoch + 1;
    s.batchInEpoch = 0;
    s.epochLossSum = 0;
    s.epochCorrect = s.epochSeen = 0;
    checkRanksAgree();
    reportSolver("epoch " + std::to_string(r.epoch), batches - first);
    if (lead()) {
      std::printf("epoch %lld: train loss %.4f, train accuracy %.2f%%, %s "
                  "accuracy %.2f%%, %.1f s (%.0f samples/s)\n",
                  (long long)r.epoch, r.loss, 100 * r.trainAcc, evalSet(),
                  100 * r.testAcc, r.seconds, r.samplesPerSecond);
      std::fflush(stdout);
    }
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
  if (!o.plot.empty() && lead()) {
    try {
      io::writeOutput(o.plot, plotSVG(s.history, evalSet()));
    } catch (const std::exception &e) {
      if (failure.empty())
        failure = e.what();
    }
  }
  if (!failure.empty())
    throw std::runtime_error(failure);
  if (s.history.empty())
    throw std::runtime_error("no epoch was trained");
  parallel::finalizeWorld();
  if (!lead())
    return 0;
  const EpochRecord &last = s.history.back();
  std::printf("done: %lld epochs, final %s accuracy %.2f%%",
              (long long)last.epoch, evalSet(), 100 * last.testAcc);
  if (exec->meanStepMs() > 0)
    std::printf(" (device: %.4f ms/step)", exec->meanStepMs());
  std::printf("\n");
  return 0;
}

} // namespace snnrt
