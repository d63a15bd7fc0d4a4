//===- SGDStep.h - one compiled train step with SGD at lr 1 -------*- C++ -*-===//
//
// The numeric step tests (IDEStepTest, IDERingStepTest) read every
// parameter's gradient off one step of plain SGD with lr 1 (new = p - g):
// the train step's arguments (parameters, zero moments, step 1, lr 1, the
// data, the new parameters and moments, the extra outputs) and the
// gradients afterwards; and the normwise comparison with a float64
// reference.
//
//===----------------------------------------------------------------------===//
#ifndef SNNC_TESTS_UNIT_SGDSTEP_H
#define SNNC_TESTS_UNIT_SGDSTEP_H

#include "JitHarness.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace snnc::test {

struct SGDStep {
  using Tensors = std::vector<std::vector<float>>;
  Tensors m, v, next, nm, nv;
  std::vector<Arg> args;

  SGDStep(Tensors &p, const std::vector<std::vector<int64_t>> &shapes,
          const std::vector<Arg> &data, const std::vector<Arg> &outputs)
      : m(p.size()), v(p.size()), next(p.size()), nm(p.size()), nv(p.size()) {
    for (size_t k = 0; k < p.size(); ++k)
      for (Tensors *t : {&m, &v, &next, &nm, &nv})
        (*t)[k].assign(p[k].size(), 0.0f);
    for (Tensors *set : {&p, &m, &v})
      for (size_t k = 0; k < p.size(); ++k)
        args.push_back(Arg::buffer((*set)[k].data(), shapes[k]));
    args.push_back(Arg::i(1));
    args.push_back(Arg::f(1.0f)); // lr 1: new = p - g
    args.insert(args.end(), data.begin(), data.end());
    for (Tensors *set : {&next, &nm, &nv})
      for (size_t k = 0; k < p.size(); ++k)
        args.push_back(Arg::buffer((*set)[k].data(), shapes[k]));
    args.insert(args.end(), outputs.begin(), outputs.end());
  }
  /// Parameter k's gradient after the call.
  std::vector<float> grad(const Tensors &p, size_t k) const {
    std::vector<float> g(p[k].size());
    for (size_t i = 0; i < g.size(); ++i)
      g[i] = p[k][i] - next[k][i];
    return g;
  }
};

/// max |got - want| / max |want|.
inline double normwise(const std::vector<float> &got,
                       const std::vector<double> &want) {
  double scale = 1e-12, worst = 0;
  for (double v : want)
    scale = std::max(scale, std::abs(v));
  for (size_t i = 0; i < got.size(); ++i)
    worst = std::max(worst, std::abs(got[i] - want[i]));
  return worst / scale;
}

} // namespace snnc::test

#endif
