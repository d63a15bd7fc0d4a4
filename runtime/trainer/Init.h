//===- Init.h - initial values of the parameters ------------------*- C++ -*-===//
//
// A parameter the model gives no value is initialised here, by its scheme
// (the `init` lines of the model description, snn.init_scheme in the IR):
//   ""                Kaiming: normal(0, sqrt(2 / fan_in)) for matrices,
//                     uniform(+-sqrt(6 / fan_in)) otherwise
//   "unit_rows"       uniform(-1, 1), then each output row (a kernel's
//                     output channel) scaled to unit L2 norm (IDE_SPEC 9)
//   "unit_dim1"       uniform(-1, 1), then each slice along dimension 1 (a
//                     transposed convolution's output channel) scaled to
//                     unit L2 norm (IDE_SPEC 9)
//   "uniform:B"       uniform(-B, B) (PyTorch's Linear default: B =
//                     1/sqrt(fan_in))
//   "random_unit"     a random unit vector (normal entries, normalised)
//   "spectral_norm:W" [1]: the spectral norm of parameter W's initial
//                     value, seen as [rows, rest], by 10 power iterations
//                     from fresh random vectors (IDE_SPEC 7's g)
// Deterministic in the generator's state; W must come earlier.
//
//===----------------------------------------------------------------------===//
#ifndef SNNRT_TRAINER_INIT_H
#define SNNRT_TRAINER_INIT_H

#include "ModelDesc.h"

#include <functional>
#include <random>
#include <string>
#include <vector>

namespace snnrt {

/// A parameter initialised before: its description and value.
struct InitializedParam {
  const TensorDesc *desc = nullptr;
  const std::vector<float> *value = nullptr;
};

/// The initial value of `t` by `t.initScheme`; `earlier(name)` finds a
/// parameter initialised before (desc null if none). Throws
/// std::runtime_error naming the parameter for a bad scheme.
std::vector<float>
initialValue(const TensorDesc &t, std::mt19937_64 &rng,
             const std::function<InitializedParam(const std::string &)> &earlier);

} // namespace snnrt

#endif
