//===- Conv.cpp - convolutions on oneDNN's primitives -----------------------===//
//
// The three convolutions of a train step (forward, gradient to the input,
// gradient to the weights) run as oneDNN primitives, which dispatch on the
// CPU's instruction set (AVX2, AVX-512, AMX) and pick their own blocked
// layouts: the runtime's NCHW tensors are reordered into them and back.
// Measured on 2 cores of an Intel Xeon (family 6, model 207; the MNIST CNN's
// conv2, 320 images 15 -> 40 channels, 12x12, 5x5), reorders included:
// forward / grad input / grad weight 2.7 / 2.8 / 4.5 ms against 5.1 / 4.5 /
// 7.9 ms for the im2col + OpenBLAS GEMM it replaces (Fashion CNN's conv2:
// 7.9 / 7.6 / 8.4 against 14.1 / 13.2 / 17.3 ms). Primitives are created once
// per geometry and kept.
//
// snnrt_conv2d_grad_cols, the GPU form's CPU entry point (one GEMM per image
// into the im2col matrix's gradient), stays a GEMM.
//
//===----------------------------------------------------------------------===//
#include "snnrt/snnrt.h"

#include "CpuKernels.h"

#include <dnnl.hpp>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace {

enum class ConvKind { Forward, GradInput, GradWeight };

/// Everything that selects a primitive: the kind, the three tensors' sizes
/// and strides, and the convolution's strides and paddings.
using ConvKey = std::array<int64_t, 1 + 3 * 8 + 4>;

dnnl::engine &cpuEngine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::memory::desc plainDesc(const snnrt_memref4d *m) {
  return dnnl::memory::desc(
      {m->sizes[0], m->sizes[1], m->sizes[2], m->sizes[3]},
      dnnl::memory::data_type::f32,
      {m->strides[0], m->strides[1], m->strides[2], m->strides[3]});
}

/// Copies the [N, C, H, W] tensor `from` into the first C channels of `to`
/// (or, `back`, those channels of `to` into `from`), both with their own
/// strides.
void copyChannels(const dnnl::memory &from, const dnnl::memory &to, bool back) {
  dnnl::memory::desc fd = from.get_desc(), td = to.get_desc();
  dnnl::memory::dims d = fd.dims();
  const dnnl_dims_t &fs = fd.data.format_desc.blocking.strides;
  const dnnl_dims_t &ts = td.data.format_desc.blocking.strides;
  float *f = static_cast<float *>(from.get_data_handle());
  float *t = static_cast<float *>(to.get_data_handle());
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t n = 0; n < d[0]; ++n)
    for (int64_t c = 0; c < d[1]; ++c)
      for (int64_t h = 0; h < d[2]; ++h)
        for (int64_t w = 0; w < d[3]; ++w) {
          float &x = f[n * fs[0] + c * fs[1] + h * fs[2] + w * fs[3]];
          float &y = t[n * ts[0] + c * ts[1] + h * ts[2] + w * ts[3]];
          if (back)
            x = y;
          else
            y = x;
        }
}

/// One argument of a primitive: the caller's NCHW buffer and, where the
/// primitive wants another layout, its own buffer and the reorder between.
/// The primitive's tensor may have more channels than the caller's (see
/// prepare()'s padded gradient to the weights): the caller's are then
/// copied into (or out of) the first channels of a dense NCHW buffer whose
/// other channels stay zero, and that is reordered (oneDNN's reorders into
/// a part of a blocked tensor are its slow generic ones).
struct Argument {
  int arg;
  bool output;
  dnnl::memory user, inner, padded;
  dnnl::reorder convert;

  Argument(int arg, bool output, const dnnl::memory::desc &userDesc,
           const dnnl::memory::desc &innerDesc)
      : arg(arg), output(output),
        user(userDesc, cpuEngine(), DNNL_MEMORY_NONE) {
    if (innerDesc == userDesc)
      return;
    inner = dnnl::memory(innerDesc, cpuEngine());
    dnnl::memory from = user;
    if (innerDesc.dims() != userDesc.dims()) {
      padded = dnnl::memory(dnnl::memory::desc(innerDesc.dims(),
                                               dnnl::memory::data_type::f32,
                                               dnnl::memory::format_tag::abcd),
                            cpuEngine());
      std::memset(padded.get_data_handle(), 0, padded.get_desc().get_size());
      from = padded;
    }
    convert = output ? dnnl::reorder(inner, from) : dnnl::reorder(from, inner);
  }
  const dnnl::memory &operand() const { return inner ? inner : user; }
  void in(dnnl::stream &stream) {
    if (!inner || output)
      return;
    if (padded)
      copyChannels(user, padded, false);
    convert.execute(stream, padded ? padded : user, inner);
  }
  void out(dnnl::stream &stream) {
    if (!inner || !output)
      return;
    convert.execute(stream, inner, padded ? padded : user);
    if (padded) {
      stream.wait();
      copyChannels(user, padded, true);
    }
  }
};

/// A convolution primitive with its arguments, ready to run on new buffers.
struct PreparedConv {
  dnnl::primitive primitive;
  std::vector<Argument> arguments; // in the order of run()'s buffers

