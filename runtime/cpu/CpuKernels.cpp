//===- CpuKernels.cpp - OpenBLAS kernels chosen from the CPU's features ----===//
//
// Debian's OpenBLAS (0.3.21, DYNAMIC_ARCH) picks its kernels from the CPU's
// family and model numbers, and falls back to its SSE3 "Prescott" kernels on
// any processor newer than the build (an Intel Xeon of family 6, model 207:
// Fashion MLP step 25 ms instead of 8.7). It chooses once, in its own ELF
// constructor, from OPENBLAS_CORETYPE. So the runtime opens OpenBLAS itself
// (dlopen, like cuBLAS), after choosing the core from the CPU's
// instruction-set features (cpuid and XGETBV: what the processor has and the
// OS saves). A user's own OPENBLAS_CORETYPE is left as it is. (Setting the
// variable from a .preinit_array entry does not work: libc's own initializer
// resets environ to the process's original environment afterwards.)
//
//===----------------------------------------------------------------------===//
#include "CpuKernels.h"

#include <cpuid.h>
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace snnrt::cpu {
namespace {

/// The OpenBLAS entry points the runtime calls, opened once.
struct OpenBlas {
  decltype(&cblas_sgemm) sgemm = nullptr;
  void (*setNumThreads)(int) = nullptr;
  char *(*coreName)() = nullptr;
  bool userCore = false; // OPENBLAS_CORETYPE was set by the user
};

const OpenBlas &openBlas();

uint64_t xgetbv0() {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

} // namespace

CpuFeatures detectCpuFeatures() {
  CpuFeatures f;
  unsigned a, b, c, d;
  if (!__get_cpuid(0, &a, &b, &c, &d))
    return f;
  f.amd = b == 0x68747541; // "AuthenticAMD"
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

const char *openBlasCoreFor(const CpuFeatures &f) {
  // Measured on an Intel Xeon of family 6, model 207 (Emerald Rapids) with
  // Debian's 0.3.21, Fashion MLP step: Prescott (its own choice) 25.1 ms,
  // Haswell 13.7, SkylakeX 8.7, CooperLake 9.4. This OpenBLAS has no
  // SapphireRapids core; its FP32 GEMM would be SkylakeX's anyway.
  if (f.avx512)
    return "SkylakeX";
  if (f.avx2)
    return f.amd ? "Zen" : "Haswell";
  return nullptr;
}

bool isGenericOpenBlasCore(const std::string &core) {
  std::string c;
  for (char ch : core)
    c += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  for (const char *old : {"prescott", "core2", "penryn", "dunnington",
                          "nehalem", "atom", "katmai", "coppermine",
                          "northwood", "banias", "athlon", "opteron",
                          "barcelona", "bobcat", "generic", "unknown"})
    if (c == old)
      return true;
  return false;
}

std::string openBlasCoreName() { return openBlas().coreName(); }

std::string cpuKernelsLine(int threads) {
  CpuFeatures f = detectCpuFeatures();
  std::string isa = f.avx512 ? (f.amx ? "AVX-512 + AMX" : "AVX-512")
                    : f.avx2 ? "AVX2"
                             : "SSE";
  std::string core = openBlasCoreName();
  std::string line = "cpu: " + isa + ", " + std::to_string(threads) +
                     (threads == 1 ? " thread" : " threads") +
                     ", GEMM: OpenBLAS " + core + " kernels";
  const char *env = std::getenv("OPENBLAS_CORETYPE");
  if (openBlas().userCore && env)
    line += std::string(" (OPENBLAS_CORETYPE=") + env + ")";
  return line;
}

std::string cpuKernelsWarning() {
  CpuFeatures f = detectCpuFeatures();
  std::string core = openBlasCoreName();
  if ((f.avx2 || f.avx512) && isGenericOpenBlasCore(core))
    return std::string("OpenBLAS runs its generic ") + core +
           " kernels on a CPU with " + (f.avx512 ? "AVX-512" : "AVX2") +
           ": GEMMs are several times slower than they could be (is "
           "OPENBLAS_CORETYPE set to an old core?)";
  return {};
}

namespace {

template <typename F> F symbol(void *lib, const char *name) {
  void *p = dlsym(lib, name);
  if (!p) {
    std::fprintf(stderr, "snnrt: error: OpenBLAS (libopenblas.so.0) has no %s\n",
                 name);
    std::exit(1);
  }
  return reinterpret_cast<F>(p);
}

OpenBlas load() {
  OpenBlas b;
  b.userCore = std::getenv("OPENBLAS_CORETYPE") != nullptr;
  if (!b.userCore)
    if (const char *core = openBlasCoreFor(detectCpuFeatures()))
      setenv("OPENBLAS_CORETYPE", core, 0);
  void *lib = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
  if (!b.userCore)
    unsetenv("OPENBLAS_CORETYPE"); // not inherited by child processes
  if (!lib) {
    std::fprintf(stderr,
                 "snnrt: error: cannot load OpenBLAS (libopenblas.so.0, Debian "
                 "package libopenblas0): %s\n",
                 dlerror());
    std::exit(1);
  }
  b.sgemm = symbol<decltype(b.sgemm)>(lib, "cblas_sgemm");
  b.setNumThreads = symbol<void (*)(int)>(lib, "openblas_set_num_threads");
  b.coreName = symbol<char *(*)()>(lib, "openblas_get_corename");
  // OpenBLAS runs single-threaded inside the runtime's OpenMP threads.
  b.setNumThreads(1);
  return b;
}

const OpenBlas &openBlas() {
  static const OpenBlas b = load();
  return b;
}

} // namespace

void useOneBlasThread() { (void)openBlas(); }

void sgemm(CBLAS_ORDER order, CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb,
           blasint m, blasint n, blasint k, float alpha, const float *a,
           blasint lda, const float *b, blasint ldb, float beta, float *c,
           blasint ldc) {
  openBlas().sgemm(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c,
                   ldc);
}

} // namespace snnrt::cpu
