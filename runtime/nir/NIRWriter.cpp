//===- NIRWriter.cpp - an snnc model as a NIR 1.0 graph --------------------===//
#include "runtime/nir/NIRWriter.h"

#include <hdf5.h>
#include <onnx/onnx_pb.h>

#include <cstring>
#include <map>
#include <stdexcept>
#include <vector>

namespace snnrt {

namespace {

[[noreturn]] void fail(const std::string &m) { throw std::runtime_error(m); }

float attrF(const onnx::NodeProto &n, const std::string &k, float def) {
  for (const auto &a : n.attribute())
    if (a.name() == k)
      return a.f();
  return def;
}
int64_t attrI(const onnx::NodeProto &n, const std::string &k, int64_t def) {
  for (const auto &a : n.attribute())
    if (a.name() == k)
      return a.i();
  return def;
}
std::vector<int64_t> attrInts(const onnx::NodeProto &n, const std::string &k,
                              std::vector<int64_t> def) {
  for (const auto &a : n.attribute())
    if (a.name() == k)
      return {a.ints().begin(), a.ints().end()};
  return def;
}
std::string attrS(const onnx::NodeProto &n, const std::string &k,
                  const std::string &def) {
  for (const auto &a : n.attribute())
    if (a.name() == k)
      return a.s();
  return def;
}

struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> values;
};

Tensor tensorOf(const onnx::TensorProto &t) {
  Tensor out;
  out.shape.assign(t.dims().begin(), t.dims().end());
  if (!t.raw_data().empty()) {
    out.values.resize(t.raw_data().size() / sizeof(float));
    std::memcpy(out.values.data(), t.raw_data().data(),
                out.values.size() * sizeof(float));
  } else {
    out.values.assign(t.float_data().begin(), t.float_data().end());
  }
  return out;
}

/// HDF5 objects written in nir.write's layout.
class H5Writer {
public:
  H5Writer() {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_core(fapl, 1 << 20, /*backing_store=*/0);
    file = H5Fcreate("/nonexistent/snnc-nir-out", H5F_ACC_TRUNC, H5P_DEFAULT,
                     fapl);
    if (file < 0)
      fail("HDF5 cannot create the NIR file in memory");
  }
  ~H5Writer() {
    if (file >= 0)
      H5Fclose(file);
    H5Pclose(fapl);
  }
  hid_t group(hid_t parent, const std::string &name) {
    hid_t g = H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, H5P_DEFAULT,
                         H5P_DEFAULT);
    if (g < 0)
      fail("HDF5 cannot create group '" + name + "'");
    return g;
  }
  void string(hid_t parent, const std::string &name, const std::string &v) {
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    H5Tset_cset(type, H5T_CSET_UTF8);
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t d = H5Dcreate2(parent, name.c_str(), type, space, H5P_DEFAULT,
                         H5P_DEFAULT, H5P_DEFAULT);
    const char *p = v.c_str();
    H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, &p);
    H5Dclose(d);
    H5Sclose(space);
    H5Tclose(type);
  }
  void floats(hid_t parent, const std::string &name,
              const std::vector<int64_t> &shape,
              const std::vector<float> &values) {
    std::vector<hsize_t> dims(shape.begin(), shape.end());
    hid_t space = dims.empty() ? H5Screate(H5S_SCALAR)
                               : H5Screate_simple(static_cast<int>(dims.size()),
                                                  dims.data(), nullptr);
    hid_t d = H5Dcreate2(parent, name.c_str(), H5T_IEEE_F32LE, space,
                         H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
    H5Dclose(d);
    H5Sclose(space);
  }
  void ints(hid_t parent, const std::string &name,
            const std::vector<int64_t> &values, bool scalar = false) {
    hsize_t n = values.size();
    hid_t space = scalar ? H5Screate(H5S_SCALAR)
                         : H5Screate_simple(1, &n, nullptr);
    hid_t d = H5Dcreate2(parent, name.c_str(), H5T_STD_I64LE, space,
                         H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
    H5Dclose(d);
    H5Sclose(space);
  }
  void edges(hid_t parent,
             const std::vector<std::pair<std::string, std::string>> &e) {
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    H5Tset_cset(type, H5T_CSET_UTF8);
    hsize_t dims[2] = {e.size(), 2};
    hid_t space = H5Screate_simple(2, dims, nullptr);
    hid_t d = H5Dcreate2(parent, "edges", type, space, H5P_DEFAULT,
                         H5P_DEFAULT, H5P_DEFAULT);
    std::vector<const char *> p;
    for (auto &[a, b] : e) {
      p.push_back(a.c_str());
      p.push_back(b.c_str());
    }
    H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, p.data());
    H5Dclose(d);
    H5Sclose(space);
    H5Tclose(type);
  }
  std::string image() {
    H5Fflush(file, H5F_SCOPE_GLOBAL);
    ssize_t size = H5Fget_file_image(file, nullptr, 0);
    if (size <= 0)
      fail("HDF5 cannot produce the NIR file");
    std::string bytes(static_cast<size_t>(size), '\0');
    H5Fget_file_image(file, bytes.data(), bytes.size());
    return bytes;
  }
  hid_t file = -1, fapl = -1;
};

} // namespace

