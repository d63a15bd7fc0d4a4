//===- peak_cpu.cpp - this machine's float32 peak, and how it is derived ----===//
//
// peak = cores x FMA units per core x vector lanes x 2 flops x clock, with
//   cores:  the CPUs this process may run on (sched_getaffinity);
//   lanes:  16 floats with AVX-512, 8 with AVX2 (cpuid, as the runtime sees
//           it: runtime/cpu/CpuKernels.cpp);
//   clock:  measured while every core runs: a chain of dependent 64-bit
//           integer multiplies (3 cycles each on every x86-64 core since
//           Nehalem and Zen; a chain of adds is not a clock any more: newer
//           cores fold immediate adds at rename, several per cycle);
//   FMA units: measured: independent FMA chains on every core, flops per
//           cycle per core / (2 x lanes), rounded to a whole number of units.
// Prints the parts and the peak in GFLOP/s (the denominator of bench/'s
// "of peak" columns) as `peak_gflops N` on its last line.
//
//   snnc-bench-peak
//
//===----------------------------------------------------------------------===//
#include "runtime/cpu/CpuKernels.h"

#include <immintrin.h>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

/// Cycles per second on one thread: dependent multiplies, 3 cycles each.
double cyclesPerSecond() {
  const uint64_t n = 200000000;
  uint64_t x = 3;
  auto t0 = Clock::now();
  for (uint64_t i = 0; i < n; i += 8)
    __asm__ volatile("imul %0, %0\n\timul %0, %0\n\timul %0, %0\n\t"
                     "imul %0, %0\n\timul %0, %0\n\timul %0, %0\n\t"
                     "imul %0, %0\n\timul %0, %0"
                     : "+r"(x));
  double s = std::chrono::duration<double>(Clock::now() - t0).count();
  static volatile uint64_t keep;
  keep = x;
  return 3.0 * n / s;
}

/// Float32 flops per second on one thread: 16 independent FMA chains, more
/// than FMA latency x units, so the FMA ports never wait.
__attribute__((target("avx512f"))) double fmaFlops512() {
  __m512 acc[16];
  for (int i = 0; i < 16; ++i)
    acc[i] = _mm512_set1_ps(0.001f * i);
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  const int64_t n = 20000000;
  auto t0 = Clock::now();
  for (int64_t it = 0; it < n; ++it)
    for (int i = 0; i < 16; ++i)
      acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  double s = std::chrono::duration<double>(Clock::now() - t0).count();
  float sink = 0;
  for (int i = 0; i < 16; ++i)
    sink += _mm512_reduce_add_ps(acc[i]);
  static volatile float keep;
  keep = sink;
  return n * 16.0 * 16 * 2 / s;
}

__attribute__((target("avx2,fma"))) double fmaFlops256() {
  __m256 acc[16];
  for (int i = 0; i < 16; ++i)
    acc[i] = _mm256_set1_ps(0.001f * i);
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  const int64_t n = 20000000;
  auto t0 = Clock::now();
  for (int64_t it = 0; it < n; ++it)
    for (int i = 0; i < 16; ++i)
      acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  double s = std::chrono::duration<double>(Clock::now() - t0).count();
  float buf[8], sink = 0;
  for (int i = 0; i < 16; ++i) {
    _mm256_storeu_ps(buf, acc[i]);
    for (float v : buf)
      sink += v;
  }
  static volatile float keep;
  keep = sink;
  return n * 16.0 * 8 * 2 / s;
}

/// f() on every core at once; the mean of the per-thread results.
template <typename F> double onEveryCore(int cores, F f) {
  std::vector<double> r(cores);
  std::vector<std::thread> pool;
  for (int c = 0; c < cores; ++c)
    pool.emplace_back([&, c] { r[c] = f(); });
  for (std::thread &t : pool)
    t.join();
  double sum = 0;
  for (double v : r)
    sum += v;
  return sum / cores;
}

} // namespace

int main() {
  cpu_set_t set;
  sched_getaffinity(0, sizeof set, &set);
  int cores = CPU_COUNT(&set);
  snnrt::cpu::CpuFeatures f = snnrt::cpu::detectCpuFeatures();
  if (!f.avx2) {
    std::printf("cpu: no AVX2/FMA: no peak estimate\n");
    return 1;
  }
  int lanes = f.avx512 ? 16 : 8;
  double ghz = onEveryCore(cores, cyclesPerSecond) / 1e9;
  double flops = onEveryCore(cores, f.avx512 ? fmaFlops512 : fmaFlops256);
  double perCycle = flops / (ghz * 1e9);
  int units = std::max(1, static_cast<int>(std::lround(perCycle / (2 * lanes))));
  double peak = cores * units * lanes * 2 * ghz;
  std::printf("cores %d, %s: %d float lanes, clock %.2f GHz (dependent "
              "multiplies, all cores busy), FMA units %d (measured %.1f flops/cycle/core)\n",
              cores, f.avx512 ? "AVX-512" : "AVX2", lanes, ghz, units,
              perCycle);
  std::printf("peak = %d cores x %d FMA x %d lanes x 2 x %.2f GHz = %.1f "
              "GFLOP/s (float32)\n",
              cores, units, lanes, ghz, peak);
  std::printf("peak_gflops %.1f\n", peak);
  return 0;
}
