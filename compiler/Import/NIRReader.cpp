//===- NIRReader.cpp - NIR graphs (HDF5) into ONNX with ai.snn -------------===//
//
// The mapping (NIR_NOTES.md), with dt the step:
//
//   CubaLIF  tau_syn I' = -I + w_in S;  tau_mem v' = (v_leak - v) + r I
//     -> the synapse, a PSC with tau_s = tau_syn / dt, moved in front of the
//        linear op that feeds it (it is linear), then LIF with
//        tau_m = tau_mem / dt and threshold (v_th - v_reset) / g,
//        g = w_in r dt / tau_mem; a bias behind the synapse is filtered
//        (ai.snn.FilteredBias)
//   LIF      identity synapse (tau_s = 1), g = r dt / tau
//   IF       IF neuron, g = r dt
//   Threshold memoryless neuron (tau_m = 1)
//   Linear / Affine -> Gemm (+ bias); Conv2d -> Conv (+ bias);
//   SumPool2d -> ai.snn.SumPool; AvgPool2d -> AveragePool; Flatten -> Flatten;
//   Scale -> folded into the neighbouring weights
//
// The synapse of the first layer becomes the input encoding
// (ai.snn.EncodeCurrent <T, tau_s>); the synapse of layer l+1 is the PSC of
// layer l's spikes; the output layer's spikes go through a PSC for the loss.
// Per-neuron r, w_in and thresholds are folded into the rows of the weights
// (per output channel for a convolution); per-neuron time constants,
// v_reset != v_leak, branches, cycles and LI/CubaLI/I/Delay are refused.
//
//===----------------------------------------------------------------------===//
#include "compiler/Import/NIRReader.h"
#include "runtime/core/OutputFile.h"

#include <hdf5.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <array>
#include <optional>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>

using namespace mlir::snn;

namespace {

/// How long snnc lets HDF5 read one file.
constexpr int kReadSeconds = 60;

/// The most values one dataset may hold (a 16 GiB float array).
constexpr int64_t kMaxValues = int64_t(1) << 32;

struct NIRError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void fail(const std::string &m) { throw NIRError(m); }

std::string fmt(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

/// A closed-on-scope HDF5 handle.
struct Handle {
  hid_t id = -1;
  herr_t (*close)(hid_t) = nullptr;
  Handle(hid_t id, herr_t (*close)(hid_t)) : id(id), close(close) {}
  Handle(const Handle &) = delete;
  ~Handle() {
    if (id >= 0 && close)
      close(id);
  }
  operator hid_t() const { return id; }
};

/// One parameter of a node: a float array (with its shape), integers, or a
/// string.
struct Param {
  enum Kind { Floats, Ints, String } kind = Floats;
  std::vector<int64_t> shape;
  std::vector<double> values; // floats and ints
  std::string text;
};

struct Node {
  std::string name, type;
  std::map<std::string, Param> params;
  // A nested NIRGraph: its own nodes and edges.
  std::vector<Node> children;
  std::vector<std::pair<std::string, std::string>> edges;
};

class H5Reader {
public:
  explicit H5Reader(std::string file) : file(std::move(file)) {}

  std::string where(const std::string &path) const {
    return file + ": " + path;
  }

  bool exists(hid_t group, const std::string &name) {
    htri_t e = H5Lexists(group, name.c_str(), H5P_DEFAULT);
    return e > 0;
  }

  /// The names of a group's members, in HDF5's name order.
  std::vector<std::string> members(hid_t group, const std::string &path) {
    H5G_info_t info;
    if (H5Gget_info(group, &info) < 0)
      fail(where(path) + ": cannot list the group");
    if (info.nlinks > 100000)
      fail(where(path) + ": " + std::to_string(info.nlinks) +
           " members: too many");
    std::vector<std::string> names;
    for (hsize_t i = 0; i < info.nlinks; ++i) {
      ssize_t n = H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i,
                                     nullptr, 0, H5P_DEFAULT);
      if (n < 0 || n > 4096)
        fail(where(path) + ": a member name cannot be read");
      std::string name(static_cast<size_t>(n) + 1, '\0');
      H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(),
                         name.size(), H5P_DEFAULT);
      name.resize(static_cast<size_t>(n));
      names.push_back(name);
    }
    return names;
  }

  bool isGroup(hid_t parent, const std::string &name) {
    H5O_info_t info;
#if H5_VERSION_GE(1, 12, 0)
    if (H5Oget_info_by_name3(parent, name.c_str(), &info, H5O_INFO_BASIC,
                             H5P_DEFAULT) < 0)
#else
    if (H5Oget_info_by_name(parent, name.c_str(), &info, H5P_DEFAULT) < 0)
#endif
      return false;
    return info.type == H5O_TYPE_GROUP;
  }

