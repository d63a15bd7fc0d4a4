//===- CpuKernels.h - the CPU kernels the runtime runs ----------------------===//
//
// The runtime's GEMMs and convolutions run on oneDNN, which dispatches on the
// CPU's instruction set at run time (AVX2, AVX-512, AMX): no build-machine or
// environment choice. This header says what the CPU has, which ISA oneDNN
// runs, and counts the floating-point work of the runtime's calls (for the
// benchmarks' GFLOP/s).
//
//===----------------------------------------------------------------------===//
#ifndef SNNRT_CPU_CPUKERNELS_H
#define SNNRT_CPU_CPUKERNELS_H

#include <cstdint>
#include <string>

namespace snnrt::cpu {

/// What the processor has and the operating system saves across switches
/// (cpuid and XGETBV).
struct CpuFeatures {
  bool avx2 = false;       // AVX2 and FMA
  bool avx512 = false;     // AVX-512 F, CD, DQ, BW, VL
  bool avx512bf16 = false; // AVX512-BF16
  bool amx = false;        // AMX tiles with BF16
};

CpuFeatures detectCpuFeatures();

/// oneDNN's ISA classes, widest first: the ISA oneDNN runs, and the widest
/// that the CPU's features allow.
enum class VectorIsa { Sse41, Avx, Avx2, Avx512, Avx512Amx };
VectorIsa oneDnnIsa();
VectorIsa widestIsa(const CpuFeatures &f);
const char *isaName(VectorIsa isa);

/// "cpu: AVX-512 + AMX, 2 threads, GEMM and convolution: oneDNN 2.6.3
/// (avx512_core_amx)".
std::string cpuKernelsLine(int threads);

/// Non-empty when oneDNN runs a narrower ISA than the CPU has (an
/// ONEDNN_MAX_CPU_ISA / DNNL_MAX_CPU_ISA limit, or a oneDNN that predates
/// the CPU).
std::string cpuKernelsWarning();

/// C = op(A) op(B) (+ beta C): row-major float32 GEMM (M x N, inner K) on
/// oneDNN; inside an OpenMP parallel region it runs on the calling thread.
void sgemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k,
           const float *a, int64_t lda, const float *b, int64_t ldb,
           float beta, float *c, int64_t ldc);

/// Adds to the count of floating-point operations of GEMMs and convolutions.
void countFlops(int64_t flops);

} // namespace snnrt::cpu

#endif
