//===- Options.cpp - the trainer's command line ----------------------------===//
#include "Options.h"
#include "StepExecutor.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#ifndef SNNC_VERSION
#define SNNC_VERSION "0.1.0"
#endif

namespace snnrt {

namespace {
const char *kUsage =
    "usage: trainer [options]\n"
    "Trains the compiled spiking network (NA: Neighborhood Aggregation, by default).\n"
    "  --data DIR            dataset folder (default for fashion-mnist:\n"
    "                        /usr/share/datasets/fashion-mnist)\n"
    "  --dataset NAME        fashion-mnist | mnist | cifar10 | nmnist |\n"
    "                        synthetic (random data, for benchmarks)\n"
    "  --epochs N            number of epochs (model setting 'epochs', else 5)\n"
    "  --batch N             must equal the compiled batch size; under mpirun\n"
    "                        or srun it is the batch of each rank (the global\n"
    "                        batch is N x ranks; docs/data-parallel.md)\n"
    "  --lr X                learning rate (model 'lr', else 5e-4)\n"
    "  --schedule NAME       exponential (lr * decay^epoch, the default),\n"
    "                        multistep (lr * gamma^milestones passed) or\n"
    "                        cosine (to --lr-min over the epochs)\n"
    "  --lr-decay X          exponential: decay per epoch (default 1)\n"
    "  --milestones LIST     multistep: epochs, e.g. 30,60 (model 'milestones')\n"
    "  --gamma X             multistep: factor at each milestone (0.1)\n"
    "  --lr-min X            cosine: the final learning rate (0)\n"
    "  --warmup-epochs N     linear warm-up per step over N epochs (0)\n"
    "  --weight-clip X       clamp every weight to [-X, X] after each step\n"
    "  --seed N              seed of initialization, shuffling, dropout\n"
    "  --backward NAME       the training method (model 'backward', else the\n"
    "                        first held); this trainer holds: %s\n"
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
    "  --augment LIST        comma list of crop (random shifts of up to 4\n"
    "                        pixels, zero padded; crop:N up to N), flip,\n"
    "                        rotate (10 degrees), jitter\n"
    "  --nmnist-keep X       fraction of each N-MNIST recording kept (0.3)\n"
    "  --checkpoint PATH     write a checkpoint after every epoch and on Ctrl-C\n"
    "  --resume              continue from --checkpoint\n"
    "  --overwrite           replace an existing --checkpoint and --metrics\n"
    "                        file (without it, a new run refuses them)\n"
    "  --validation N        hold out N training samples (a fixed random\n"
    "                        choice, the same in every run and with every\n"
    "                        --seed), train on the rest and evaluate on them\n"
    "                        instead of the test set (unused then): to choose\n"
    "                        settings without looking at the test set\n"
    "  --eval                only evaluate on the test set (or --validation)\n"
    "  --eval-spikes FILE    with --eval: the first test batch's output\n"
    "                        spikes, raw float32 [T, B, classes]\n"
    "  --export FILE.onnx    write the model with the learned weights\n"
    "  --export-nir FILE.nir the same as a NIR 1.0 graph (nir.read, snnTorch,\n"
    "                        Norse, ... read it; snnc imports it back)\n"
    "  --metrics FILE        one JSON line per epoch\n"
    "  --plot FILE.svg       loss and accuracy per epoch\n"
    "  --max-steps N         stop after N training steps (benchmarks)\n"
    "  --dp-timeout S        data parallel: seconds a rank waits for the\n"
    "                        others before it stops the run (300)\n"
    "  --dp-bucket-mb X      data parallel: gradients reduced in buckets of\n"
    "                        X MB (0: one collective per tensor; default: all\n"
    "                        in one collective per step)\n"
    "  --help, --version\n";
} // namespace

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
      std::string methods;
      for (const std::string &m : compiledMethods())
        methods += (methods.empty() ? "" : ", ") + m;
      std::printf(kUsage, methods.c_str());
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
    else if (a == "--schedule") o.schedule = next();
    else if (a == "--milestones") o.milestones = next();
    else if (a == "--gamma") o.gamma = positive(next());
    else if (a == "--lr-min") {
      o.lrMin = num(next());
      if (!std::isfinite(o.lrMin) || o.lrMin < 0)
        usageError("option '--lr-min' needs a finite number >= 0");
    }
    else if (a == "--warmup-epochs") o.warmupEpochs = static_cast<int64_t>(whole(next(), 0, kMany));
    else if (a == "--weight-clip") o.weightClip = positive(next());
    else if (a == "--validation")
      o.validation = static_cast<int64_t>(whole(next(), 0, kMany));
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
    else if (a == "--eval-spikes") o.evalSpikes = next();
    else if (a == "--no-cuda-graphs") o.cudaGraphs = false;
    else if (a == "--log-steps") o.logSteps = true;
    else if (a == "--tf32") o.tf32 = true;
    else if (a == "--deterministic") o.deterministic = true;
    else if (a == "--export") o.exportPath = next();
    else if (a == "--export-nir") o.exportNIR = next();
    else if (a == "--metrics") o.metrics = next();
    else if (a == "--plot") o.plot = next();
    else if (a == "--dp-timeout") o.dpTimeout = positive(next());
    else if (a == "--dp-bucket-mb") {
      double mb = num(next());
      if (!std::isfinite(mb) || mb < 0)
        usageError("option '--dp-bucket-mb' needs a finite number >= 0");
      o.dpBucketBytes = static_cast<int64_t>(mb * 1048576.0);
    }
    else if (a == "--max-steps") o.maxSteps = static_cast<int64_t>(whole(next(), 1, kMany));
    else
      usageError("unknown option '" + a + "'");
  }
  return o;
}

} // namespace snnrt