  /// A dataset as a Param.
  Param read(hid_t group, const std::string &name, const std::string &path) {
    Handle d(H5Dopen2(group, name.c_str(), H5P_DEFAULT), H5Dclose);
    if (d < 0)
      fail(where(path) + ": not a dataset");
    Handle type(H5Dget_type(d), H5Tclose);
    Handle space(H5Dget_space(d), H5Sclose);
    if (type < 0 || space < 0)
      fail(where(path) + ": unreadable dataset");
    int rank = H5Sget_simple_extent_ndims(space);
    if (rank < 0 || rank > 8)
      fail(where(path) + ": unsupported rank " + std::to_string(rank));
    hsize_t dims[8] = {};
    H5Sget_simple_extent_dims(space, dims, nullptr);
    Param p;
    int64_t count = 1;
    for (int i = 0; i < rank; ++i) {
      if (dims[i] > static_cast<hsize_t>(kMaxValues))
        fail(where(path) + ": a dimension of " + std::to_string(dims[i]) +
             " is too large");
      p.shape.push_back(static_cast<int64_t>(dims[i]));
      count *= static_cast<int64_t>(dims[i]);
      if (count > kMaxValues)
        fail(where(path) + ": more than 2^32 values");
    }
    H5T_class_t cls = H5Tget_class(type);
    if (cls == H5T_STRING) {
      p.kind = Param::String;
      if (count != 1)
        fail(where(path) + ": a string dataset must hold one string");
      p.text = readStrings(d, type, 1, path).front();
      return p;
    }
    if (cls != H5T_FLOAT && cls != H5T_INTEGER)
      fail(where(path) + ": must be numbers or a string");
    p.kind = cls == H5T_FLOAT ? Param::Floats : Param::Ints;
    p.values.resize(static_cast<size_t>(count));
    if (count > 0 && H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL,
                             H5P_DEFAULT, p.values.data()) < 0)
      fail(where(path) + ": the values cannot be read (truncated or "
                         "corrupt file?)");
    return p;
  }

  /// `count` strings of a dataset (variable or fixed length).
  std::vector<std::string> readStrings(hid_t d, hid_t fileType, int64_t count,
                                       const std::string &path) {
    std::vector<std::string> out;
    if (H5Tis_variable_str(fileType) > 0) {
      Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
      H5Tset_size(mem, H5T_VARIABLE);
      H5Tset_cset(mem, H5T_CSET_UTF8);
      std::vector<char *> ptrs(static_cast<size_t>(count), nullptr);
      if (H5Dread(d, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()) < 0)
        fail(where(path) + ": the strings cannot be read");
      for (char *s : ptrs) {
        out.push_back(s ? std::string(s) : std::string());
        std::free(s);
      }
      return out;
    }
    size_t size = H5Tget_size(fileType);
    if (size == 0 || size > 65536)
      fail(where(path) + ": unsupported string size");
    Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mem, size);
    std::vector<char> buf(size * static_cast<size_t>(count));
    if (H5Dread(d, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()) < 0)
      fail(where(path) + ": the strings cannot be read");
    for (int64_t i = 0; i < count; ++i) {
      const char *s = buf.data() + i * size;
      out.emplace_back(s, strnlen(s, size));
    }
    return out;
  }

  /// A NIRGraph group: its nodes (recursively) and edges.
  Node graph(hid_t group, const std::string &path, int depth) {
    if (depth > 16)
      fail(where(path) + ": graphs nested more than 16 deep");
    Node g;
    g.type = "NIRGraph";
    if (!exists(group, "nodes") || !isGroup(group, "nodes"))
      fail(where(path) + ": a NIRGraph needs a group 'nodes'");
    Handle nodes(H5Gopen2(group, "nodes", H5P_DEFAULT), H5Gclose);
    for (const std::string &name : members(nodes, path + "/nodes")) {
      std::string np = path + "/nodes/" + name;
      if (!isGroup(nodes, name))
        fail(where(np) + ": a node must be a group");
      Handle ng(H5Gopen2(nodes, name.c_str(), H5P_DEFAULT), H5Gclose);
      if (!exists(ng, "type"))
        fail(where(np) + ": the node has no 'type'");
      Param type = read(ng, "type", np + "/type");
      if (type.kind != Param::String)
        fail(where(np) + "/type: must be a string");
      Node n;
      if (type.text == "NIRGraph") {
        n = graph(ng, np, depth + 1);
      } else {
        for (const std::string &member : members(ng, np)) {
          if (member == "type" || isGroup(ng, member))
            continue; // metadata groups do not change meaning
          n.params[member] = read(ng, member, np + "/" + member);
        }
      }
      n.name = name;
      n.type = type.text;
      g.children.push_back(std::move(n));
    }
    if (!exists(group, "edges"))
      fail(where(path) + ": a NIRGraph needs 'edges'");
    Handle d(H5Dopen2(group, "edges", H5P_DEFAULT), H5Dclose);
    if (d < 0)
      fail(where(path + "/edges") + ": not a dataset");
    Handle type(H5Dget_type(d), H5Tclose);
    Handle space(H5Dget_space(d), H5Sclose);
    hsize_t dims[2] = {0, 0};
    int rank = H5Sget_simple_extent_ndims(space);
    if (H5Tget_class(type) != H5T_STRING || rank < 1 || rank > 2)
      fail(where(path + "/edges") + ": must be N x 2 strings");
    H5Sget_simple_extent_dims(space, dims, nullptr);
    if (dims[0] > 100000 || (rank == 2 && dims[1] != 2) ||
        (rank == 1 && dims[0] != 0))
      fail(where(path + "/edges") + ": must be N x 2 strings");
    int64_t count = static_cast<int64_t>(dims[0]) * (rank == 2 ? 2 : 0);
    std::vector<std::string> s =
        count ? readStrings(d, type, count, path + "/edges")
              : std::vector<std::string>{};
    for (int64_t i = 0; i + 1 < count; i += 2)
      g.edges.push_back({s[i], s[i + 1]});
    return g;
  }

private:
  std::string file;
};

//===----------------------------------------------------------------------===//
// NIR graph -> ONNX
//===----------------------------------------------------------------------===//

/// One node of the flattened chain from the input to the output.
struct ChainNode {
  std::string name; // dotted for nodes of nested graphs
  const Node *node;
};

class Converter {
public:
  Converter(std::string file, const NIROptions &o,
            std::vector<std::string> &notes)
      : file(std::move(file)), o(o), notes(notes) {}

