//===- conv_cpu.cpp - CPU convolution: the runtime's against direct loops --===//
//
// This program times, for the MNIST CNN's convolutions (T = 5, batch 64:
// 320 images), the forward convolution of the runtime (runtime/cpu/Conv.cpp:
// oneDNN's primitives, reorders included) against a direct convolution (the
// loops over output channels, kernel taps and rows, vectorized along the
// output row), checks that both agree, and prints the ratio. It then times
// the three runtime calls a train step makes per convolution (forward,
// gradient to the input, gradient to the weights), the numbers to watch
// when the runtime's convolutions change.
//
//   snnc-bench-conv [repetitions]
//
//===----------------------------------------------------------------------===//
#include "snnrt/snnrt.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <thread>
#include <vector>

namespace {

struct Shape {
  const char *name;
  int64_t n, c, h, w, o, k;
};

snnrt_memref4d view(std::vector<float> &v, int64_t a, int64_t b, int64_t c,
                    int64_t d) {
  return {v.data(), v.data(), 0, {a, b, c, d}, {b * c * d, c * d, d, 1}};
}

/// out[n][oc][y][x] = sum_{ci,ky,kx} w[oc][ci][ky][kx] in[n][ci][y+ky][x+kx]
/// (stride 1, no padding), accumulating whole output rows.
void directConv(const Shape &s, const float *in, const float *w, float *out,
                int64_t n0, int64_t n1) {
  int64_t oh = s.h - s.k + 1, ow = s.w - s.k + 1;
  for (int64_t n = n0; n < n1; ++n)
    for (int64_t oc = 0; oc < s.o; ++oc) {
      float *o = out + (n * s.o + oc) * oh * ow;
      std::fill(o, o + oh * ow, 0.0f);
      for (int64_t ci = 0; ci < s.c; ++ci) {
        const float *img = in + (n * s.c + ci) * s.h * s.w;
        for (int64_t ky = 0; ky < s.k; ++ky)
          for (int64_t kx = 0; kx < s.k; ++kx) {
            float wv = w[((oc * s.c + ci) * s.k + ky) * s.k + kx];
            for (int64_t y = 0; y < oh; ++y) {
              const float *row = img + (y + ky) * s.w + kx;
              float *orow = o + y * ow;
              for (int64_t x = 0; x < ow; ++x)
                orow[x] += wv * row[x];
            }
          }
      }
    }
}

/// The direct loops on every core, images split evenly.
void directConvParallel(const Shape &s, const float *in, const float *w,
                        float *out) {
  int64_t threads = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (int64_t t = 0; t < threads; ++t)
    pool.emplace_back(directConv, std::cref(s), in, w, out,
                      s.n * t / threads, s.n * (t + 1) / threads);
  for (std::thread &t : pool)
    t.join();
}

template <typename F> double bestMs(int reps, F &&f) {
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double, std::milli>(
                              std::chrono::steady_clock::now() - t0)
                              .count());
  }
  return best;
}

} // namespace

int main(int argc, char **argv) {
  int reps = argc > 1 ? std::atoi(argv[1]) : 10;
  const Shape shapes[] = {{"conv1 1->15, 28x28, 5x5", 320, 1, 28, 28, 15, 5},
                          {"conv2 15->40, 12x12, 5x5", 320, 15, 12, 12, 40, 5}};
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  auto random = [&](size_t n) {
    std::vector<float> v(n);
    for (float &x : v)
      x = u(rng);
    return v;
  };
  std::printf("%-28s %12s %12s %8s %12s\n", "forward convolution", "runtime ms",
              "direct ms", "ratio", "max |diff|");
  int bad = 0;
  for (const Shape &s : shapes) {
    int64_t oh = s.h - s.k + 1, ow = s.w - s.k + 1;
    std::vector<float> in = random(s.n * s.c * s.h * s.w),
                       w = random(s.o * s.c * s.k * s.k),
                       a(s.n * s.o * oh * ow), b(a.size());
    snnrt_memref4d vin = view(in, s.n, s.c, s.h, s.w),
                   vw = view(w, s.o, s.c, s.k, s.k),
                   va = view(a, s.n, s.o, oh, ow);
    double runtime = bestMs(reps, [&] {
      _mlir_ciface_snnrt_conv2d_forward(&vin, &vw, &va, 1, 1, 0, 0);
    });
    double direct =
        bestMs(reps, [&] { directConvParallel(s, in.data(), w.data(), b.data()); });
    double diff = 0;
    for (size_t i = 0; i < a.size(); ++i)
      diff = std::max(diff, double(std::fabs(a[i] - b[i])));
    bad += diff > 1e-3;
    std::printf("%-28s %12.2f %12.2f %7.2fx %12.2e\n", s.name, runtime, direct,
                direct / runtime, diff);
  }
  std::printf("(best of %d; ratio = direct / runtime; both on all %u cores)\n",
              reps, std::thread::hardware_concurrency());

  std::printf("\n%-28s %12s %12s %12s\n", "runtime calls (ms)", "forward",
              "grad input", "grad weight");
  for (const Shape &s : shapes) {
    int64_t oh = s.h - s.k + 1, ow = s.w - s.k + 1;
    std::vector<float> in = random(s.n * s.c * s.h * s.w),
                       w = random(s.o * s.c * s.k * s.k),
                       out = random(s.n * s.o * oh * ow), dw(w.size());
    snnrt_memref4d vin = view(in, s.n, s.c, s.h, s.w),
                   vw = view(w, s.o, s.c, s.k, s.k),
                   vdw = view(dw, s.o, s.c, s.k, s.k),
                   vout = view(out, s.n, s.o, oh, ow);
    std::vector<float> fwd(out.size());
    snnrt_memref4d vfwd = view(fwd, s.n, s.o, oh, ow);
    double f = bestMs(reps, [&] {
      _mlir_ciface_snnrt_conv2d_forward(&vin, &vw, &vfwd, 1, 1, 0, 0);
    });
    double gi = bestMs(reps, [&] {
      _mlir_ciface_snnrt_conv2d_grad_input(&vout, &vw, &vin, 1, 1, 0, 0);
    });
    double gw = bestMs(reps, [&] {
      _mlir_ciface_snnrt_conv2d_grad_weight(&vin, &vout, &vdw, 1, 1, 0, 0);
    });
    std::printf("%-28s %12.2f %12.2f %12.2f\n", s.name, f, gi, gw);
  }
  return bad ? 1 : 0;
}
