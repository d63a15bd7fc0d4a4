//===- CpuKernelsTest.cpp - OpenBLAS kernels chosen from the CPU's features -===//
//
// runtime/cpu/CpuKernels.cpp: the core chosen for each feature set, and, on
// this machine, that the OpenBLAS the runtime opened runs a kernel set that
// matches the CPU (asked of OpenBLAS itself: openblas_get_corename), never
// its generic SSE fallback on a CPU with AVX2 or AVX-512.
//
//===----------------------------------------------------------------------===//
#include "runtime/cpu/CpuKernels.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace {

using snnrt::cpu::CpuFeatures;

CpuFeatures features(bool avx2, bool avx512, bool amd = false) {
  CpuFeatures f;
  f.avx2 = avx2;
  f.avx512 = avx512;
  f.amd = amd;
  return f;
}

TEST(CpuKernels, CoreForEachFeatureSet) {
  EXPECT_EQ(snnrt::cpu::openBlasCoreFor(features(false, false)), nullptr);
  EXPECT_STREQ(snnrt::cpu::openBlasCoreFor(features(true, false)), "Haswell");
  EXPECT_STREQ(snnrt::cpu::openBlasCoreFor(features(true, false, true)), "Zen");
  EXPECT_STREQ(snnrt::cpu::openBlasCoreFor(features(true, true)), "SkylakeX");
  EXPECT_STREQ(snnrt::cpu::openBlasCoreFor(features(true, true, true)),
               "SkylakeX");
}

TEST(CpuKernels, GenericCoresAreRecognized) {
  for (const char *old : {"Prescott", "Core2", "Nehalem", "Atom", "Unknown"})
    EXPECT_TRUE(snnrt::cpu::isGenericOpenBlasCore(old)) << old;
  for (const char *good : {"Haswell", "SkylakeX", "Cooperlake", "Zen"})
    EXPECT_FALSE(snnrt::cpu::isGenericOpenBlasCore(good)) << good;
}

TEST(CpuKernels, OpenBlasMatchesThisCpu) {
  if (std::getenv("OPENBLAS_CORETYPE"))
    GTEST_SKIP() << "OPENBLAS_CORETYPE is set: the user chose the core";
  snnrt::cpu::useOneBlasThread();
  CpuFeatures f = snnrt::cpu::detectCpuFeatures();
  std::string core = snnrt::cpu::openBlasCoreName();
  std::string line = snnrt::cpu::cpuKernelsLine(2);
  EXPECT_NE(line.find("GEMM: OpenBLAS " + core + " kernels"), std::string::npos)
      << line;
  EXPECT_NE(line.find("2 threads"), std::string::npos) << line;
  if (f.avx2) {
    EXPECT_FALSE(snnrt::cpu::isGenericOpenBlasCore(core)) << core;
    EXPECT_EQ(snnrt::cpu::cpuKernelsWarning(), "");
  }
  if (f.avx512) {
    EXPECT_EQ(core, "SkylakeX");
    EXPECT_NE(line.find("cpu: AVX-512"), std::string::npos) << line;
  }
}

} // namespace