  std::string convert(const Node &root);

private:
  std::string at(const std::string &node) const {
    return file + ": node '" + node + "'";
  }
  [[noreturn]] void bad(const ChainNode &n, const std::string &m) const {
    fail(at(n.name) + " (" + n.node->type + "): " + m);
  }
  const Param &need(const ChainNode &n, const std::string &key) const {
    auto it = n.node->params.find(key);
    if (it == n.node->params.end())
      bad(n, "missing parameter '" + key + "'");
    return it->second;
  }
  const Param *maybe(const ChainNode &n, const std::string &key) const {
    auto it = n.node->params.find(key);
    return it == n.node->params.end() ? nullptr : &it->second;
  }
  std::vector<double> floats(const ChainNode &n, const std::string &key) const {
    const Param &p = need(n, key);
    if (p.kind == Param::String)
      bad(n, "parameter '" + key + "' must be numbers");
    for (double v : p.values)
      if (!std::isfinite(v))
        bad(n, "parameter '" + key + "' holds a non-finite value");
    return p.values;
  }
  /// A scalar or a pair (conv and pool settings).
  std::vector<int64_t> pair(const ChainNode &n, const std::string &key,
                            std::vector<int64_t> def) const {
    const Param *p = maybe(n, key);
    if (!p)
      return def;
    if (p->kind == Param::String)
      bad(n, "parameter '" + key + "' must be integers");
    if (p->values.size() == 1)
      return {static_cast<int64_t>(p->values[0]),
              static_cast<int64_t>(p->values[0])};
    if (p->values.size() != 2)
      bad(n, "parameter '" + key + "' must be one or two integers");
    return {static_cast<int64_t>(p->values[0]),
            static_cast<int64_t>(p->values[1])};
  }
  /// One value for the whole layer (time constants).
  double uniform(const ChainNode &n, const std::string &key) const {
    std::vector<double> v = floats(n, key);
    if (v.empty())
      bad(n, "parameter '" + key + "' is empty");
    for (double x : v)
      if (std::fabs(x - v[0]) > 1e-6 * std::fabs(v[0]))
        bad(n, "parameter '" + key +
                   "' differs between neurons (per-neuron time constants "
                   "cannot be represented)");
    return v[0];
  }
  /// A per-neuron parameter broadcast to `count` neurons.
  std::vector<double> perNeuron(const ChainNode &n, const std::string &key,
                                size_t count, double def,
                                bool required = true) const {
    const Param *p = maybe(n, key);
    if (!p) {
      if (required)
        bad(n, "missing parameter '" + key + "'");
      return std::vector<double>(count, def);
    }
    std::vector<double> v = floats(n, key);
    if (v.size() == 1)
      return std::vector<double>(count, v[0]);
    if (v.size() != count)
      bad(n, "parameter '" + key + "' has " + std::to_string(v.size()) +
                 " values for " + std::to_string(count) + " neurons");
    return v;
  }

  void flatten(const Node &g, const std::string &prefix,
               std::vector<ChainNode> &chain);
  std::string name(const std::string &base) {
    return base + "_" + std::to_string(counter++);
  }
  onnx::NodeProto *add(const std::string &op, const std::string &domain,
                       std::vector<std::string> inputs,
                       std::vector<std::string> outputs) {
    onnx::NodeProto *n = graph->add_node();
    n->set_op_type(op);
    if (!domain.empty())
      n->set_domain(domain);
    for (auto &i : inputs)
      n->add_input(i);
    for (auto &out : outputs)
      n->add_output(out);
    return n;
  }
  static void attr(onnx::NodeProto *n, const std::string &k, double v) {
    auto *a = n->add_attribute();
    a->set_name(k);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(static_cast<float>(v));
  }
  static void attrInt(onnx::NodeProto *n, const std::string &k, int64_t v) {
    auto *a = n->add_attribute();
    a->set_name(k);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void attrInts(onnx::NodeProto *n, const std::string &k,
                       std::vector<int64_t> v) {
    auto *a = n->add_attribute();
    a->set_name(k);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v)
      a->add_ints(x);
  }
  static void attrStr(onnx::NodeProto *n, const std::string &k,
                      const std::string &v) {
    auto *a = n->add_attribute();
    a->set_name(k);
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s(v);
  }
  void initializer(const std::string &n, const std::vector<int64_t> &shape,
                   const std::vector<double> &values) {
    onnx::TensorProto *t = graph->add_initializer();
    t->set_name(n);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : shape)
      t->add_dims(d);
    std::vector<float> f(values.begin(), values.end());
    t->set_raw_data(std::string(reinterpret_cast<const char *>(f.data()),
                                f.size() * sizeof(float)));
  }

  std::string file;
  const NIROptions &o;
  std::vector<std::string> &notes;
  onnx::GraphProto *graph = nullptr;
  int counter = 0;
  std::map<std::string, std::array<int64_t, 4>> convGeometry;
  std::string lastConvName;
  double lossTau = 2.0;
};

