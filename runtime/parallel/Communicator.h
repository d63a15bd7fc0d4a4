//===- Communicator.h - the ranks of a data-parallel run ----------*- C++ -*-===//
//
// Data parallelism (docs/data-parallel.md) on MPI: the trainer started by
// `mpirun -np N` or `srun` opens libsnnmpi.so (MPIShim.cpp, the only code
// that links MPI) and every collective of the run goes through world():
// the compiled step's gradient all-reduce (GradAllReduce.cpp), the
// trainer's per-step statistics, the evaluation's counts, the parameter
// checksum and the checkpoint broadcast. In a single process world() is
// null and nothing of this runs.
//
// A collective that does not complete within the timeout (a rank died or
// hangs) ends the process with one line; mpirun and srun then stop the
// other ranks.
//
//===----------------------------------------------------------------------===//
#ifndef SNNRT_PARALLEL_COMMUNICATOR_H
#define SNNRT_PARALLEL_COMMUNICATOR_H

#include <cstdint>
#include <string>
#include <vector>

namespace snnrt::parallel {

enum class Reduce { Sum = 0, Max = 1, Min = 2 };

class Communicator {
public:
  virtual ~Communicator() = default;
  int rank() const { return rank_; }
  int size() const { return size_; }
  /// The rank within its node (picks the GPU of the rank).
  int localRank() const { return localRank_; }
  /// The MPI library, e.g. "Open MPI v4.1.4".
  const std::string &library() const { return library_; }

  /// In place; `what` names the collective in a timeout's message.
  virtual void allReduce(float *data, int64_t n, Reduce op,
                         const char *what) = 0;
  virtual void allReduce(double *data, int64_t n, Reduce op,
                         const char *what) = 0;
  virtual void allReduce(int64_t *data, int64_t n, Reduce op,
                         const char *what) = 0;
  virtual void broadcast(void *data, int64_t bytes, int root,
                         const char *what) = 0;

  /// Gradient buckets of at most this many bytes (0: one collective per
  /// gradient tensor; the default, no limit: one collective per step).
  int64_t bucketBytes = INT64_MAX;
  /// Seconds a collective may wait for the other ranks.
  double timeoutSeconds = 300;

protected:
  int rank_ = 0, size_ = 1, localRank_ = 0;
  std::string library_;
};

/// One gradient of a step's snn.grad_all_reduce (a contiguous buffer, on
/// the host or the device).
struct GradientBuffer {
  float *data;
  int64_t n;
};

/// The compiled step hands its gradients over one call each (index of
/// count): collects them into `step`; true when this was the last one.
inline bool collectGradient(std::vector<GradientBuffer> &step, float *data,
                            int64_t n, int64_t index, int64_t count) {
  if (index == 0)
    step.clear();
  step.push_back({data, n});
  return index + 1 == count;
}

/// The ranks of this run, or null in a single process.
Communicator *world();

/// The number of ranks the launcher (mpirun, srun) started, from its
/// environment; 1 when the trainer was started on its own.
int launchedRanks(std::string *launcher = nullptr);

/// Opens MPI when launchedRanks() > 1 (throws std::runtime_error with one
/// line when it cannot) and makes world() non-null. Idempotent.
void initWorld(double timeoutSeconds, int64_t bucketBytes);

/// MPI_Finalize, at the end of a run that reached it on every rank.
void finalizeWorld();

} // namespace snnrt::parallel

#endif