  void run(const std::vector<float *> &buffers) {
    dnnl::stream stream(cpuEngine());
    std::unordered_map<int, dnnl::memory> args;
    for (size_t i = 0; i < arguments.size(); ++i) {
      Argument &a = arguments[i];
      a.user.set_data_handle(buffers[i]);
      a.in(stream);
      args.emplace(a.arg, a.operand());
    }
    primitive.execute(stream, args);
    for (Argument &a : arguments)
      a.out(stream);
    stream.wait();
  }
};

/// img [N, C, H, W] (the forward input, or its gradient), w [O, C, KH, KW]
/// (or its gradient), out [N, O, OH, OW] (the forward output, or its
/// gradient).
PreparedConv prepare(ConvKind kind, const snnrt_memref4d *img,
                     const snnrt_memref4d *w, const snnrt_memref4d *out,
                     int64_t sh, int64_t sw, int64_t ph, int64_t pw) {
  using tag = dnnl::memory::format_tag;
  using dt = dnnl::memory::data_type;
  dnnl::memory::desc imgUser = plainDesc(img), wUser = plainDesc(w),
                     outUser = plainDesc(out);
  dnnl::memory::desc imgAny(imgUser.dims(), dt::f32, tag::any),
      wAny(wUser.dims(), dt::f32, tag::any),
      outAny(outUser.dims(), dt::f32, tag::any);
  dnnl::memory::dims strides{sh, sw};
  // oneDNN's right padding: what makes the output size come out exactly.
  int64_t phr = (out->sizes[2] - 1) * sh + w->sizes[2] - img->sizes[2] - ph;
  int64_t pwr = (out->sizes[3] - 1) * sw + w->sizes[3] - img->sizes[3] - pw;
  dnnl::memory::dims padL{ph, pw}, padR{phr, pwr};
  auto alg = dnnl::algorithm::convolution_direct;
  // The forward primitive for image and kernel descriptors `i` and `k` (the
  // backward ones take it as their hint).
  auto forwardFor = [&](const dnnl::memory::desc &i, const dnnl::memory::desc &k) {
    return dnnl::convolution_forward::primitive_desc(
        dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, alg,
                                        i, k, outAny, strides, padL, padR),
        cpuEngine());
  };
  dnnl::convolution_forward::primitive_desc forward = forwardFor(imgAny, wAny);
  PreparedConv p;
  switch (kind) {
  case ConvKind::Forward:
    p.primitive = dnnl::convolution_forward(forward);
    p.arguments = {{DNNL_ARG_SRC, false, imgUser, forward.src_desc()},
                   {DNNL_ARG_WEIGHTS, false, wUser, forward.weights_desc()},
                   {DNNL_ARG_DST, true, outUser, forward.dst_desc()}};
    break;
  case ConvKind::GradInput: {
    dnnl::convolution_backward_data::primitive_desc pd(
        dnnl::convolution_backward_data::desc(alg, imgAny, wAny, outAny,
                                              strides, padL, padR),
        cpuEngine(), forward);
    p.primitive = dnnl::convolution_backward_data(pd);
    p.arguments = {{DNNL_ARG_DIFF_DST, false, outUser, pd.diff_dst_desc()},
                   {DNNL_ARG_WEIGHTS, false, wUser, pd.weights_desc()},
                   {DNNL_ARG_DIFF_SRC, true, imgUser, pd.diff_src_desc()}};
    break;
  }
  case ConvKind::GradWeight: {
    // With `channels` input channels (the image's, or more: zero channels
    // whose weights' gradient is dropped).
    auto gradWeight = [&](int64_t channels) {
      dnnl::memory::dims id = imgUser.dims(), wd = wUser.dims();
      id[1] = wd[1] = channels;
      dnnl::memory::desc i(id, dt::f32, tag::any), k(wd, dt::f32, tag::any);
      return dnnl::convolution_backward_weights::primitive_desc(
          dnnl::convolution_backward_weights::desc(alg, i, k, outAny, strides,
                                                   padL, padR),
          cpuEngine(), forwardFor(i, k));
    };
    // oneDNN 2.6's AVX-512 kernel for this gradient wants a multiple of 16
    // input channels and otherwise runs its AVX2 one: padded with zero
    // channels, the MNIST CNN's conv2 (320 images, 15 -> 40 channels, 12x12,
    // 5x5) took 2.5 ms instead of 5.8 (AMD EPYC family 26, 2 threads).
    // Padded only where that changes the kernel, so the choice depends on
    // the CPU alone.
    auto isa512 = [](const dnnl::primitive_desc_base &pd) {
      return std::strstr(pd.impl_info_str(), "avx512") != nullptr;
    };
    int64_t channels = img->sizes[1];
    dnnl::convolution_backward_weights::primitive_desc pd = gradWeight(channels);
    if (channels % 16 != 0 && !isa512(pd)) {
      auto padded = gradWeight((channels + 15) / 16 * 16);
      if (isa512(padded))
        pd = padded;
    }
    p.primitive = dnnl::convolution_backward_weights(pd);
    p.arguments = {
        {DNNL_ARG_SRC, false, imgUser, pd.src_desc()},
        {DNNL_ARG_DIFF_DST, false, outUser, pd.diff_dst_desc()},
        {DNNL_ARG_DIFF_WEIGHTS, true, wUser, pd.diff_weights_desc()}};
    break;
  }
  }
  return p;
}