/// Inlines nested graphs (acyclic ones) into one chain from the input.
void Converter::flatten(const Node &g, const std::string &prefix,
                        std::vector<ChainNode> &chain) {
  std::map<std::string, const Node *> byName;
  for (const Node &n : g.children)
    byName[n.name] = &n;
  std::map<std::string, std::vector<std::string>> next;
  std::map<std::string, int> indegree;
  for (const auto &edge : g.edges) {
    const std::string &src = edge.first, &dst = edge.second;
    // A dotted name may address a node inside a subgraph: its first part.
    auto head = [&](const std::string &s) {
      if (byName.count(s))
        return s;
      size_t dot = s.find('.');
      if (dot != std::string::npos && byName.count(s.substr(0, dot)))
        return s.substr(0, dot);
      fail(file + ": edge '" + src + "' -> '" + dst + "' in graph '" +
           (prefix.empty() ? "/" : prefix) + "' names no node '" + s + "'");
    };
    std::string a = head(src), b = head(dst);
    next[a].push_back(b);
    ++indegree[b];
  }
  // Kahn's sort from the input; a node left over sits on a cycle.
  const Node *input = nullptr;
  for (const Node &n : g.children)
    if (n.type == "Input") {
      if (input)
        fail(at(prefix + n.name) + " (Input): more than one input: only "
                                   "chains from one input are supported");
      input = &n;
    }
  if (!input)
    fail(file + ": graph '" + (prefix.empty() ? "/" : prefix) +
         "' has no Input node");
  std::vector<std::string> order;
  std::vector<std::string> ready{input->name};
  std::map<std::string, int> seen;
  while (!ready.empty()) {
    std::string cur = ready.back();
    ready.pop_back();
    order.push_back(cur);
    auto &outs = next[cur];
    if (outs.size() > 1)
      fail(at(prefix + cur) + " (" + byName[cur]->type +
           "): its output feeds " + std::to_string(outs.size()) +
           " nodes: only chains are supported (no branches)");
    for (const std::string &n : outs)
      if (++seen[n] == indegree[n])
        ready.push_back(n);
  }
  for (const Node &n : g.children)
    if (std::find(order.begin(), order.end(), n.name) == order.end()) {
      if (indegree[n.name] > 0)
        fail(at(prefix + n.name) + " (" + n.type +
             "): it is on a cycle (a recurrent connection), which snnc "
             "cannot represent until feedback modules exist");
      fail(at(prefix + n.name) + " (" + n.type +
           "): not reachable from the input");
    }
  for (const std::string &nm : order) {
    const Node *n = byName[nm];
    if (n->type == "NIRGraph") {
      // Its own Input/Output are ports: inline what lies between them.
      std::vector<ChainNode> inner;
      flatten(*n, prefix + nm + ".", inner);
      for (ChainNode &c : inner)
        if (c.node->type != "Input" && c.node->type != "Output")
          chain.push_back(c);
      continue;
    }
    chain.push_back({prefix + nm, n});
  }
}

