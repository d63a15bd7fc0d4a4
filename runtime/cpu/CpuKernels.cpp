//===- CpuKernels.cpp - the CPU kernels the runtime runs --------------------===//
//
// Chosen by measurement on 2 cores of an Intel Xeon (family 6, model 207,
// AVX-512 + AMX), against Debian's OpenBLAS 0.3.21, which knows this CPU
// only by family and model numbers and falls back to its SSE3 Prescott
// kernels on anything newer than itself (Fashion MLP step 25 ms; 8.7 ms with
// OPENBLAS_CORETYPE=SkylakeX). oneDNN's sgemm dispatches on the CPU's
// features and was as fast as OpenBLAS's SkylakeX kernels or faster on the
// dense layers' shapes (0.20-2.3 ms against 0.22-2.5 ms), and its
// convolutions 1.7-1.9x faster than im2col + OpenBLAS (Conv.cpp). So one
// library serves both, with nothing to set.
//
//===----------------------------------------------------------------------===//
#include "CpuKernels.h"

#include "snnrt/snnrt.h"

#include <dnnl.h>
#include <omp.h>

#include <cpuid.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>

namespace snnrt::cpu {
namespace {

uint64_t xgetbv0() {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

std::atomic<int64_t> flopCount{0};

} // namespace

CpuFeatures detectCpuFeatures() {
  CpuFeatures f;
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d))
    return f;
  bool osxsave = c & bit_OSXSAVE, fma = c & bit_FMA, avx = c & bit_AVX;
  uint64_t xcr0 = osxsave ? xgetbv0() : 0;
  bool ymmSaved = (xcr0 & 0x6) == 0x6;   // SSE and AVX state
  bool zmmSaved = (xcr0 & 0xe6) == 0xe6; // and opmask, ZMM0-15 hi, ZMM16-31
  bool tileSaved = (xcr0 & 0x60000) == 0x60000; // XTILECFG and XTILEDATA
  if (__get_cpuid_max(0, nullptr) < 7)
    return f;
  __cpuid_count(7, 0, a, b, c, d);
  f.avx2 = avx && fma && ymmSaved && (b & bit_AVX2);
  f.avx512 = f.avx2 && zmmSaved && (b & bit_AVX512F) && (b & bit_AVX512DQ) &&
             (b & bit_AVX512BW) && (b & bit_AVX512VL) && (b & bit_AVX512CD);
  f.amx = f.avx512 && tileSaved && (d & (1u << 24)) && (d & (1u << 22));
  unsigned a1, b1, c1, d1;
  __cpuid_count(7, 1, a1, b1, c1, d1);
  f.avx512bf16 = f.avx512 && (a1 & (1u << 5));
  return f;
}

VectorIsa oneDnnIsa() {
  dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
  auto has = [&](dnnl_cpu_isa_t bits) { return (isa & bits) == bits; };
  if (has(dnnl_cpu_isa_avx512_core_amx))
    return VectorIsa::Avx512Amx;
  if (has(dnnl_cpu_isa_avx512_core))
    return VectorIsa::Avx512;
  if (has(dnnl_cpu_isa_avx2))
    return VectorIsa::Avx2;
  if (has(dnnl_cpu_isa_avx))
    return VectorIsa::Avx;
  return VectorIsa::Sse41;
}

VectorIsa widestIsa(const CpuFeatures &f) {
  if (f.amx && f.avx512bf16)
    return VectorIsa::Avx512Amx;
  if (f.avx512)
    return VectorIsa::Avx512;
  if (f.avx2)
    return VectorIsa::Avx2;
  return VectorIsa::Sse41;
}

const char *isaName(VectorIsa isa) {
  switch (isa) {
  case VectorIsa::Sse41:
    return "SSE4.1";
  case VectorIsa::Avx:
    return "AVX";
  case VectorIsa::Avx2:
    return "AVX2";
  case VectorIsa::Avx512:
    return "AVX-512";
  case VectorIsa::Avx512Amx:
    return "AVX-512 + AMX";
  }
  return "?";
}

std::string cpuKernelsLine(int threads) {
  const dnnl_version_t *v = dnnl_version();
  return std::string("cpu: ") + isaName(widestIsa(detectCpuFeatures())) +
         ", " + std::to_string(threads) +
         (threads == 1 ? " thread" : " threads") +
         ", GEMM and convolution: oneDNN " + std::to_string(v->major) + "." +
         std::to_string(v->minor) + "." + std::to_string(v->patch) + " " +
         isaName(oneDnnIsa()) + " kernels";
}

std::string cpuKernelsWarning() {
  VectorIsa runs = oneDnnIsa(), has = widestIsa(detectCpuFeatures());
  if (runs >= has || runs >= VectorIsa::Avx2)
    return {};
  return std::string("oneDNN runs ") + isaName(runs) +
         " kernels on a CPU with " + isaName(has) +
         ": GEMMs and convolutions are several times slower than they could "
         "be (is ONEDNN_MAX_CPU_ISA or DNNL_MAX_CPU_ISA set?)";
}

void sgemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k,
           const float *a, int64_t lda, const float *b, int64_t ldb,
           float beta, float *c, int64_t ldc) {
  dnnl_status_t s = dnnl_sgemm(transA ? 'T' : 'N', transB ? 'T' : 'N', m, n,
                               k, 1.0f, a, lda, b, ldb, beta, c, ldc);
  if (s != dnnl_success) {
    std::fprintf(stderr,
                 "snnrt: error: oneDNN sgemm %lldx%lldx%lld failed (status "
                 "%d)\n",
                 (long long)m, (long long)n, (long long)k, static_cast<int>(s));
    std::exit(1);
  }
}

void countFlops(int64_t flops) {
  flopCount.fetch_add(flops, std::memory_order_relaxed);
}

} // namespace snnrt::cpu

extern "C" int64_t snnrt_get_flops(void) {
  return snnrt::cpu::flopCount.load(std::memory_order_relaxed);
}
