//===- MPIShim.cpp - libsnnmpi.so: the MPI calls of data parallelism -------===//
//
// The only code that includes mpi.h. It is built as a module against the
// MPI that CMake finds (Debian: OpenMPI) and opened with dlopen by
// Communicator.cpp when the trainer was started by mpirun or srun, so one
// trainer binary runs without MPI installed. Every call returns 0 or an
// MPI error code with MPI's message in `err`.
//
//===----------------------------------------------------------------------===//
// The C API only (Open MPI and MPICH would pull in their C++ bindings).
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

int failed(int rc, char *err, size_t len) {
  if (rc == MPI_SUCCESS)
    return 0;
  char text[MPI_MAX_ERROR_STRING];
  int n = 0;
  if (MPI_Error_string(rc, text, &n) != MPI_SUCCESS)
    std::snprintf(text, sizeof(text), "MPI error %d", rc);
  std::snprintf(err, len, "%s", text);
  return rc;
}

MPI_Datatype datatype(int type) {
  return type == 0 ? MPI_FLOAT : type == 1 ? MPI_DOUBLE : MPI_INT64_T;
}

MPI_Op operation(int op) {
  return op == 0 ? MPI_SUM : op == 1 ? MPI_MAX : MPI_MIN;
}

size_t elementBytes(int type) { return type == 0 ? 4 : 8; }

} // namespace

extern "C" {

/// MPI_Init_thread (serialized: the trainer's threads never call MPI at
/// the same time), errors returned rather than fatal, and the rank within
/// the node (for the GPU of a rank).
int snnmpi_init(int *rank, int *size, int *localRank, int *localSize,
                char *err, size_t len) {
#ifdef OMPI_MAJOR_VERSION
  // Open MPI started by srun takes its ranks from PMIx only (Debian's has
  // no PMI2); without it MPI_Init prints a page and exits, so say the one
  // thing to change.
  auto set = [](const char *name) {
    const char *v = std::getenv(name);
    return v && *v;
  };
  if (set("SLURM_STEP_NUM_TASKS") && !set("OMPI_COMM_WORLD_SIZE") &&
      !set("PMIX_RANK")) {
    std::snprintf(err, len,
                  "srun started this task without PMIx; Open MPI needs it: "
                  "srun --mpi=pmix ... (srun --mpi=list shows this Slurm's "
                  "plugins; MpiDefault=pmix in slurm.conf makes it the "
                  "default)");
    return -1;
  }
#endif
  int provided = 0;
  int rc = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided);
  if (failed(rc, err, len))
    return rc;
  if (provided < MPI_THREAD_SERIALIZED) {
    std::snprintf(err, len, "the MPI library gives thread level %d, the "
                            "trainer needs MPI_THREAD_SERIALIZED", provided);
    return -1;
  }
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  if ((rc = MPI_Comm_rank(MPI_COMM_WORLD, rank)) ||
      (rc = MPI_Comm_size(MPI_COMM_WORLD, size)))
    return failed(rc, err, len);
  MPI_Comm node;
  rc = MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, *rank,
                           MPI_INFO_NULL, &node);
  if (failed(rc, err, len))
    return rc;
  MPI_Comm_rank(node, localRank);
  MPI_Comm_size(node, localSize);
  MPI_Comm_free(&node);
  return 0;
}

/// In place over MPI_COMM_WORLD; counts beyond INT_MAX go in pieces.
int snnmpi_allreduce(void *buf, int64_t count, int type, int op, char *err,
                     size_t len) {
  char *p = static_cast<char *>(buf);
  while (count > 0) {
    int n = static_cast<int>(std::min<int64_t>(count, INT_MAX / 2));
    int rc = MPI_Allreduce(MPI_IN_PLACE, p, n, datatype(type), operation(op),
                           MPI_COMM_WORLD);
    if (failed(rc, err, len))
      return rc;
    p += static_cast<size_t>(n) * elementBytes(type);
    count -= n;
  }
  return 0;
}

int snnmpi_bcast(void *buf, int64_t bytes, int root, char *err, size_t len) {
  char *p = static_cast<char *>(buf);
  while (bytes > 0) {
    int n = static_cast<int>(std::min<int64_t>(bytes, INT_MAX / 2));
    int rc = MPI_Bcast(p, n, MPI_BYTE, root, MPI_COMM_WORLD);
    if (failed(rc, err, len))
      return rc;
    p += n;
    bytes -= n;
  }
  return 0;
}

int snnmpi_finalize(void) { return MPI_Finalize(); }

void snnmpi_library_version(char *out, size_t len) {
  char text[MPI_MAX_LIBRARY_VERSION_STRING];
  int n = 0;
  MPI_Get_library_version(text, &n);
  // The first line only ("Open MPI v4.1.4, package: ...").
  text[std::min<int>(n, MPI_MAX_LIBRARY_VERSION_STRING - 1)] = 0;
  if (char *nl = std::strchr(text, '\n'))
    *nl = 0;
  if (char *comma = std::strchr(text, ','))
    *comma = 0;
  std::snprintf(out, len, "%s", text);
}

} // extern "C"