std::string Converter::convert(const Node &root) {
  std::vector<ChainNode> chain;
  flatten(root, "", chain);
  if (chain.empty() || chain.front().node->type != "Input")
    fail(file + ": the graph must start at its Input node");
  if (chain.back().node->type != "Output")
    fail(file + ": the chain from the input must end at an Output node");
  if (o.steps < 1)
    fail(file + ": NIR stores no number of time steps: give --T");
  if (o.batch < 1)
    fail(file + ": the batch size must be >= 1");

  // The step dt: given, or inferred as tau_mem / r (the convention of
  // nir.write's examples and snnTorch's export).
  double dt = o.dt;
  if (!(dt > 0)) {
    for (const ChainNode &c : chain) {
      const std::string &t = c.node->type;
      if (t != "CubaLIF" && t != "LIF")
        continue;
      double tau = uniform(c, t == "CubaLIF" ? "tau_mem" : "tau");
      double r = uniform(c, "r");
      if (std::fabs(r - 1.0) < 1e-6)
        fail(at(c.name) + " (" + t + "): r = 1, so dt cannot be inferred as "
             "tau/r (Norse writes r = 1 with dt = 1e-3, SpikingJelly "
             "dt = 1e-4): give --nir-dt");
      dt = tau / r;
      notes.push_back("NIR: dt = " + fmt(dt) + " inferred as tau_mem / r of "
                      "node '" + c.name + "' (snnTorch's convention; "
                      "--nir-dt to choose)");
      break;
    }
    if (!(dt > 0))
      dt = 1.0;
  }

  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("snnc NIR reader");
  auto *op1 = model.add_opset_import();
  op1->set_domain("");
  op1->set_version(13);
  auto *op2 = model.add_opset_import();
  op2->set_domain("ai.snn");
  op2->set_version(1);
  auto meta = [&](const std::string &k, const std::string &v) {
    auto *p = model.add_metadata_props();
    p->set_key("snn." + k);
    p->set_value(v);
  };
  for (auto &[k, v] : o.settings)
    meta(k, v);
  graph = model.mutable_graph();
  graph->set_name("nir");

  // The input's shape (features without batch and time).
  const ChainNode &in = chain.front();
  std::vector<int64_t> inShape;
  if (const Param *p = maybe(in, "shape"))
    for (double d : p->values)
      inShape.push_back(static_cast<int64_t>(d));
  if (inShape.empty())
    bad(in, "missing parameter 'shape'");
  for (int64_t d : inShape)
    if (d < 1)
      bad(in, "parameter 'shape' must hold sizes >= 1");
  auto input = graph->add_input();
  input->set_name("x");
  auto *tt = input->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  tt->mutable_shape()->add_dim()->set_dim_value(o.batch);
  for (int64_t d : inShape)
    tt->mutable_shape()->add_dim()->set_dim_value(d);
  auto labels = graph->add_input();
  labels->set_name("labels");
  auto *lt = labels->mutable_type()->mutable_tensor_type();
  lt->set_elem_type(onnx::TensorProto::INT32);
  lt->mutable_shape()->add_dim()->set_dim_value(o.batch);

  // Pass 1: the neurons' synapses, so that each PSC can be placed in front
  // of the linear op feeding its neuron.
  std::vector<double> synapse; // tau_s of each neuron layer, in order
  for (const ChainNode &c : chain) {
    const std::string &t = c.node->type;
    if (t == "CubaLIF")
      synapse.push_back(uniform(c, "tau_syn") / dt);
    else if (t == "LIF" || t == "IF" || t == "Threshold")
      synapse.push_back(1.0);
    else if (t == "LI" || t == "CubaLI" || t == "I" || t == "Delay")
      bad(c, "not supported (snnc trains spiking layers; " + t +
                 " has no spikes or is a delay)");
  }
  if (synapse.empty())
    fail(file + ": the graph has no spiking neurons (CubaLIF, LIF, IF, "
                "Threshold)");
  for (double ts : synapse)
    if (!(ts >= 1.0))
      fail(file + ": a synapse time constant of " + fmt(ts) +
           " steps is below one step: choose a smaller --nir-dt");

  // The current activation (time-major [T*B, ...]) and its shape without
  // batch; what the next neuron's synapse has been applied to.
  std::string cur = name("encoded");
  {
    onnx::NodeProto *e = add("EncodeCurrent", "ai.snn", {"x"}, {cur});
    attrInt(e, "T", o.steps);
    attr(e, "tau_s", synapse[0]);
  }
  std::vector<int64_t> shape = inShape;
  size_t layer = 0;          // the next neuron layer
  double pendingScale = 1.0; // a Scale not yet folded
  // The last linear op: to fold a neuron's per-neuron gains into its rows.
  struct Linear {
    std::string weight, bias;
    std::vector<int64_t> wshape;
    std::vector<double> w, b;
    bool conv = false;
  };
  std::optional<Linear> last;
  std::string spikes;
  for (size_t i = 1; i + 1 < chain.size(); ++i) {
    const ChainNode &c = chain[i];
    const std::string &t = c.node->type;
    if (t == "Linear" || t == "Affine") {
      std::vector<double> w = floats(c, "weight");
      const Param &wp = need(c, "weight");
      if (wp.shape.size() != 2)
        bad(c, "parameter 'weight' must be [out, in]");
      int64_t features = 1;
      for (int64_t d : shape)
        features *= d;
      if (shape.size() != 1)
        bad(c, "its input has shape " + std::to_string(shape.size()) +
                   "-D: flatten it first (Flatten)");
      if (wp.shape[1] != features)
        bad(c, "parameter 'weight' expects " + std::to_string(wp.shape[1]) +
                   " inputs, the layer below gives " + std::to_string(features));
      Linear l;
      l.weight = c.name + ".weight";
      l.wshape = wp.shape;
      l.w = w;
      if (t == "Affine") {
        l.b = floats(c, "bias");
        if (static_cast<int64_t>(l.b.size()) != wp.shape[0])
          bad(c, "parameter 'bias' has " + std::to_string(l.b.size()) +
                     " values for " + std::to_string(wp.shape[0]) + " outputs");
        l.bias = c.name + ".bias";
      }
      // A pending Scale multiplies this op's inputs.
      if (pendingScale != 1.0)
        for (double &x : l.w)
          x *= pendingScale;
      pendingScale = 1.0;
      last = l;
      shape = {wp.shape[0]};
      continue;
    }
    if (t == "Conv2d") {
      const Param &wp = need(c, "weight");
      if (wp.shape.size() != 4)
        bad(c, "parameter 'weight' must be [out, in, kh, kw]");
      if (shape.size() != 3)
        bad(c, "its input must be [C, H, W]");
      if (wp.shape[1] != shape[0])
        bad(c, "parameter 'weight' expects " + std::to_string(wp.shape[1]) +
                   " channels, the layer below gives " +
                   std::to_string(shape[0]));
      if (pair(c, "dilation", {1, 1}) != std::vector<int64_t>{1, 1})
        bad(c, "parameter 'dilation' other than 1 is not supported");
      if (const Param *g = maybe(c, "groups");
          g && !(g->values.size() == 1 && g->values[0] == 1))
        bad(c, "parameter 'groups' other than 1 is not supported");
      std::vector<int64_t> stride = pair(c, "stride", {1, 1});
      std::vector<int64_t> pad{0, 0};
      if (const Param *p = maybe(c, "padding")) {
        if (p->kind == Param::String) {
          if (p->text == "same") {
            if (stride != std::vector<int64_t>{1, 1} || wp.shape[2] % 2 == 0 ||
                wp.shape[3] % 2 == 0)
              bad(c, "padding 'same' needs stride 1 and an odd kernel");
            pad = {wp.shape[2] / 2, wp.shape[3] / 2};
          } else if (p->text != "valid") {
            bad(c, "parameter 'padding' must be integers, 'same' or 'valid'");
          }
        } else {
          pad = pair(c, "padding", {0, 0});
        }
      }
      if (stride[0] < 1 || stride[1] < 1 || pad[0] < 0 || pad[1] < 0)
        bad(c, "stride must be >= 1 and padding >= 0");
      Linear l;
      l.conv = true;
      l.weight = c.name + ".weight";
      l.wshape = wp.shape;
      l.w = floats(c, "weight");
      if (maybe(c, "bias")) {
        l.b = floats(c, "bias");
        if (static_cast<int64_t>(l.b.size()) != wp.shape[0])
          bad(c, "parameter 'bias' has " + std::to_string(l.b.size()) +
                     " values for " + std::to_string(wp.shape[0]) +
                     " channels");
        l.bias = c.name + ".bias";
      }
      if (pendingScale != 1.0)
        for (double &x : l.w)
          x *= pendingScale;
      pendingScale = 1.0;
      int64_t oh = (shape[1] + 2 * pad[0] - wp.shape[2]) / stride[0] + 1;
      int64_t ow = (shape[2] + 2 * pad[1] - wp.shape[3]) / stride[1] + 1;
      if (oh < 1 || ow < 1)
        bad(c, "the kernel does not fit the input");
      last = l;
      // Remember the geometry for the Conv node.
      last->wshape = wp.shape;
      convGeometry[c.name] = {stride[0], stride[1], pad[0], pad[1]};
      lastConvName = c.name;
      shape = {wp.shape[0], oh, ow};
      continue;
    }
    if (t == "Scale") {
      std::vector<double> s = floats(c, "scale");
      double v = s.empty() ? 1.0 : s[0];
      for (double x : s)
        if (std::fabs(x - v) > 1e-6 * std::fabs(v))
          bad(c, "a per-feature Scale is not supported (a uniform one is "
                 "folded into the weights)");
      if (last) {
        for (double &x : last->w)
          x *= v;
        for (double &x : last->b)
          x *= v;
      } else {
        pendingScale *= v;
      }
      continue;
    }
    if (t == "CubaLIF" || t == "LIF" || t == "IF" || t == "Threshold") {
      if (!last)
        bad(c, "a neuron must follow a Linear, Affine or Conv2d node");
      size_t count = 1;
      for (int64_t d : shape)
        count *= static_cast<size_t>(d);
      double tauS = synapse[layer];
      double tauM = 1.0;
      std::vector<double> gain(count, 1.0), th(count, 0.0);
      if (t == "Threshold") {
        th = perNeuron(c, "threshold", count, 0.0);
      } else {
        // IF's r may be left out (1).
        std::vector<double> r = perNeuron(c, "r", count, 1.0, t != "IF");
        std::vector<double> vth = perNeuron(c, "v_threshold", count, 1.0);
        std::vector<double> vreset =
            perNeuron(c, "v_reset", count, 0.0, /*required=*/false);
        std::vector<double> vleak(count, 0.0);
        if (t != "IF")
          vleak = perNeuron(c, "v_leak", count, 0.0, false);
        for (size_t k = 0; k < count; ++k)
          if (t != "IF" && std::fabs(vleak[k] - vreset[k]) > 1e-6)
            bad(c, "parameter 'v_reset' (" + fmt(vreset[k]) +
                       ") differs from 'v_leak' (" + fmt(vleak[k]) +
                       "): a neuron resting away from its reset potential "
                       "cannot be represented");
        double tau = t == "CubaLIF" ? uniform(c, "tau_mem")
                     : t == "LIF"   ? uniform(c, "tau")
                                    : 0.0;
        if (t != "IF") {
          tauM = tau / dt;
          if (!(tauM >= 1.0))
            bad(c, "tau = " + fmt(tau) + " is below one step dt = " +
                       fmt(dt) + ": choose a smaller --nir-dt");
        }
        std::vector<double> win =
            t == "CubaLIF" ? perNeuron(c, "w_in", count, 1.0, false)
                           : std::vector<double>(count, 1.0);
        for (size_t k = 0; k < count; ++k) {
          gain[k] = t == "IF" ? r[k] * dt : win[k] * r[k] * dt / tau;
          th[k] = vth[k] - vreset[k];
          if (!(gain[k] != 0.0) || !std::isfinite(gain[k]))
            bad(c, "the input gain (w_in r dt / tau) is 0 or not finite");
        }
      }
      // u = sum(gain W) a with threshold th: fold gain / th relative to the
      // first neuron into the rows of W (per channel for a convolution).
      double theta = th[0] / gain[0];
      if (!(theta > 0) || !std::isfinite(theta))
        bad(c, "the threshold (v_threshold - v_reset) / gain = " +
                   fmt(theta) + " must be > 0");
      size_t rows = static_cast<size_t>(last->wshape[0]);
      size_t perRow = count / rows;
      std::vector<double> rowScale(rows, 1.0);
      double ref = gain[0] / th[0];
      for (size_t k = 0; k < count; ++k) {
        // Exactly 1 where the neuron's gain and threshold are the first's.
        double s = (gain[k] / th[k]) / ref;
        size_t row = k / perRow;
        if (k % perRow == 0)
          rowScale[row] = s;
        else if (std::fabs(s - rowScale[row]) > 1e-6 * std::fabs(s))
          bad(c, "r, w_in or the threshold differ within an output channel "
                 "of the convolution (only per-channel values can be folded "
                 "into its weights)");
      }
      size_t wPerRow = last->w.size() / rows;
      for (size_t row = 0; row < rows; ++row) {
        for (size_t j = 0; j < wPerRow; ++j)
          last->w[row * wPerRow + j] *= rowScale[row];
        if (!last->b.empty())
          last->b[row] *= rowScale[row];
      }
      // The linear op, its bias (filtered when behind a synapse), the
      // neuron, and the next layer's synapse (or the loss kernel).
      std::string c0 = name("current");
      initializer(last->weight, last->wshape, last->w);
      if (last->conv) {
        onnx::NodeProto *n = add("Conv", "", {cur, last->weight}, {c0});
        auto g = convGeometry[lastConvName];
        attrInts(n, "strides", {g[0], g[1]});
        attrInts(n, "pads", {g[2], g[3], g[2], g[3]});
      } else {
        onnx::NodeProto *n = add("Gemm", "", {cur, last->weight}, {c0});
        attrInt(n, "transB", 1);
      }
      if (!last->b.empty()) {
        initializer(last->bias, {static_cast<int64_t>(last->b.size())},
                    last->b);
        std::string cb = name("biased");
        onnx::NodeProto *n =
            add("FilteredBias", "ai.snn", {c0, last->bias}, {cb});
        attr(n, "tau_s", tauS);
        c0 = cb;
      }
      std::string u = name("potential");
      spikes = c.name + ".spikes";
      onnx::NodeProto *n =
          add(t == "IF" ? "IF" : "LIF", "ai.snn", {c0}, {u, spikes});
      if (t != "IF")
        attr(n, "tau_m", tauM);
      attr(n, "threshold", theta);
      ++layer;
      double nextTau = layer < synapse.size() ? synapse[layer]
                       : o.lossTauS > 0       ? o.lossTauS
                                              : std::max(tauS, 2.0);
      cur = name("psc");
      onnx::NodeProto *psc = add("PSC", "ai.snn", {spikes}, {cur});
      attr(psc, "tau_s", nextTau);
      lossTau = nextTau;
      last.reset();
      continue;
    }
    if (t == "SumPool2d" || t == "AvgPool2d") {
      if (last)
        bad(c, "pooling between a linear op and its neuron is not supported");
      if (shape.size() != 3)
        bad(c, "its input must be [C, H, W]");
      std::vector<int64_t> k = pair(c, "kernel_size", {});
      if (k.size() != 2 || k[0] < 1 || k[1] < 1)
        bad(c, "parameter 'kernel_size' must be one or two sizes >= 1");
      if (pair(c, "stride", k) != k)
        bad(c, "only stride = kernel_size is supported");
      if (pair(c, "padding", {0, 0}) != std::vector<int64_t>{0, 0})
        bad(c, "padding is not supported for pooling");
      std::string out = name("pooled");
      onnx::NodeProto *n =
          t == "SumPool2d" ? add("SumPool", "ai.snn", {cur}, {out})
                           : add("AveragePool", "", {cur}, {out});
      attrInts(n, "kernel_shape", k);
      if (t == "SumPool2d")
        attr(n, "scale", 1.0);
      cur = out;
      shape = {shape[0], shape[1] / k[0], shape[2] / k[1]};
      continue;
    }
    if (t == "Flatten") {
      int64_t start = 0, end = -1;
      if (const Param *p = maybe(c, "start_dim"); p && !p->values.empty())
        start = static_cast<int64_t>(p->values[0]);
      if (const Param *p = maybe(c, "end_dim"); p && !p->values.empty())
        end = static_cast<int64_t>(p->values[0]);
      int64_t rank = static_cast<int64_t>(shape.size());
      if (end < 0)
        end += rank;
      if (start != 0 || end != rank - 1)
        bad(c, "only flattening all feature dimensions (start_dim 0, "
               "end_dim -1) is supported");
      if (last)
        bad(c, "Flatten between a linear op and its neuron is not supported");
      std::string out = name("flat");
      attrInt(add("Flatten", "", {cur}, {out}), "axis", 1);
      cur = out;
      int64_t features = 1;
      for (int64_t d : shape)
        features *= d;
      shape = {features};
      continue;
    }
    if (t == "LI" || t == "CubaLI" || t == "I" || t == "Delay")
      bad(c, "not supported (snnc trains spiking layers; " + t +
                 " has no spikes or is a delay)");
    if (t == "Input" || t == "Output")
      bad(c, "an inner port in the middle of the chain");
    bad(c, "unknown NIR primitive '" + t + "'");
  }
  if (last)
    bad(chain.back(), "the last linear op must be followed by a neuron");
  if (shape.size() != 1)
    fail(file + ": the output must be a vector of class neurons");
  int64_t classes = shape[0];
  // The target and the loss NIR lacks.
  std::string desired = name("desired");
  onnx::NodeProto *tgt = add("TargetSpikes", "ai.snn", {"labels"}, {desired});
  attrInt(tgt, "T", o.steps);
  attrInt(tgt, "num_classes", classes);
  if (o.loss == "van-rossum") {
    attr(add("VanRossumLoss", "ai.snn", {cur, desired}, {"loss"}), "tau_s",
         lossTau);
  } else if (o.loss == "spike-count") {
    add("SpikeCountLoss", "ai.snn", {cur, desired}, {"loss"});
  } else {
    fail("--loss must be van-rossum or spike-count, not '" + o.loss + "'");
  }
  auto out1 = graph->add_output();
  out1->set_name("loss");
  out1->mutable_type()->mutable_tensor_type()->set_elem_type(
      onnx::TensorProto::FLOAT);
  out1->mutable_type()->mutable_tensor_type()->mutable_shape(); // a scalar
  auto out2 = graph->add_output();
  out2->set_name(spikes);
  auto *st = out2->mutable_type()->mutable_tensor_type();
  st->set_elem_type(onnx::TensorProto::FLOAT);
  st->mutable_shape()->add_dim()->set_dim_value(o.steps * o.batch);
  st->mutable_shape()->add_dim()->set_dim_value(classes);
  std::string bytes;
  if (!model.SerializeToString(&bytes))
    fail(file + ": cannot serialize the converted model");
  return bytes;
}

} // namespace