void put(ConvKey &key, size_t &i, const snnrt_memref4d *m) {
  for (int d = 0; d < 4; ++d) {
    key[i++] = m->sizes[d];
    key[i++] = m->strides[d];
  }
}

/// Runs the convolution `kind` on the callers' buffers (in the order of
/// prepare()'s arguments), creating its primitive on first use.
void convolve(ConvKind kind, const snnrt_memref4d *img,
              const snnrt_memref4d *w, const snnrt_memref4d *out, int64_t sh,
              int64_t sw, int64_t ph, int64_t pw,
              const std::vector<float *> &buffers) {
  ConvKey key{};
  size_t i = 0;
  key[i++] = static_cast<int64_t>(kind);
  put(key, i, img);
  put(key, i, w);
  put(key, i, out);
  key[i++] = sh;
  key[i++] = sw;
  key[i++] = ph;
  key[i++] = pw;
  static std::mutex mutex;
  static std::map<ConvKey, std::unique_ptr<PreparedConv>> prepared;
  std::lock_guard<std::mutex> lock(mutex);
  try {
    std::unique_ptr<PreparedConv> &p = prepared[key];
    if (!p)
      p = std::make_unique<PreparedConv>(
          prepare(kind, img, w, out, sh, sw, ph, pw));
    p->run(buffers);
  } catch (const dnnl::error &e) {
    std::fprintf(stderr,
                 "snnrt: error: oneDNN convolution [%lld, %lld, %lld, %lld] * "
                 "[%lld, %lld, %lld, %lld]: %s\n",
                 (long long)img->sizes[0], (long long)img->sizes[1],
                 (long long)img->sizes[2], (long long)img->sizes[3],
                 (long long)w->sizes[0], (long long)w->sizes[1],
                 (long long)w->sizes[2], (long long)w->sizes[3], e.what());
    std::exit(1);
  }
}

} // namespace

extern "C" {

void _mlir_ciface_snnrt_conv2d_forward(snnrt_memref4d *in, snnrt_memref4d *w,
                                       snnrt_memref4d *out, int64_t sh,
                                       int64_t sw, int64_t ph, int64_t pw) {
  snnrt::cpu::countFlops(2 * out->sizes[0] * out->sizes[1] * out->sizes[2] *
                         out->sizes[3] * w->sizes[1] * w->sizes[2] *
                         w->sizes[3]);
  convolve(ConvKind::Forward, in, w, out, sh, sw, ph, pw,
           {snnrt_data4d(in), snnrt_data4d(w), snnrt_data4d(out)});
}

void _mlir_ciface_snnrt_conv2d_grad_input(snnrt_memref4d *delta,
                                          snnrt_memref4d *w,
                                          snnrt_memref4d *out, int64_t sh,
                                          int64_t sw, int64_t ph, int64_t pw) {
  snnrt::cpu::countFlops(2 * delta->sizes[0] * delta->sizes[1] *
                         delta->sizes[2] * delta->sizes[3] * w->sizes[1] *
                         w->sizes[2] * w->sizes[3]);
  convolve(ConvKind::GradInput, out, w, delta, sh, sw, ph, pw,
           {snnrt_data4d(delta), snnrt_data4d(w), snnrt_data4d(out)});
}

void _mlir_ciface_snnrt_conv2d_grad_weight(snnrt_memref4d *in,
                                           snnrt_memref4d *delta,
                                           snnrt_memref4d *out, int64_t sh,
                                           int64_t sw, int64_t ph, int64_t pw) {
  snnrt::cpu::countFlops(2 * delta->sizes[0] * delta->sizes[1] *
                         delta->sizes[2] * delta->sizes[3] * out->sizes[1] *
                         out->sizes[2] * out->sizes[3]);
  convolve(ConvKind::GradWeight, in, out, delta, sh, sw, ph, pw,
           {snnrt_data4d(in), snnrt_data4d(delta), snnrt_data4d(out)});
}

void _mlir_ciface_snnrt_conv2d_grad_cols(snnrt_memref2d *delta,
                                         snnrt_memref2d *w,
                                         snnrt_memref2d *cols) {
  int64_t o = w->sizes[0], k = w->sizes[1], p = delta->sizes[1];
  int64_t images = delta->sizes[0] / o;
  snnrt::cpu::countFlops(2 * images * o * k * p);
  // cols[n] (K x P) = W^T (K x O) delta[n] (O x P), one GEMM per image.
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < images; ++n)
    snnrt::cpu::sgemm(true, false, k, p, o, snnrt_data2d(w), w->strides[0],
                      snnrt_data2d(delta) + n * o * delta->strides[0],
                      delta->strides[0], 0.0f,
                      snnrt_data2d(cols) + n * k * cols->strides[0],
                      cols->strides[0]);
}

} // extern "C"
