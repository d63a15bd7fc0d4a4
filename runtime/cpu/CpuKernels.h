//===- CpuKernels.h - which CPU kernels the runtime runs --------------------===//
//
// The CPU's instruction-set features, the OpenBLAS core chosen from them
// before OpenBLAS initializes (CpuKernels.cpp), and the trainer's one-line
// report of what runs.
//
//===----------------------------------------------------------------------===//
#ifndef SNNRT_CPU_CPUKERNELS_H
#define SNNRT_CPU_CPUKERNELS_H

#include <cblas.h>

#include <string>

namespace snnrt::cpu {

/// What the processor has and the operating system saves across switches.
struct CpuFeatures {
  bool avx2 = false;       // AVX2 and FMA
  bool avx512 = false;     // AVX-512 F, CD, DQ, BW, VL
  bool avx512bf16 = false; // AVX512-BF16
  bool amx = false;        // AMX tiles with BF16
  bool amd = false;        // AuthenticAMD
};

CpuFeatures detectCpuFeatures();

/// The OpenBLAS core (OPENBLAS_CORETYPE name) for these features, or null
/// where OpenBLAS's own choice is as good as any (no AVX2).
const char *openBlasCoreFor(const CpuFeatures &f);

/// Whether OpenBLAS's core name (openblas_get_corename) is one of its
/// pre-AVX2 kernel sets, which it also falls back to for unknown CPUs.
bool isGenericOpenBlasCore(const std::string &core);

/// "cpu: AVX-512 + AMX, 2 threads, GEMM: OpenBLAS SapphireRapids kernels".
std::string cpuKernelsLine(int threads);

/// Non-empty when a generic/SSE GEMM kernel runs on a CPU with AVX2 or
/// AVX-512.
std::string cpuKernelsWarning();

/// Opens OpenBLAS with the core chosen for this CPU, single-threaded inside
/// the runtime's OpenMP threads (Threads.h); every entry point calls it
/// before its first GEMM, outside any parallel region.
void useOneBlasThread();

/// cblas_sgemm of the OpenBLAS that useOneBlasThread opened.
void sgemm(CBLAS_ORDER order, CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb,
           blasint m, blasint n, blasint k, float alpha, const float *a,
           blasint lda, const float *b, blasint ldb, float beta, float *c,
           blasint ldc);

/// The name of OpenBLAS's kernel set (openblas_get_corename), e.g. SkylakeX.
std::string openBlasCoreName();

} // namespace snnrt::cpu

#endif