bool mlir::snn::readNIRBytes(const std::string &bytes, const std::string &file,
                             const NIROptions &options, std::string &onnxBytes,
                             std::string &error,
                             std::vector<std::string> &notes) {
  // HDF5 reports through our messages only.
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  static const char kSignature[] = "\x89HDF\r\n\x1a\n";
  if (bytes.size() < 8 || std::memcmp(bytes.data(), kSignature, 8) != 0) {
    error = file + ": not an HDF5 file (a NIR graph is HDF5)";
    return false;
  }
  // HDF5's error stack is per thread and kept until the next call: clear
  // it whatever happens.
  struct ClearErrors {
    ~ClearErrors() { H5Eclear2(H5E_DEFAULT); }
  } clearErrors;
  try {
    Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
    if (fapl < 0 || H5Pset_fapl_core(fapl, 1 << 16, 0) < 0 ||
        H5Pset_file_image(fapl, const_cast<char *>(bytes.data()),
                          bytes.size()) < 0)
      fail(file + ": HDF5 cannot take the file's contents");
    // The image is opened under a name that is no file (the core driver
    // refuses one that exists); messages name `file`.
    Handle h(H5Fopen("/nonexistent/snnc-nir-image", H5F_ACC_RDONLY, fapl),
             H5Fclose);
    if (h < 0)
      fail(file + ": HDF5 cannot open it (truncated or corrupt?)");
    H5Reader r(file);
    if (r.exists(h, "version")) {
      Param v = r.read(h, "version", "/version");
      if (v.kind != Param::String || v.text.rfind("1.", 0) != 0)
        fail(file + ": /version '" + v.text +
             "': snnc reads NIR 1.0.x");
    }
    if (!r.exists(h, "node") || !r.isGroup(h, "node"))
      fail(file + ": no group /node (not a NIR graph?)");
    Handle root(H5Gopen2(h, "node", H5P_DEFAULT), H5Gclose);
    if (r.exists(root, "type")) {
      Param t = r.read(root, "type", "/node/type");
      if (t.kind != Param::String || t.text != "NIRGraph")
        fail(file + ": /node/type must be 'NIRGraph'");
    }
    Node g = r.graph(root, "/node", 0);
    Converter c(file, options, notes);
    onnxBytes = c.convert(g);
    return true;
  } catch (const NIRError &e) {
    error = e.what();
    return false;
  } catch (const std::bad_alloc &) {
    error = file + ": out of memory reading the graph";
    return false;
  }
}

