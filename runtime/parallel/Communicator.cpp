//===- Communicator.cpp - MPI through libsnnmpi.so, with a watchdog --------===//
#include "Communicator.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>
#include <unistd.h>

#ifndef SNNC_RUNTIME_LIB_DIR
#define SNNC_RUNTIME_LIB_DIR ""
#endif

namespace snnrt::parallel {

namespace {

int64_t nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

const char *env(const char *name) {
  const char *v = std::getenv(name);
  return v && *v ? v : nullptr;
}

/// MPI through the shim's C entry points.
class MPICommunicator : public Communicator {
public:
  explicit MPICommunicator(double timeout, int64_t bucket) {
    timeoutSeconds = timeout;
    bucketBytes = bucket;
    std::string tried;
    for (std::string dir : candidateDirs()) {
      std::string path = dir.empty() ? "libsnnmpi.so" : dir + "/libsnnmpi.so";
      handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
      if (handle)
        break;
      tried += std::string(tried.empty() ? "" : "; ") + ::dlerror();
    }
    if (!handle)
      throw std::runtime_error(
          "data-parallel training needs snnc's MPI module libsnnmpi.so and "
          "OpenMPI (apt install openmpi-bin libopenmpi-dev, then rebuild "
          "snnc): " + tried);
    bind(init, "snnmpi_init");
    bind(reduceFn, "snnmpi_allreduce");
    bind(bcastFn, "snnmpi_bcast");
    bind(finalizeFn, "snnmpi_finalize");
    bind(versionFn, "snnmpi_library_version");
    char err[512] = {0};
    if (init(&rank_, &size_, &localRank_, &localSize, err, sizeof(err)))
      throw std::runtime_error(std::string("MPI_Init failed: ") + err);
    char version[256] = {0};
    versionFn(version, sizeof(version));
    library_ = version;
    watchdog = std::thread([this] { watch(); });
  }

  ~MPICommunicator() override {
    stopping = true;
    if (watchdog.joinable())
      watchdog.join();
  }

  void finalize() {
    if (!finalized && finalizeFn)
      finalizeFn();
    finalized = true;
  }

  void allReduce(float *data, int64_t n, Reduce op, const char *what) override {
    reduce(data, n, 0, op, what);
  }
  void allReduce(double *data, int64_t n, Reduce op,
                 const char *what) override {
    reduce(data, n, 1, op, what);
  }
  void allReduce(int64_t *data, int64_t n, Reduce op,
                 const char *what) override {
    reduce(data, n, 2, op, what);
  }
  void broadcast(void *data, int64_t bytes, int root,
                 const char *what) override {
    Guard g(*this, what);
    char err[512] = {0};
    if (bcastFn(data, bytes, root, err, sizeof(err)))
      fatal(what, err);
  }

private:
  static std::vector<std::string> candidateDirs() {
    std::vector<std::string> dirs{""}; // LD_LIBRARY_PATH, the RUNPATH
    char self[4096];
    ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n > 0) {
      std::string exe(self, static_cast<size_t>(n));
      std::string dir = exe.substr(0, exe.find_last_of('/'));
      dirs.push_back(dir);
      dirs.push_back(dir + "/../lib");
    }
    if (*SNNC_RUNTIME_LIB_DIR)
      dirs.push_back(SNNC_RUNTIME_LIB_DIR);
    return dirs;
  }

  template <typename F> void bind(F &fn, const char *name) {
    fn = reinterpret_cast<F>(::dlsym(handle, name));
    if (!fn)
      throw std::runtime_error(std::string("libsnnmpi.so lacks ") + name);
  }

  /// Marks a collective in flight for the watchdog.
  struct Guard {
    Guard(MPICommunicator &c, const char *what) : c(c) {
      c.what.store(what);
      c.since.store(nowNs());
    }
    ~Guard() { c.since.store(0); }
    MPICommunicator &c;
  };

  void reduce(void *data, int64_t n, int type, Reduce op, const char *what) {
    Guard g(*this, what);
    char err[512] = {0};
    if (reduceFn(data, n, type, static_cast<int>(op), err, sizeof(err)))
      fatal(what, err);
  }

  [[noreturn]] void fatal(const char *what, const char *err) {
    std::fprintf(stderr, "trainer: error: rank %d of %d: %s: %s\n", rank_,
                 size_, what, err);
    std::fflush(stderr);
    std::_Exit(1);
  }

  /// A collective waiting longer than the timeout means a rank died or
  /// hangs: one line, and this rank exits (the launcher stops the others).
  void watch() {
    while (!stopping) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      int64_t t0 = since.load();
      if (t0 == 0)
        continue;
      double waited = (nowNs() - t0) / 1e9;
      if (waited > timeoutSeconds) {
        std::fprintf(stderr,
                     "trainer: error: rank %d of %d: %s: no answer from the "
                     "other ranks for %.0f s (a rank died or hangs; "
                     "--dp-timeout); stopping\n",
                     rank_, size_, what.load(), waited);
        std::fflush(stderr);
        std::_Exit(1);
      }
    }
  }

  void *handle = nullptr;
  int (*init)(int *, int *, int *, int *, char *, size_t) = nullptr;
  int (*reduceFn)(void *, int64_t, int, int, char *, size_t) = nullptr;
  int (*bcastFn)(void *, int64_t, int, char *, size_t) = nullptr;
  int (*finalizeFn)() = nullptr;
  void (*versionFn)(char *, size_t) = nullptr;
  int localSize = 1;
  bool finalized = false;
  std::atomic<int64_t> since{0};
  std::atomic<const char *> what{""};
  std::atomic<bool> stopping{false};
  std::thread watchdog;
};

std::unique_ptr<MPICommunicator> theWorld;

} // namespace

Communicator *world() { return theWorld.get(); }

int launchedRanks(std::string *launcher) {
  // Open MPI's mpirun, then PMI (MPICH's hydra, srun --mpi=pmi2), PMIx
  // (srun --mpi=pmix) and srun's own task count.
  struct Var {
    const char *name, *who;
  };
  for (Var v : {Var{"OMPI_COMM_WORLD_SIZE", "mpirun"}, Var{"PMI_SIZE", "PMI"},
                Var{"PMIX_SIZE", "PMIx"},
                Var{"SLURM_STEP_NUM_TASKS", "srun"}}) {
    if (const char *s = env(v.name)) {
      int n = std::atoi(s);
      if (n >= 1) {
        if (launcher)
          *launcher = v.who;
        return n;
      }
    }
  }
  return 1;
}

void initWorld(double timeoutSeconds, int64_t bucketBytes) {
  if (theWorld || launchedRanks() <= 1)
    return;
  theWorld = std::make_unique<MPICommunicator>(timeoutSeconds, bucketBytes);
}

void finalizeWorld() {
  if (theWorld)
    theWorld->finalize();
}

} // namespace snnrt::parallel