std::string writeNIR(const onnx::ModelProto &model) {
  const onnx::GraphProto &g = model.graph();
  std::map<std::string, Tensor> inits;
  for (const auto &t : g.initializer())
    inits[t.name()] = tensorOf(t);
  auto where = [](const onnx::NodeProto &n) {
    return "node '" + (n.name().empty() ? n.output(0) : n.name()) + "' (" +
           n.op_type() + ")";
  };
  auto weight = [&](const onnx::NodeProto &n, int i) -> Tensor {
    if (n.input_size() <= i || n.input(i).empty())
      return {};
    auto it = inits.find(n.input(i));
    if (it == inits.end())
      fail(where(n) + ": its input '" + n.input(i) +
           "' has no values (train or initialize it first)");
    return it->second;
  };

  H5Writer w;
  w.string(w.file, "version", "1.0.7");
  hid_t root = w.group(w.file, "node");
  w.string(root, "type", "NIRGraph");
  hid_t nodes = w.group(root, "nodes");
  std::vector<std::pair<std::string, std::string>> edges;
  std::string prev = "input";
  int count = 0;
  auto node = [&](const std::string &base, const std::string &type) {
    std::string name = base + std::to_string(++count);
    hid_t h = w.group(nodes, name);
    w.string(h, "type", type);
    edges.push_back({prev, name});
    prev = name;
    return h;
  };

  // The input's shape: the data input without its batch axis.
  std::vector<int64_t> shape;
  for (const auto &in : g.input())
    if (in.name() == "x" || (shape.empty() && !inits.count(in.name()) &&
                             in.type().tensor_type().elem_type() ==
                                 onnx::TensorProto::FLOAT)) {
      shape.clear();
      const auto &dims = in.type().tensor_type().shape().dim();
      for (int i = 1; i < dims.size(); ++i)
        shape.push_back(dims[i].dim_value());
      if (in.name() == "x")
        break;
    }
  {
    hid_t in = w.group(nodes, "input");
    w.string(in, "type", "Input");
    w.ints(in, "shape", shape);
    H5Gclose(in);
  }
  double synapse = 1.0;         // the tau_s in front of the next linear op
  bool linearPending = false;   // a linear op waits for its neuron
  hid_t pendingLinear = -1;     // its group (for a FilteredBias)
  std::vector<int64_t> pendingShape;
  for (const auto &n : g.node()) {
    const std::string &op = n.op_type();
    bool snn = n.domain() == "ai.snn";
    if (snn && op == "EncodeCurrent") {
      synapse = attrF(n, "tau_s", 2.0f);
    } else if (!snn && op == "Gemm") {
      Tensor wt = weight(n, 1), b = weight(n, 2);
      if (!b.values.empty() && synapse != 1.0)
        fail(where(n) + ": a constant bias behind a synapse (tau_s = " +
             std::to_string(synapse) +
             ") has no NIR form (NIR filters a bias behind a CubaLIF "
             "synapse: ai.snn.FilteredBias)");
      hid_t h = node("fc", b.values.empty() ? "Linear" : "Affine");
      w.floats(h, "weight", wt.shape, wt.values);
      if (!b.values.empty())
        w.floats(h, "bias", b.shape, b.values);
      shape = {wt.shape[0]};
      pendingLinear = h;
      linearPending = true;
    } else if (!snn && op == "Conv") {
      Tensor wt = weight(n, 1), b = weight(n, 2);
      if (!b.values.empty() && synapse != 1.0)
        fail(where(n) + ": a constant bias behind a synapse has no NIR "
                        "form (ai.snn.FilteredBias)");
      std::vector<int64_t> strides = attrInts(n, "strides", {1, 1});
      std::vector<int64_t> pads = attrInts(n, "pads", {0, 0, 0, 0});
      hid_t h = node("conv", "Conv2d");
      w.floats(h, "weight", wt.shape, wt.values);
      std::vector<float> bias = b.values;
      if (bias.empty())
        bias.assign(static_cast<size_t>(wt.shape[0]), 0.0f);
      pendingLinear = h;
      linearPending = true;
      // A bias is written when the node is complete (FilteredBias may
      // come): keep the zeros or the constant one now.
      w.floats(h, "bias", {wt.shape[0]}, bias);
      w.ints(h, "stride", {strides[0], strides[1]});
      w.ints(h, "padding", {pads[0], pads[1]});
      w.ints(h, "dilation", {1, 1});
      w.ints(h, "groups", {1}, /*scalar=*/true);
      w.ints(h, "input_shape", {shape[1], shape[2]});
      int64_t oh = (shape[1] + 2 * pads[0] - wt.shape[2]) / strides[0] + 1;
      int64_t ow = (shape[2] + 2 * pads[1] - wt.shape[3]) / strides[1] + 1;
      shape = {wt.shape[0], oh, ow};
    } else if (snn && op == "FilteredBias") {
      if (!linearPending)
        fail(where(n) + ": a bias without its linear op");
      if (attrF(n, "tau_s", 1.0f) != static_cast<float>(synapse))
        fail(where(n) + ": its tau_s differs from the synapse in front of "
                        "the linear op");
      Tensor b = weight(n, 1);
      if (H5Lexists(pendingLinear, "bias", H5P_DEFAULT) > 0)
        H5Ldelete(pendingLinear, "bias", H5P_DEFAULT);
      w.floats(pendingLinear, "bias", b.shape, b.values);
      // A Linear with a bias is an Affine.
      if (H5Lexists(pendingLinear, "type", H5P_DEFAULT) > 0) {
        H5Ldelete(pendingLinear, "type", H5P_DEFAULT);
        bool conv = H5Lexists(pendingLinear, "stride", H5P_DEFAULT) > 0;
        w.string(pendingLinear, "type", conv ? "Conv2d" : "Affine");
      }
    } else if (snn && (op == "LIF" || op == "IF")) {
      if (!linearPending)
        fail(where(n) + ": a neuron must follow a linear op");
      if (attrS(n, "reset", "zero") != "zero")
        fail(where(n) + ": reset by subtraction has no NIR form (NIR "
                        "neurons reset to v_reset)");
      float theta = attrF(n, "threshold", 1.0f);
      size_t neurons = 1;
      for (int64_t d : shape)
        neurons *= static_cast<size_t>(d);
      auto full = [&](float v) { return std::vector<float>(neurons, v); };
      hid_t h;
      if (op == "IF") {
        h = node("if", "IF");
        w.floats(h, "r", shape, full(1.0f));
      } else {
        float tauM = attrF(n, "tau_m", 5.0f);
        if (synapse != 1.0) {
          h = node("lif", "CubaLIF");
          w.floats(h, "tau_syn", shape, full(static_cast<float>(synapse)));
          w.floats(h, "tau_mem", shape, full(tauM));
          w.floats(h, "w_in", shape, full(1.0f));
        } else {
          h = node("lif", "LIF");
          w.floats(h, "tau", shape, full(tauM));
        }
        w.floats(h, "r", shape, full(tauM));
        w.floats(h, "v_leak", shape, full(0.0f));
      }
      w.floats(h, "v_threshold", shape, full(theta));
      w.floats(h, "v_reset", shape, full(0.0f));
      H5Gclose(h);
      if (pendingLinear >= 0)
        H5Gclose(pendingLinear);
      pendingLinear = -1;
      linearPending = false;
      synapse = 1.0;
    } else if (snn && op == "PSC") {
      synapse = attrF(n, "tau_s", 2.0f);
    } else if ((snn && op == "SumPool") || (!snn && op == "AveragePool")) {
      std::vector<int64_t> k = attrInts(n, "kernel_shape", {2, 2});
      hid_t h = node("pool", snn ? "SumPool2d" : "AvgPool2d");
      w.ints(h, "kernel_size", k);
      w.ints(h, "stride", k);
      w.ints(h, "padding", {0, 0});
      H5Gclose(h);
      shape = {shape[0], shape[1] / k[0], shape[2] / k[1]};
      float scale = snn ? attrF(n, "scale", 1.0f) : 1.0f;
      if (scale != 1.0f) {
        hid_t s = node("scale", "Scale");
        size_t count = 1;
        for (int64_t d : shape)
          count *= static_cast<size_t>(d);
        w.floats(s, "scale", shape, std::vector<float>(count, scale));
        H5Gclose(s);
      }
    } else if (!snn && op == "Flatten") {
      hid_t h = node("flat", "Flatten");
      w.ints(h, "start_dim", {0}, true);
      w.ints(h, "end_dim", {-1}, true);
      w.ints(h, "input_type", shape);
      H5Gclose(h);
      int64_t f = 1;
      for (int64_t d : shape)
        f *= d;
      shape = {f};
    } else if (!snn && op == "Dropout") {
      fail(where(n) + ": dropout has no NIR form; export the network "
                      "without it");
    } else if (snn && (op == "TargetSpikes" || op == "VanRossumLoss" ||
                       op == "SpikeCountLoss" || op == "EncodeEvents")) {
      if (op == "EncodeEvents")
        fail(where(n) + ": event input has no NIR form here");
      // The target and the loss: training only.
    } else {
      fail(where(n) + ": has no NIR form");
    }
  }
  if (linearPending)
    fail("the model ends with a linear op without its neuron");
  {
    hid_t out = w.group(nodes, "output");
    w.string(out, "type", "Output");
    w.ints(out, "shape", shape);
    H5Gclose(out);
    edges.push_back({prev, "output"});
  }
  H5Gclose(nodes);
  w.edges(root, edges);
  H5Gclose(root);
  return w.image();
}

} // namespace snnrt