namespace {
void putString(std::string &out, const std::string &s) {
  uint64_t n = s.size();
  out.append(reinterpret_cast<const char *>(&n), sizeof(n));
  out += s;
}
bool getString(const std::string &in, size_t &at, std::string &s) {
  uint64_t n = 0;
  if (in.size() - at < sizeof(n))
    return false;
  std::memcpy(&n, in.data() + at, sizeof(n));
  at += sizeof(n);
  if (in.size() - at < n)
    return false;
  s.assign(in, at, n);
  at += n;
  return true;
}
} // namespace

bool mlir::snn::readNIRIsolated(const std::string &bytes,
                                const std::string &file,
                                const NIROptions &options,
                                std::string &onnxBytes, std::string &error,
                                std::vector<std::string> &notes) {
  // HDF5 1.10.8 can crash (a memcpy of a corrupt length in H5HG_read) and
  // spin (its global-heap code) on corrupt files, both found by the fuzz
  // target: the file is read in a child process, which a crash or a time
  // limit ends with one line here. SNNC_NIR_READ_SECONDS shortens the
  // limit (tests).
  int seconds = kReadSeconds;
  if (const char *env = std::getenv("SNNC_NIR_READ_SECONDS"))
    seconds = std::max(1, std::atoi(env));
  int fds[2];
  if (::pipe(fds) != 0) {
    error = file + ": cannot create a pipe to read the NIR graph";
    return false;
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    error = file + ": cannot start the process that reads the NIR graph";
    return false;
  }
  if (pid == 0) {
    ::close(fds[0]);
    int null = ::open("/dev/null", O_WRONLY);
    if (null >= 0)
      ::dup2(null, 2);
    std::string onnx, err, msg;
    std::vector<std::string> found;
    bool ok = readNIRBytes(bytes, file, options, onnx, err, found);
    msg += ok ? 'O' : 'E';
    putString(msg, ok ? onnx : err);
    putString(msg, std::to_string(found.size()));
    for (const std::string &n : found)
      putString(msg, n);
    size_t done = 0;
    while (done < msg.size()) {
      ssize_t w = ::write(fds[1], msg.data() + done, msg.size() - done);
      if (w <= 0)
        break;
      done += static_cast<size_t>(w);
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string msg;
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  bool timedOut = false;
  char buf[1 << 16];
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) {
      timedOut = true;
      break;
    }
    struct pollfd p {fds[0], POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      continue;
    ssize_t n = ::read(fds[0], buf, sizeof(buf));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    msg.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  if (timedOut)
    ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timedOut) {
    error = file + ": reading the NIR graph took more than " +
            std::to_string(seconds) + " s (HDF5 is stuck on a corrupt file)";
    return false;
  }
  size_t at = 1;
  std::string payload, count;
  if (msg.empty() || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
      !getString(msg, at, payload) || !getString(msg, at, count)) {
    error = file + ": HDF5 failed reading it (a corrupt file?)";
    return false;
  }
  for (long k = 0, n = std::atol(count.c_str()); k < n; ++k) {
    std::string note;
    if (!getString(msg, at, note))
      break;
    notes.push_back(note);
  }
  if (msg[0] != 'O') {
    error = payload;
    return false;
  }
  onnxBytes = payload;
  return true;
}

bool mlir::snn::readNIR(const std::string &path, const NIROptions &options,
                        std::string &onnxBytes, std::string &error,
                        std::vector<std::string> &notes) {
  std::string bytes;
  try {
    bytes = snnrt::io::readInputFile(path, size_t(2) << 30, "the NIR model");
  } catch (const std::exception &e) {
    error = e.what();
    return false;
  }
  return readNIRIsolated(bytes, path, options, onnxBytes, error, notes);
}
