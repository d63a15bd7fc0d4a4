//===- NCCL.h - the GPU side of data parallelism ------------------*- C++ -*-===//
#ifndef SNNRT_PARALLEL_NCCL_H
#define SNNRT_PARALLEL_NCCL_H

#include <string>

namespace snnrt::parallel {
class Communicator;
/// Opens libnccl and creates the communicator of all ranks (rank 0's id
/// broadcast over MPI); returns "NCCL x.y.z". Throws cuda::CudaError.
std::string initNCCL(Communicator &c);
} // namespace snnrt::parallel

#endif
