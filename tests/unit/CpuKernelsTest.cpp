//===- CpuKernelsTest.cpp - the CPU kernels match the processor -------------===//
//
// runtime/cpu/CpuKernels.cpp: the widest ISA class for each feature set,
// and, on this machine, that oneDNN (which runs the runtime's GEMMs and
// convolutions) runs kernels as wide as the CPU allows (asked of oneDNN
// itself: dnnl_get_effective_cpu_isa), never SSE on a CPU with AVX2 or
// AVX-512; the startup line says so. The flop counter counts 2 M N K per
// GEMM.
//
//===----------------------------------------------------------------------===//
#include "runtime/cpu/CpuKernels.h"
#include "snnrt/snnrt.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace {

using snnrt::cpu::CpuFeatures;
using snnrt::cpu::VectorIsa;

TEST(CpuKernels, WidestIsaForEachFeatureSet) {
  CpuFeatures f;
  EXPECT_EQ(snnrt::cpu::widestIsa(f), VectorIsa::Sse41);
  f.avx2 = true;
  EXPECT_EQ(snnrt::cpu::widestIsa(f), VectorIsa::Avx2);
  f.avx512 = true;
  EXPECT_EQ(snnrt::cpu::widestIsa(f), VectorIsa::Avx512);
  f.amx = true; // AMX without AVX512-BF16 is not oneDNN's AMX class
  EXPECT_EQ(snnrt::cpu::widestIsa(f), VectorIsa::Avx512);
  f.avx512bf16 = true;
  EXPECT_EQ(snnrt::cpu::widestIsa(f), VectorIsa::Avx512Amx);
  EXPECT_STREQ(snnrt::cpu::isaName(VectorIsa::Avx512Amx), "AVX-512 + AMX");
}

TEST(CpuKernels, OneDnnRunsWhatThisCpuHas) {
  if (std::getenv("ONEDNN_MAX_CPU_ISA") || std::getenv("DNNL_MAX_CPU_ISA"))
    GTEST_SKIP() << "the user limited oneDNN's ISA";
  CpuFeatures f = snnrt::cpu::detectCpuFeatures();
  VectorIsa runs = snnrt::cpu::oneDnnIsa();
  std::string line = snnrt::cpu::cpuKernelsLine(2);
  EXPECT_NE(line.find(std::string("oneDNN ")), std::string::npos) << line;
  EXPECT_NE(line.find(std::string(snnrt::cpu::isaName(runs)) + " kernels"),
            std::string::npos)
      << line;
  EXPECT_NE(line.find("2 threads"), std::string::npos) << line;
  if (f.avx2)
    EXPECT_GE(runs, VectorIsa::Avx2) << line;
  if (f.avx512)
    EXPECT_GE(runs, VectorIsa::Avx512) << line;
  EXPECT_EQ(snnrt::cpu::cpuKernelsWarning(), "");
}

TEST(CpuKernels, CountsGemmFlops) {
  std::vector<float> a(3 * 4, 1.0f), b(5 * 4, 1.0f), c(3 * 5, 0.0f);
  snnrt_memref2d ma{a.data(), a.data(), 0, {3, 4}, {4, 1}},
      mb{b.data(), b.data(), 0, {5, 4}, {4, 1}},
      mc{c.data(), c.data(), 0, {3, 5}, {5, 1}};
  int64_t before = snnrt_get_flops();
  _mlir_ciface_snnrt_matmul_nt(&ma, &mb, &mc);
  EXPECT_EQ(snnrt_get_flops() - before, 2 * 3 * 5 * 4);
  EXPECT_EQ(c[0], 4.0f);
}

} // namespace
