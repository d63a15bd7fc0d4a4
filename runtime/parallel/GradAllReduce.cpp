//===- GradAllReduce.cpp - snn.grad_all_reduce on the CPU -------------------===//
//
// The compiled step calls snnrt_grad_all_reduce(g, i, count, mean) once per
// gradient (compiler/Conversion/SNNToRuntimeCalls.cpp); the buffers are
// collected and, when the last arrives, packed into buckets of at most
// Communicator::bucketBytes, each reduced in place by one MPI_Allreduce and
// unpacked (divided by the number of ranks for `mean`). With bucketBytes 0
// each gradient is reduced where it lies, one collective per tensor
// (bench/parallel/scaling.sh measures both).
//
//===----------------------------------------------------------------------===//
#include "Communicator.h"
#include "snnrt/snnrt.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace {

using snnrt::parallel::GradientBuffer;

std::vector<GradientBuffer> pending;
std::vector<float> bucket;

void reduceAll(snnrt::parallel::Communicator &c, bool mean) {
  using snnrt::parallel::Reduce;
  float scale = mean ? 1.0f / static_cast<float>(c.size()) : 1.0f;
  auto finish = [&](float *p, int64_t n) {
    if (mean)
      for (int64_t i = 0; i < n; ++i)
        p[i] *= scale;
  };
  if (c.bucketBytes <= 0) {
    for (const GradientBuffer &g : pending) {
      c.allReduce(g.data, g.n, Reduce::Sum, "the gradient all-reduce");
      finish(g.data, g.n);
    }
    return;
  }
  int64_t limit = std::max<int64_t>(c.bucketBytes / 4, 1);
  size_t first = 0;
  while (first < pending.size()) {
    // One bucket: gradients [first, last) (a gradient larger than the
    // limit goes alone, reduced in place).
    int64_t total = 0;
    size_t last = first;
    while (last < pending.size() &&
           (last == first || total + pending[last].n <= limit))
      total += pending[last++].n;
    if (last == first + 1) {
      c.allReduce(pending[first].data, total, Reduce::Sum,
                  "the gradient all-reduce");
      finish(pending[first].data, total);
    } else {
      bucket.resize(static_cast<size_t>(total));
      int64_t at = 0;
      for (size_t i = first; i < last; ++i) {
        std::memcpy(bucket.data() + at, pending[i].data,
                    pending[i].n * sizeof(float));
        at += pending[i].n;
      }
      c.allReduce(bucket.data(), total, Reduce::Sum, "the gradient all-reduce");
      finish(bucket.data(), total);
      at = 0;
      for (size_t i = first; i < last; ++i) {
        std::memcpy(pending[i].data, bucket.data() + at,
                    pending[i].n * sizeof(float));
        at += pending[i].n;
      }
    }
    first = last;
  }
}

} // namespace

extern "C" void _mlir_ciface_snnrt_grad_all_reduce(snnrt_memref1d *g,
                                                   int64_t index,
                                                   int64_t count,
                                                   int64_t mean) {
  snnrt::parallel::Communicator *c = snnrt::parallel::world();
  if (!c || c->size() == 1)
    return;
  // A collapsed identity-layout buffer: contiguous, stride 1.
  if (snnrt::parallel::collectGradient(pending, g->aligned + g->offset,
                                       g->sizes[0], index, count))
    reduceAll(*c, mean != 0);
}
