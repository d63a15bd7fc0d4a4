//===- ONNXImporter.cpp - ONNX models -> the snn dialect --------------------===//
#include "compiler/Import/ONNXImporter.h"
#include "runtime/core/OutputFile.h"
#include "runtime/core/Settings.h"
#include "compiler/Import/SNNSchemas.h"

#include "dialects/SNN/IR/SNNOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <onnx/checker.h>
#include <onnx/defs/parser.h>
#include <onnx/defs/tensor_proto_util.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <cmath>
#include <map>
#include <cctype>
#include <regex>
#include <set>
#include <sstream>

using namespace mlir;

namespace {

/// An import error: the message is complete, one line.
struct ImportError {
  std::string message;
};

/// Names in a malformed model may hold any bytes: errors stay one line.
std::string oneLine(std::string s) {
  for (char &c : s)
    if (c == '\n' || c == '\r')
      c = ' ';
  while (!s.empty() && s.back() == ' ')
    s.pop_back();
  return s;
}

[[noreturn]] void fail(const std::string &message) {
  throw ImportError{oneLine(message)};
}

using snnrt::kMaxTimeSteps;
/// The most elements of any one tensor (2^34 float32 values are 64 GiB).
constexpr int64_t kMaxElements = int64_t(1) << 34;

/// Why `shape` is refused (a dimension < 1, more than kMaxElements
/// elements, counted without overflow), or empty.
std::string shapeProblem(llvm::ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 1)
      return " has a dimension of " + std::to_string(d) +
             " (every dimension must be >= 1)";
    if (n > kMaxElements / d)
      return " has more than 2^34 elements (the limit for one tensor)";
    n *= d;
  }
  return "";
}

void checkShape(const std::string &what, llvm::ArrayRef<int64_t> shape) {
  std::string problem = shapeProblem(shape);
  if (!problem.empty())
    fail(what + problem);
}

/// A model setting (metadata_props "snn.*"), checked where a bad value is
/// a compile error naming the key (runtime/core/Settings.h).
void checkSetting(const std::string &key, const std::string &value) {
  std::string name = key.substr(4);
  if (!snnrt::isKnownSetting(name))
    fail("metadata '" + key + "': unknown setting (known: " +
         snnrt::knownSettings() + ")");
  std::string want = snnrt::checkSetting(name, value);
  if (!want.empty())
    fail("metadata '" + key + "' must be " + want + ", got '" + value + "'");
}

struct NodeContext {
  const onnx::NodeProto &node;
  int index;
  std::string where() const {
    std::ostringstream os;
    os << "node '" << (node.name().empty() ? "<unnamed>" : node.name())
       << "' (#" << index << ", " << node.op_type() << ")";
    return os.str();
  }
  [[noreturn]] void error(const std::string &m) const {
    fail(where() + ": " + m);
  }
  const onnx::AttributeProto *attr(const std::string &name) const {
    for (const auto &a : node.attribute())
      if (a.name() == name)
        return &a;
    return nullptr;
  }
  float getFloat(const std::string &name, float def) const {
    auto *a = attr(name);
    if (!a)
      return def;
    if (a->type() != onnx::AttributeProto::FLOAT)
      error("attribute '" + name + "' must be a float");
    return a->f();
  }
  int64_t getInt(const std::string &name, std::optional<int64_t> def) const {
    auto *a = attr(name);
    if (!a) {
      if (!def)
        error("missing required attribute '" + name + "'");
      return *def;
    }
    if (a->type() != onnx::AttributeProto::INT)
      error("attribute '" + name + "' must be an int");
    return a->i();
  }
  std::vector<int64_t> getInts(const std::string &name,
                               std::vector<int64_t> def) const {
    auto *a = attr(name);
    if (!a)
      return def;
    if (a->type() != onnx::AttributeProto::INTS)
      error("attribute '" + name + "' must be a list of ints");
    return {a->ints().begin(), a->ints().end()};
  }
  float tau(const std::string &name, float def) const {
    float v = getFloat(name, def);
    if (std::isinf(v))
      error("attribute '" + name + "' must be finite, got " +
            std::to_string(v));
    if (!(v >= 1.0f))
      error("attribute '" + name + "' must be >= 1, got " + std::to_string(v));
    return v;
  }
  std::string getString(const std::string &name, const std::string &def) const {
    auto *a = attr(name);
    if (!a)
      return def;
    if (a->type() != onnx::AttributeProto::STRING)
      error("attribute '" + name + "' must be a string");
    return a->s();
  }
  float positive(const std::string &name, float def) const {
    float v = getFloat(name, def);
    if (std::isinf(v))
      error("attribute '" + name + "' must be finite, got " +
            std::to_string(v));
    if (!(v > 0.0f))
      error("attribute '" + name + "' must be > 0, got " + std::to_string(v));
    return v;
  }
  void arity(int inputs, int outputs) const {
    if (node.input_size() < inputs)
      error("expects " + std::to_string(inputs) + " inputs, got " +
            std::to_string(node.input_size()));
    if (node.output_size() < outputs)
      error("expects " + std::to_string(outputs) + " outputs, got " +
            std::to_string(node.output_size()));
  }
};

std::string shapeStr(ArrayRef<int64_t> s) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < s.size(); ++i)
    os << (i ? ", " : "") << s[i];
  os << "]";
  return os.str();
}

class Importer {
public:
  Importer(MLIRContext &ctx, const onnx::ModelProto &model)
      : ctx(ctx), b(&ctx), model(model) {}

  OwningOpRef<ModuleOp> run();

private:
  RankedTensorType f32(ArrayRef<int64_t> shape) {
    std::string problem = shapeProblem(shape);
    if (!problem.empty())
      fail((current ? current->where() + ": a result of shape "
                    : std::string("a tensor of shape ")) +
           shapeStr(shape) + problem);
    return RankedTensorType::get(shape, b.getF32Type());
  }
  /// The snn value of an ONNX name; `t` tells whether it is time-major.
  Value lookup(const NodeContext &n, const std::string &name) {
    auto it = values.find(name);
    if (it == values.end())
      n.error("input '" + name +
              "' is not produced by an earlier node, a graph input or an "
              "initializer (nodes must be in topological order, without "
              "cycles)");
    return it->second;
  }
  void define(const NodeContext &n, const std::string &name, Value v) {
    if (name.empty())
      return;
    if (!values.emplace(name, v).second)
      n.error("output '" + name + "' is already defined (names must be unique)");
  }
  /// The value as a [T, B, ...] activation. A graph input laid out as
  /// [T*B, ...] (events, desired spike trains) is reshaped once T is known.
  Value asTimeMajor(const NodeContext &n, Value v, const std::string &name) {
    if (isTimeMajor.count(v.getAsOpaquePointer()))
      return v;
    auto t = dyn_cast<RankedTensorType>(v.getType());
    if (!t || t.getRank() < 1 || !t.getElementType().isF32() ||
        !isa<BlockArgument>(v) || steps < 1 || t.getDimSize(0) % steps != 0)
      n.error("input '" + name +
              "' must be an activation with a time axis (the output of an "
              "ai.snn encoding, of a layer after it, or a [T*B, ...] graph "
              "input once T is known)");
    auto it = expanded.find(v.getAsOpaquePointer());
    if (it != expanded.end())
      return it->second;
    SmallVector<int64_t> shape{steps, t.getDimSize(0) / steps};
    llvm::append_range(shape, t.getShape().drop_front());
    SmallVector<ReassociationIndices> reassoc{{0, 1}};
    for (int64_t i = 2; i <= t.getRank(); ++i)
      reassoc.push_back({i});
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&forward.getBody().front());
    Value e = tensor::ExpandShapeOp::create(b, v.getLoc(), f32(shape), v, reassoc);
    markTimeMajor(e);
    expanded[v.getAsOpaquePointer()] = e;
    return e;
  }
  RankedTensorType timeMajor(const NodeContext &n, Value &v,
                             const std::string &name, int64_t rank = -1) {
    v = asTimeMajor(n, v, name);
    auto t = cast<RankedTensorType>(v.getType());
    if (rank >= 0 && t.getRank() != rank + 1)
      n.error("input '" + name + "' must have rank " + std::to_string(rank) +
              " ([T*B, ...]), got " + std::to_string(t.getRank() - 1));
    return t;
  }
  void markTimeMajor(Value v) { isTimeMajor.insert(v.getAsOpaquePointer()); }
  /// The node's attribute T, which every node that has one must agree on.
  int64_t timeSteps(const NodeContext &n) {
    int64_t t = n.getInt("T", std::nullopt);
    if (t < 1)
      n.error("attribute 'T' must be >= 1, got " + std::to_string(t));
    if (t > kMaxTimeSteps)
      n.error("attribute 'T' must be at most " + std::to_string(kMaxTimeSteps) +
              ", got " + std::to_string(t));
    if (steps >= 0 && steps != t)
      n.error("T = " + std::to_string(t) + " disagrees with T = " +
              std::to_string(steps) + " elsewhere in the model");
    steps = t;
    return t;
  }
  /// The attributes of a feedback module node (Feedback, FeedbackRing).
  struct ModuleAttrs {
    int64_t steps, iterations;
    float leak, rate, tolerance;
    snn::IDESolver solver;
  };
  ModuleAttrs moduleAttrs(const NodeContext &n) {
    ModuleAttrs a;
    a.steps = n.getInt("T", std::nullopt);
    if (a.steps < 1 || a.steps > kMaxTimeSteps)
      n.error("attribute 'T' must be in [1, " + std::to_string(kMaxTimeSteps) +
              "], got " + std::to_string(a.steps));
    a.leak = n.getFloat("leak", 1.0f);
    if (!(a.leak > 0.0f && a.leak <= 1.0f))
      n.error("attribute 'leak' must be in (0, 1] (1: IF), got " +
              std::to_string(a.leak));
    a.rate = n.getFloat("dropout", 0.0f);
    if (!(a.rate >= 0.0f && a.rate < 1.0f))
      n.error("attribute 'dropout' must be in [0, 1), got " +
              std::to_string(a.rate));
    std::string solverName = n.getString("solver", "broyden");
    std::optional<snn::IDESolver> solver = snn::symbolizeIDESolver(solverName);
    if (!solver)
      n.error("attribute 'solver' must be broyden, fixed_point, "
              "official_iter or exact, got '" + solverName + "'");
    a.solver = *solver;
    a.iterations = n.getInt("max_iterations", 30);
    if (a.iterations < 1)
      n.error("attribute 'max_iterations' must be >= 1");
    a.tolerance = n.positive("tolerance", 1e-6f);
    return a;
  }
  Value param(const NodeContext &n, const std::string &name,
              ArrayRef<int64_t> expectRank4Or2);
  /// The static shape of the initializer or typed graph input `name`.
  std::vector<int64_t> shapeOf(const NodeContext &n, const std::string &name) {
    if (auto it = initializers.find(name); it != initializers.end())
      return {it->second->dims().begin(), it->second->dims().end()};
    if (auto it = inputShapes.find(name); it != inputShapes.end())
      return it->second;
    n.error("input '" + name + "' needs a static shape (an initializer "
            "or a typed graph input)");
  }
  /// `c` plus the bias named by the node's input `index` when it has one
  /// (ONNX Gemm's C, Conv's B: one value per output channel, 0 when no
  /// initializer gives it).
  Value withBias(const NodeContext &n, int index, Value c);
  /// The bias parameter `name` of `channels` values (0 without an
  /// initializer).
  Value biasParam(const NodeContext &n, const std::string &name,
                  int64_t channels, float init = 0.0f,
                  const char *what = "bias");
  Location loc(const NodeContext &n) {
    return NameLoc::get(b.getStringAttr(n.node.name().empty()
                                            ? n.node.op_type()
                                            : n.node.name()));
  }
  void importNode(const NodeContext &n);
  void assignFeedbackInit();
  const NodeContext *current = nullptr; // the node being imported

  MLIRContext &ctx;
  OpBuilder b;
  const onnx::ModelProto &model;
  func::FuncOp forward;
  std::map<std::string, Value> values;
  std::map<std::string, const onnx::TensorProto *> initializers;
  llvm::DenseSet<void *> isTimeMajor;
  llvm::DenseMap<void *, Value> expanded;
  /// Graph-input shapes by name (weights may be typed graph inputs).
  std::map<std::string, std::vector<int64_t>> inputShapes;
  int64_t steps = -1;
  Value lossValue, rngKey;
  /// The step's dropout key (an i64 input), added on first use.
  Value dropoutKey(const NodeContext &n) {
    if (!rngKey) {
      unsigned idx = forward.getNumArguments();
      if (failed(forward.insertArgument(
              idx, b.getI64Type(),
              b.getDictionaryAttr(
                  {b.getNamedAttr("snn.name", b.getStringAttr("dropout_key"))}),
              forward.getLoc())))
        n.error("cannot add the dropout key");
      rngKey = forward.getArgument(idx);
    }
    return rngKey;
  }
  int64_t dropoutStreams = 0; // the next dropout's stream
  std::vector<std::pair<std::string, Value>> paramArgs;
};

Value Importer::param(const NodeContext &n, const std::string &name,
                      ArrayRef<int64_t> shape) {
  if (auto it = values.find(name); it != values.end()) {
    if (cast<RankedTensorType>(it->second.getType()).getShape() != shape)
      n.error("weight '" + name + "' is used with shape " + shapeStr(shape) +
              " but is " +
              shapeStr(cast<RankedTensorType>(it->second.getType()).getShape()));
    return it->second;
  }
  unsigned idx = paramArgs.size();
  if (failed(forward.insertArgument(
          idx, f32(shape),
          b.getDictionaryAttr({b.getNamedAttr("snn.param", b.getUnitAttr()),
                               b.getNamedAttr("snn.name", b.getStringAttr(name))}),
          forward.getLoc())))
    n.error("cannot add parameter '" + name + "'");
  BlockArgument arg = forward.getArgument(idx);
  if (auto it = initializers.find(name); it != initializers.end()) {
    const onnx::TensorProto *t = it->second;
    std::vector<int64_t> dims(t->dims().begin(), t->dims().end());
    if (dims != std::vector<int64_t>(shape.begin(), shape.end()))
      n.error("initializer '" + name + "' has shape " + shapeStr(dims) +
              " but the layer needs " + shapeStr(shape));
    if (t->data_type() != onnx::TensorProto::FLOAT)
      n.error("initializer '" + name + "' must be float32");
    std::vector<float> data = onnx::ParseData<float>(t);
    if (static_cast<int64_t>(data.size()) != RankedTensorType(f32(shape)).getNumElements())
      n.error("initializer '" + name + "' holds " + std::to_string(data.size()) +
              " values for shape " + shapeStr(shape));
    forward.setArgAttr(idx, "snn.init",
                       DenseElementsAttr::get(f32(shape), ArrayRef<float>(data)));
  }
  paramArgs.push_back({name, arg});
  values[name] = arg;
  return arg;
}

Value Importer::biasParam(const NodeContext &n, const std::string &name,
                          int64_t channels, float init, const char *what) {
  std::vector<int64_t> want{channels};
  auto shapeOf = [](const onnx::TensorProto &t) {
    return std::vector<int64_t>(t.dims().begin(), t.dims().end());
  };
  if (auto it = initializers.find(name);
      (it != initializers.end() && shapeOf(*it->second) != want) ||
      (inputShapes.count(name) && inputShapes.at(name) != want))
    n.error(std::string(what) + " '" + name + "' must have shape [" +
            std::to_string(channels) + "] (one value per output channel)");
  Value bias = param(n, name, {channels});
  auto arg = cast<BlockArgument>(bias);
  if (!forward.getArgAttr(arg.getArgNumber(), "snn.init"))
    forward.setArgAttr(arg.getArgNumber(), "snn.init",
                       DenseElementsAttr::get(f32({channels}), init));
  return bias;
}

Value Importer::withBias(const NodeContext &n, int index, Value c) {
  const onnx::NodeProto &node = n.node;
  if (node.input_size() <= index || node.input(index).empty())
    return c;
  auto type = cast<RankedTensorType>(c.getType());
  Value bias = biasParam(n, node.input(index), type.getDimSize(2));
  Value out = snn::BiasAddOp::create(b, loc(n), type, c, bias,
                                     b.getF32FloatAttr(1.0f));
  markTimeMajor(out);
  return out;
}

void Importer::importNode(const NodeContext &n) {
  const onnx::NodeProto &node = n.node;
  const std::string &op = node.op_type();
  const std::string &domain = node.domain();
  Location l = loc(n);
  auto in = [&](int i) { return lookup(n, node.input(i)); };
  auto out = [&](int i, Value v, bool time = true) {
    if (time)
      markTimeMajor(v);
    define(n, node.output(i), v);
  };

  if (domain == "ai.snn") {
    if (op == "EncodeCurrent") {
      n.arity(1, 1);
      int64_t t = timeSteps(n);
      Value x = in(0);
      auto xt = cast<RankedTensorType>(x.getType());
      SmallVector<int64_t> shape{t};
      llvm::append_range(shape, xt.getShape());
      out(0, snn::EncodeCurrentOp::create(b, l, f32(shape), x,
                                          b.getF32FloatAttr(n.tau("tau_s", 2))));
    } else if (op == "EncodeEvents") {
      n.arity(1, 1);
      if (n.attr("T"))
        timeSteps(n);
      Value s = in(0);
      timeMajor(n, s, node.input(0));
      out(0, snn::EncodeEventsOp::create(b, l, s.getType(), s,
                                         b.getF32FloatAttr(n.tau("tau_s", 2))));
    } else if (op == "LIF" || op == "IF") {
      n.arity(1, 2);
      Value c = in(0);
      timeMajor(n, c, node.input(0));
      std::string resetName = n.getString("reset", "zero");
      std::optional<snn::ResetKind> reset = snn::symbolizeResetKind(resetName);
      if (!reset)
        n.error("attribute 'reset' must be zero or subtract, got '" +
                resetName + "'");
      if (op == "IF" && n.attr("tau_m"))
        n.error("an IF neuron has no leak: no attribute 'tau_m' (use LIF)");
      auto model = snn::NeuronAttr::get(
          &ctx, op == "IF" ? snn::NeuronKind::integrate : snn::NeuronKind::lif,
          op == "IF" ? 0.0f : n.tau("tau_m", 5), n.positive("threshold", 1),
          *reset);
      auto neuron =
          snn::NeuronOp::create(b, l, c.getType(), c.getType(), c, model);
      out(0, neuron.getPotential());
      out(1, neuron.getSpikes());
    } else if (op == "FilteredBias") {
      n.arity(2, 1);
      Value c = in(0);
      auto t = timeMajor(n, c, node.input(0), -1);
      if (t.getRank() < 3)
        n.error("input '" + node.input(0) + "' must have a channel axis");
      Value bias = biasParam(n, node.input(1), t.getDimSize(2));
      out(0, snn::BiasAddOp::create(b, l, c.getType(), c, bias,
                                    b.getF32FloatAttr(n.tau("tau_s", 1))));
    } else if (op == "PSC") {
      n.arity(1, 1);
      Value s = in(0);
      timeMajor(n, s, node.input(0));
      out(0, snn::PSCOp::create(b, l, s.getType(), s,
                                b.getF32FloatAttr(n.tau("tau_s", 2))));
    } else if (op == "SumPool") {
      n.arity(1, 1);
      Value a = in(0);
      auto t = timeMajor(n, a, node.input(0), 4);
      auto k = n.getInts("kernel_shape", {});
      if (k.size() != 2 || k[0] < 1 || k[1] < 1)
        n.error("attribute 'kernel_shape' must be [kh, kw] with entries >= 1");
      float scale = n.positive("scale", 1.0f);
      SmallVector<int64_t> shape(t.getShape());
      shape[3] /= k[0];
      shape[4] /= k[1];
      out(0, snn::PoolOp::create(b, l, f32(shape), snn::PoolKind::sum, a, k,
                                 llvm::APFloat(scale)));
    } else if (op == "TargetSpikes") {
      n.arity(1, 1);
      int64_t t = timeSteps(n);
      int64_t classes = n.getInt("num_classes", std::nullopt);
      if (classes < 1)
        n.error("attribute 'num_classes' must be >= 1");
      Value labels = in(0);
      auto lt = dyn_cast<RankedTensorType>(labels.getType());
      if (!lt || lt.getRank() != 1 || !lt.getElementType().isInteger(32))
        n.error("input '" + node.input(0) + "' must be int32 labels [B]");
      out(0, snn::TargetSpikesOp::create(
                 b, l, f32({t, lt.getDimSize(0), classes}), labels));
    } else if (op == "VanRossumLoss" || op == "SpikeCountLoss") {
      n.arity(2, 1);
      Value a = in(0), d = in(1);
      timeMajor(n, a, node.input(0));
      timeMajor(n, d, node.input(1));
      if (a.getType() != d.getType())
        n.error("output " +
                shapeStr(cast<RankedTensorType>(a.getType()).getShape()) +
                " and desired " +
                shapeStr(cast<RankedTensorType>(d.getType()).getShape()) +
                " spike trains disagree");
      Operation *loss =
          op == "VanRossumLoss"
              ? snn::VanRossumLossOp::create(
                    b, l, b.getF32Type(), a.getType(), a, d,
                    b.getF32FloatAttr(n.tau("tau_s", 2)))
                    .getOperation()
              : snn::SpikeCountLossOp::create(b, l, b.getF32Type(),
                                              a.getType(), a, d)
                    .getOperation();
      out(0, loss->getResult(0), false);
    } else if (op == "SpectralNorm") {
      // IDE_SPEC section 7: W_eff = clamp(g, -1, 1) W / sigma; u, v are the
      // power iteration's buffers (unit vectors at the start).
      n.arity(4, 1);
      std::vector<int64_t> ws = shapeOf(n, node.input(0));
      if (ws.size() != 2 && ws.size() != 4)
        n.error("weight '" + node.input(0) + "' must be [out, in] or a "
                "convolution kernel [out, in, kh, kw]");
      Value w = param(n, node.input(0), ws);
      // A kernel is the matrix [out, in*kh*kw] (IDE_SPEC section 7).
      int64_t rest = 1;
      for (size_t i = 1; i < ws.size(); ++i)
        rest *= ws[i];
      Value g = biasParam(n, node.input(1), 1, 1.0f, "scale g");
      Value u = biasParam(n, node.input(2), ws[0],
                          1.0f / std::sqrt(static_cast<float>(ws[0])), "vector u");
      Value v = biasParam(n, node.input(3), rest,
                          1.0f / std::sqrt(static_cast<float>(rest)), "vector v");
      for (Value buf : {u, v})
        forward.setArgAttr(cast<BlockArgument>(buf).getArgNumber(),
                           "snn.buffer", b.getUnitAttr());
      auto sn = snn::SpectralNormOp::create(b, l, w, g, u, v, /*training=*/true);
      out(0, sn.getResult(), false);
    } else if (op == "Feedback") {
      // IDE_SPEC sections 1-2: a single-layer feedback module on the
      // constant current c ([B, N] as [1*B, N]) with feedback weight W.
      // A convolutional module (64C5s) takes images [B, C, H, W] and a
      // kernel [C, C, KH, KW] (stride 1, same padding); its rates are the
      // flattened [B, C*H*W], as the official readout takes them.
      n.arity(2, 1);
      Value c = in(0);
      auto t = timeMajor(n, c, node.input(0));
      if (t.getRank() != 3 && t.getRank() != 5)
        n.error("input '" + node.input(0) + "' must be [B, N] or images "
                "[B, C, H, W], got rank " + std::to_string(t.getRank() - 1));
      if (t.getDimSize(0) != 1)
        n.error("input '" + node.input(0) + "' must be a constant current "
                "(T = 1 outside the module, e.g. EncodeCurrent <T = 1, tau_s "
                "= 1>), got T = " + std::to_string(t.getDimSize(0)));
      bool conv = t.getRank() == 5;
      SmallVector<int64_t> image(t.getShape().drop_front(2));
      int64_t neurons = 1;
      for (int64_t d : image)
        neurons *= d;
      if (conv) {
        t = f32({1, t.getDimSize(1), neurons});
        c = snn::FlattenOp::create(b, l, t, c);
      }
      Value w;
      if (values.count(node.input(1)))
        w = lookup(n, node.input(1));
      else if (conv)
        w = param(n, node.input(1), shapeOf(n, node.input(1)));
      else
        w = param(n, node.input(1), {neurons, neurons});
      auto wt = dyn_cast<RankedTensorType>(w.getType());
      if (!conv && (!wt || wt.getShape() != ArrayRef<int64_t>{neurons, neurons}))
        n.error("the feedback weight '" + node.input(1) + "' must be [" +
                std::to_string(neurons) + ", " + std::to_string(neurons) + "]");
      if (conv && (!wt || wt.getRank() != 4 || wt.getDimSize(0) != image[0] ||
                   wt.getDimSize(1) != image[0] || wt.getDimSize(2) % 2 == 0 ||
                   wt.getDimSize(3) % 2 == 0))
        n.error("the feedback kernel '" + node.input(1) + "' must be [" +
                std::to_string(image[0]) + ", " + std::to_string(image[0]) +
                ", KH, KW] with odd KH and KW (stride 1, same padding)");
      ModuleAttrs attrs = moduleAttrs(n);
      int64_t steps = attrs.steps;
      float leak = attrs.leak, rate = attrs.rate;
      std::optional<snn::IDESolver> solver = attrs.solver;
      int64_t iterations = attrs.iterations;
      float tolerance = attrs.tolerance;
      auto fb = snn::FeedbackOp::create(
          b, l, t, f32({t.getDimSize(1), neurons}), c, w, dropoutKey(n),
          b.getI64IntegerAttr(steps), b.getF32FloatAttr(n.positive("threshold", 2.0f)),
          b.getF32FloatAttr(leak), b.getF32FloatAttr(rate),
          b.getI64IntegerAttr(dropoutStreams++),
          snn::IDESolverAttr::get(&ctx, *solver),
          b.getI64IntegerAttr(iterations), b.getF32FloatAttr(tolerance),
          b.getUnitAttr(), conv ? b.getDenseI64ArrayAttr(image) : nullptr);
      out(0, fb.getRates());
    } else if (op == "FeedbackRing") {
      // IDE_SPEC sections 1.2 and 2: a multi-layer feedback module (the
      // official CIFARNet-F / AlexNet-F) on images c [B, C0, H0, W0]: the
      // transposed-convolution feedback w_fb [C_{L-1}, C0, K, K], then six
      // inputs per connection l (kernel [C_l, C_{l-1}, K, K], conv bias,
      // BN scale, bias, running mean, running variance).
      if (node.input_size() < 8 || (node.input_size() - 2) % 6 != 0)
        n.error("needs c, the feedback kernel and six inputs per connection "
                "(kernel, bias, BN scale, BN bias, running mean, running "
                "variance), got " + std::to_string(node.input_size()) +
                " inputs");
      if (node.output_size() != 1)
        n.error("has one output (the last layer's rates), got " +
                std::to_string(node.output_size()));
      Value c = in(0);
      auto t = timeMajor(n, c, node.input(0));
      if (t.getRank() != 5)
        n.error("input '" + node.input(0) + "' must be images [B, C, H, W], "
                "got rank " + std::to_string(t.getRank() - 1));
      if (t.getDimSize(0) != 1)
        n.error("input '" + node.input(0) + "' must be a constant current "
                "(T = 1 outside the module, e.g. EncodeCurrent <T = 1, tau_s "
                "= 1>), got T = " + std::to_string(t.getDimSize(0)));
      SmallVector<int64_t> image(t.getShape().drop_front(2));
      int64_t batch = t.getDimSize(1);
      c = snn::FlattenOp::create(
          b, l, f32({1, batch, image[0] * image[1] * image[2]}), c);
      int64_t connections = (node.input_size() - 2) / 6;
      std::vector<int64_t> strides =
          n.getInts("strides", std::vector<int64_t>(connections, 1));
      if (static_cast<int64_t>(strides.size()) != connections)
        n.error("attribute 'strides' must have one stride per connection (" +
                std::to_string(connections) + "), got " +
                std::to_string(strides.size()));
      SmallVector<Value> w, cb, gamma, beta, mean, var;
      int64_t channels = image[0];
      for (int64_t k = 0; k < connections; ++k) {
        const std::string &kn = node.input(2 + 6 * k);
        std::vector<int64_t> ks = shapeOf(n, kn);
        if (ks.size() != 4 || ks[1] != channels || ks[2] != ks[3] || ks[2] % 2 == 0)
          n.error("connection " + std::to_string(k + 1) + ": kernel '" + kn +
                  "' must be [C, " + std::to_string(channels) +
                  ", K, K] with odd K");
        if (strides[k] < 1)
          n.error("connection " + std::to_string(k + 1) + ": stride must be >= 1");
        w.push_back(param(n, kn, ks));
        int64_t co = ks[0];
        cb.push_back(biasParam(n, node.input(3 + 6 * k), co, 0.0f, "bias"));
        gamma.push_back(biasParam(n, node.input(4 + 6 * k), co, 1.0f, "BN scale"));
        beta.push_back(biasParam(n, node.input(5 + 6 * k), co, 0.0f, "BN bias"));
        mean.push_back(biasParam(n, node.input(6 + 6 * k), co, 0.0f, "running mean"));
        var.push_back(biasParam(n, node.input(7 + 6 * k), co, 1.0f, "running variance"));
        for (Value buf : {mean.back(), var.back()})
          forward.setArgAttr(cast<BlockArgument>(buf).getArgNumber(),
                             "snn.buffer", b.getUnitAttr());
        channels = co;
      }
      Value wfb;
      if (values.count(node.input(1)))
        wfb = lookup(n, node.input(1));
      else
        wfb = param(n, node.input(1), shapeOf(n, node.input(1)));
      ModuleAttrs attrs = moduleAttrs(n);
      int64_t steps = attrs.steps;
      float leak = attrs.leak, rate = attrs.rate;
      std::optional<snn::IDESolver> solver = attrs.solver;
      std::string jacobianName = n.getString("jacobian", "eval");
      std::optional<snn::IDEJacobian> jacobian =
          snn::symbolizeIDEJacobian(jacobianName);
      if (!jacobian)
        n.error("attribute 'jacobian' must be eval, official or train, got '" +
                jacobianName + "'");
      int64_t iterations = attrs.iterations;
      float tolerance = attrs.tolerance;
      // The types the verifier checks: each layer's image from the kernels
      // and strides.
      SmallVector<SmallVector<int64_t, 3>> images{{image[0], image[1], image[2]}};
      for (int64_t k = 0; k < connections; ++k) {
        auto ks = cast<RankedTensorType>(w[k].getType()).getShape();
        int64_t pad = (ks[2] - 1) / 2;
        const auto &prev = images.back();
        images.push_back({ks[0], (prev[1] + 2 * pad - ks[2]) / strides[k] + 1,
                          (prev[2] + 2 * pad - ks[2]) / strides[k] + 1});
      }
      auto neurons = [](ArrayRef<int64_t> im) { return im[0] * im[1] * im[2]; };
      SmallVector<Type> maskTypes, statTypes;
      for (const auto &im : images)
        maskTypes.push_back(f32({batch, neurons(im)}));
      for (Value m : mean)
        statTypes.push_back(m.getType());
      int64_t stream = dropoutStreams;
      dropoutStreams += static_cast<int64_t>(images.size());
      auto ring = snn::FeedbackRingOp::create(
          b, l, f32({1, batch, neurons(images.back())}), maskTypes, statTypes,
          statTypes, c, wfb, w, cb, gamma, beta, mean, var, dropoutKey(n),
          b.getDenseI64ArrayAttr(image), b.getDenseI64ArrayAttr(strides),
          b.getI64IntegerAttr(steps),
          b.getF32FloatAttr(n.positive("threshold", 2.0f)),
          b.getF32FloatAttr(leak), b.getF32FloatAttr(rate),
          b.getI64IntegerAttr(stream), snn::IDESolverAttr::get(&ctx, *solver),
          b.getI64IntegerAttr(iterations), b.getF32FloatAttr(tolerance),
          snn::IDEJacobianAttr::get(&ctx, *jacobian), b.getUnitAttr());
      {
        // The verifier's message, as this node's one-line error.
        std::string why;
        ScopedDiagnosticHandler capture(&ctx, [&](Diagnostic &d) {
          if (why.empty()) {
            why = d.str();
            if (size_t at = why.find("op "); at != std::string::npos)
              why = why.substr(at + 3);
          }
          return success();
        });
        if (failed(mlir::verify(ring)))
          n.error(why);
      }
      out(0, ring.getRates());
    } else if (op == "CrossEntropyLoss") {
      n.arity(2, 1);
      Value a = in(0), labels = in(1);
      auto t = timeMajor(n, a, node.input(0), 2);
      auto lt = dyn_cast<RankedTensorType>(labels.getType());
      if (!lt || lt.getRank() != 1 || !lt.getElementType().isInteger(32))
        n.error("input '" + node.input(1) + "' must be int32 labels [B]");
      if (lt.getDimSize(0) != t.getDimSize(1))
        n.error("input '" + node.input(1) + "' has " +
                std::to_string(lt.getDimSize(0)) + " labels for a batch of " +
                std::to_string(t.getDimSize(1)));
      auto loss = snn::CrossEntropyLossOp::create(b, l, b.getF32Type(),
                                                  a.getType(), a, labels);
      out(0, loss.getLoss(), false);
    } else {
      n.error("unknown op 'ai.snn." + op + "'");
    }
    return;
  }
  if (!domain.empty() && domain != "ai.onnx")
    n.error("unknown op domain '" + domain + "'");

  if (op == "Gemm") {
    n.arity(2, 1);
    if (n.getFloat("beta", 1.0f) != 1.0f)
      n.error("only beta = 1 is supported (the bias C is added as it is)");
    if (n.getInt("transB", 0) != 1 || n.getInt("transA", 0) != 0 ||
        n.getFloat("alpha", 1.0f) != 1.0f)
      n.error("dense layers are Gemm(a, W) with transB = 1, transA = 0, "
              "alpha = 1 (W is [out, in])");
    Value a = in(0);
    auto t = timeMajor(n, a, node.input(0), 2);
    auto init = initializers.find(node.input(1));
    int64_t outFeatures = -1;
    if (init != initializers.end() && init->second->dims_size() == 2)
      outFeatures = init->second->dims(0);
    else if (auto it = values.find(node.input(1)); it != values.end())
      outFeatures = cast<RankedTensorType>(it->second.getType()).getDimSize(0);
    else if (auto it = inputShapes.find(node.input(1));
             it != inputShapes.end() && it->second.size() == 2) {
      outFeatures = it->second[0];
      if (it->second[1] != t.getDimSize(2))
        n.error("input has " + std::to_string(t.getDimSize(2)) +
                " features but weight '" + node.input(1) + "' expects " +
                std::to_string(it->second[1]));
    }
    if (outFeatures < 1)
      n.error("weight '" + node.input(1) +
              "' needs a static shape [out, in] (an initializer or a typed "
              "graph input)");
    if (init != initializers.end() && init->second->dims(1) != t.getDimSize(2))
      n.error("input has " + std::to_string(t.getDimSize(2)) +
              " features but weight '" + node.input(1) + "' expects " +
              std::to_string(init->second->dims(1)));
    Value w = param(n, node.input(1), {outFeatures, t.getDimSize(2)});
    out(0, withBias(n, 2,
                    snn::DenseOp::create(
                        b, l,
                        f32({t.getDimSize(0), t.getDimSize(1), outFeatures}),
                        a, w)));
  } else if (op == "Conv") {
    n.arity(2, 1);
    if (n.getInt("group", 1) != 1)
      n.error("only group = 1 is supported");
    for (int64_t d : n.getInts("dilations", {1, 1}))
      if (d != 1)
        n.error("only dilations = 1 are supported");
    Value a = in(0);
    auto t = timeMajor(n, a, node.input(0), 4);
    std::vector<int64_t> wshape;
    if (auto it = initializers.find(node.input(1)); it != initializers.end())
      wshape.assign(it->second->dims().begin(), it->second->dims().end());
    else if (auto it = inputShapes.find(node.input(1)); it != inputShapes.end())
      wshape = it->second;
    if (wshape.size() != 4)
      n.error("weight '" + node.input(1) + "' must be [O, C, KH, KW]");
    if (wshape[1] != t.getDimSize(2))
      n.error("input has " + std::to_string(t.getDimSize(2)) +
              " channels but weight '" + node.input(1) + "' expects " +
              std::to_string(wshape[1]));
    auto k = n.getInts("kernel_shape", {wshape[2], wshape[3]});
    if (k.size() != 2 || k[0] != wshape[2] || k[1] != wshape[3])
      n.error("attribute 'kernel_shape' disagrees with the weight shape");
    auto strides = n.getInts("strides", {1, 1});
    auto pads = n.getInts("pads", {0, 0, 0, 0});
    if (strides.size() != 2 || strides[0] < 1 || strides[1] < 1)
      n.error("attribute 'strides' must be [sh, sw] with entries >= 1");
    if (pads.size() != 4 || pads[0] != pads[2] || pads[1] != pads[3] ||
        pads[0] < 0 || pads[1] < 0)
      n.error("attribute 'pads' must be symmetric [ph, pw, ph, pw] >= 0");
    if (n.attr("auto_pad") && n.attr("auto_pad")->s() != "NOTSET")
      n.error("attribute 'auto_pad' is not supported; give 'pads'");
    int64_t oh = snn::convOutputSize(t.getDimSize(3), k[0], strides[0], pads[0]);
    int64_t ow = snn::convOutputSize(t.getDimSize(4), k[1], strides[1], pads[1]);
    if (oh < 1 || ow < 1)
      n.error("the kernel does not fit the input " +
              shapeStr(t.getShape().drop_front(2)));
    Value w = param(n, node.input(1), wshape);
    out(0, withBias(n, 2,
                    snn::Conv2dOp::create(
                        b, l,
                        f32({t.getDimSize(0), t.getDimSize(1), wshape[0], oh,
                             ow}),
                        a, w, b.getDenseI64ArrayAttr(strides),
                        b.getDenseI64ArrayAttr({pads[0], pads[1]}))));
  } else if (op == "AveragePool") {
    n.arity(1, 1);
    Value a = in(0);
    auto t = timeMajor(n, a, node.input(0), 4);
    auto k = n.getInts("kernel_shape", {});
    if (k.size() != 2 || k[0] < 1 || k[1] < 1)
      n.error("attribute 'kernel_shape' must be [kh, kw] with entries >= 1");
    if (n.getInts("strides", k) != k)
      n.error("only strides equal to kernel_shape are supported");
    for (int64_t p : n.getInts("pads", {0, 0, 0, 0}))
      if (p != 0)
        n.error("padding is not supported for pooling");
    SmallVector<int64_t> shape(t.getShape());
    shape[3] /= k[0];
    shape[4] /= k[1];
    out(0, snn::PoolOp::create(b, l, f32(shape), snn::PoolKind::avg, a, k,
                               llvm::APFloat(1.0f)));
  } else if (op == "Flatten") {
    n.arity(1, 1);
    if (n.getInt("axis", 1) != 1)
      n.error("only axis = 1 is supported");
    Value a = in(0);
    auto t = timeMajor(n, a, node.input(0));
    int64_t features = 1;
    for (int64_t d : t.getShape().drop_front(2))
      features *= d;
    out(0, snn::FlattenOp::create(
               b, l, f32({t.getDimSize(0), t.getDimSize(1), features}), a));
  } else if (op == "BatchNormalization") {
    // Y = scale (X - mean) / sqrt(var + epsilon) + B per channel: batch
    // statistics in the train step, the running ones (buffers, updated by
    // the train step, not by the optimizer) in the eval step.
    n.arity(5, 1);
    Value x = in(0);
    auto t = timeMajor(n, x, node.input(0));
    if (t.getRank() < 3)
      n.error("input '" + node.input(0) + "' must have a channel axis");
    int64_t channels = t.getDimSize(2);
    float eps = n.positive("epsilon", 1e-5f);
    float momentum = n.getFloat("momentum", 0.9f);
    if (!(momentum >= 0.0f && momentum <= 1.0f))
      n.error("attribute 'momentum' must be in [0, 1], got " +
              std::to_string(momentum));
    Value gamma = biasParam(n, node.input(1), channels, 1.0f, "scale");
    Value beta = biasParam(n, node.input(2), channels, 0.0f, "bias");
    Value mean = biasParam(n, node.input(3), channels, 0.0f, "running mean");
    Value var = biasParam(n, node.input(4), channels, 1.0f, "running variance");
    if (llvm::SmallPtrSet<void *, 4>{gamma.getAsOpaquePointer(),
                                     beta.getAsOpaquePointer(),
                                     mean.getAsOpaquePointer(),
                                     var.getAsOpaquePointer()}
            .size() != 4)
      n.error("scale, bias, mean and variance must be four different tensors");
    for (Value buf : {mean, var})
      forward.setArgAttr(cast<BlockArgument>(buf).getArgNumber(), "snn.buffer",
                         b.getUnitAttr());
    // ONNX's momentum weighs the running value; PyTorch's (ours) the batch.
    auto bn = snn::BatchNormOp::create(b, l, x, gamma, beta, mean, var, eps,
                                       1.0f - momentum, /*training=*/true);
    out(0, bn.getResult());
  } else if (op == "Dropout") {
    n.arity(1, 1);
    Value a = in(0);
    auto t = timeMajor(n, a, node.input(0));
    float rate = 0.5f;
    if (node.input_size() > 1 && !node.input(1).empty()) {
      auto it = initializers.find(node.input(1));
      if (it == initializers.end())
        n.error("the dropout ratio must be an initializer");
      rate = onnx::ParseData<float>(it->second).at(0);
    }
    if (!(rate >= 0.0f && rate < 1.0f))
      n.error("the dropout ratio must be in [0, 1), got " + std::to_string(rate));
    // Each dropout draws from its own stream of the step's key.
    auto drop = snn::DropoutOp::create(
        b, l, t, f32(t.getShape().drop_front()), a, dropoutKey(n),
        b.getF32FloatAttr(rate), b.getI64IntegerAttr(dropoutStreams++));
    out(0, drop.getResult());
  } else if (op == "Identity") {
    n.arity(1, 1);
    Value a = in(0);
    out(0, a, isTimeMajor.count(a.getAsOpaquePointer()));
  } else {
    n.error("unsupported op '" + op +
            "' (supported: Conv, Gemm, AveragePool, Flatten, Dropout, "
            "Identity and the ai.snn ops)");
  }
}

} // namespace

static void checkOpsets(const onnx::ModelProto &model) {
  for (const auto &opset : model.opset_import()) {
    if (opset.domain().empty() || opset.domain() == "ai.onnx") {
      if (opset.version() < 13 || opset.version() > 17)
        fail("unsupported opset ai.onnx " + std::to_string(opset.version()) +
             " (snnc reads opsets 13 to 17)");
    } else if (opset.domain() == "ai.snn") {
      if (opset.version() != 1)
        fail("unsupported opset ai.snn " + std::to_string(opset.version()) +
             " (snnc reads version 1)");
    } else {
      fail("unknown op domain '" + opset.domain() + "' in opset_import");
    }
  }
}

OwningOpRef<ModuleOp> Importer::run() {
  const onnx::GraphProto &g = model.graph();
  if (g.output_size() != 2)
    fail("the graph must have two outputs (the loss and the output spikes), "
         "got " + std::to_string(g.output_size()));
  for (const auto &t : g.initializer()) {
    if (!initializers.emplace(t.name(), &t).second)
      fail("initializer '" + t.name() + "' is defined twice");
    checkShape("initializer '" + t.name() + "'",
               std::vector<int64_t>(t.dims().begin(), t.dims().end()));
  }

  // Owned from the start: an error thrown below must not leak the IR.
  OwningOpRef<ModuleOp> module = ModuleOp::create(b.getUnknownLoc());
  b.setInsertionPointToEnd(module->getBody());
  forward = func::FuncOp::create(b, b.getUnknownLoc(), "forward",
                                 b.getFunctionType({}, {}));
  Block *entry = forward.addEntryBlock();
  b.setInsertionPointToEnd(entry);

  inputShapes.clear();
  for (const auto &input : g.input()) {
    if (initializers.count(input.name()))
      continue;
    const auto &tt = input.type().tensor_type();
    std::vector<int64_t> shape;
    for (const auto &d : tt.shape().dim()) {
      if (!d.has_dim_value() || d.dim_value() < 1)
        fail("graph input '" + input.name() +
             "' needs a static shape (compile with a fixed batch size)");
      shape.push_back(d.dim_value());
    }
    checkShape("graph input '" + input.name() + "'", shape);
    inputShapes[input.name()] = shape;
  }
  // Data inputs: graph inputs that no Conv/Gemm uses as its weight or bias
  // and no BatchNormalization as its scale, bias or statistics.
  std::set<std::string> weightNames;
  for (const auto &node : g.node()) {
    if (node.op_type() == "Conv" || node.op_type() == "Gemm")
      for (int i = 1; i < std::min(node.input_size(), 3); ++i)
        weightNames.insert(node.input(i));
    if (node.op_type() == "BatchNormalization" ||
        node.op_type() == "SpectralNorm")
      for (int i = node.op_type() == "SpectralNorm" ? 0 : 1;
           i < std::min(node.input_size(), 5); ++i)
        weightNames.insert(node.input(i));
    if (node.op_type() == "Feedback" && node.input_size() > 1)
      weightNames.insert(node.input(1));
    if (node.op_type() == "FeedbackRing")
      for (int i = 1; i < node.input_size(); ++i)
        weightNames.insert(node.input(i));
  }
  for (const auto &input : g.input()) {
    if (initializers.count(input.name()) || weightNames.count(input.name()))
      continue;
    int et = input.type().tensor_type().elem_type();
    Type elt;
    if (et == onnx::TensorProto::FLOAT)
      elt = b.getF32Type();
    else if (et == onnx::TensorProto::INT32)
      elt = b.getI32Type();
    else
      fail("graph input '" + input.name() + "' must be float32 or int32");
    unsigned idx = forward.getNumArguments();
    if (failed(forward.insertArgument(
            idx, RankedTensorType::get(inputShapes[input.name()], elt),
            b.getDictionaryAttr(
                {b.getNamedAttr("snn.name", b.getStringAttr(input.name()))}),
            forward.getLoc())))
      fail("cannot add graph input '" + input.name() + "'");
    BlockArgument arg = forward.getArgument(idx);
    if (!values.emplace(input.name(), arg).second)
      fail("graph input '" + input.name() + "' is defined twice");
  }

  // A model whose inputs are already [T*B, ...] currents names T here.
  for (const auto &prop : model.metadata_props())
    if (prop.key() == "snn.T") {
      checkSetting(prop.key(), prop.value());
      steps = std::stol(prop.value());
    }
  for (int i = 0; i < g.node_size(); ++i) {
    NodeContext n{g.node(i), i};
    current = &n;
    importNode(n);
    current = nullptr;
  }

  assignFeedbackInit();

  auto result = [&](int i) -> Value {
    auto it = values.find(g.output(i).name());
    if (it == values.end())
      fail("graph output '" + g.output(i).name() + "' is never produced");
    return it->second;
  };
  Value o0 = result(0), o1 = result(1);
  Value loss = o0.getType().isF32() ? o0 : o1;
  Value spikes = loss == o0 ? o1 : o0;
  if (!loss.getType().isF32() || !isa<RankedTensorType>(spikes.getType()))
    fail("the graph outputs must be the loss (from VanRossumLoss or "
         "SpikeCountLoss) and the output spikes");
  func::ReturnOp::create(b, b.getUnknownLoc(), ValueRange{loss, spikes});
  SmallVector<Type> types(entry->getArgumentTypes());
  forward.setType(b.getFunctionType(types, {loss.getType(), spikes.getType()}));

  for (const auto &prop : model.metadata_props()) {
    llvm::StringRef key(prop.key());
    if (!key.starts_with("snn."))
      continue;
    checkSetting(key.str(), prop.value());
    double v;
    if (!llvm::StringRef(prop.value()).getAsDouble(v))
      forward->setAttr(key, b.getF32FloatAttr(static_cast<float>(v)));
    else
      forward->setAttr(key, b.getStringAttr(prop.value()));
  }
  if (failed(mlir::verify(*module)))
    fail("the imported model does not verify (see the diagnostic above)");
  return module;
}

/// IDE_SPEC section 9's initialisation of a feedback module's parameters
/// (the official code's), as `snn.init_scheme` on the parameters that the
/// model leaves to the trainer (no initializer): the input connection's and
/// the feedback's weights `unit_rows` (uniform(-1, 1), each output row, or
/// output channel's kernel, scaled to unit L2 norm); the reparametrisation's
/// g `spectral_norm:<weight>` (10 power iterations on the initial weight
/// from fresh random vectors) and its u, v `random_unit`; the readout's
/// weight and bias PyTorch's Linear default, `uniform:<1/sqrt(fan_in)>`.
/// Biases and BatchNorm keep their constant defaults (0; gamma 1, beta 0).
void Importer::assignFeedbackInit() {
  auto setScheme = [&](Value v, const std::string &scheme) {
    auto arg = dyn_cast<BlockArgument>(v);
    if (!arg || arg.getOwner()->getParentOp() != forward.getOperation())
      return;
    unsigned i = arg.getArgNumber();
    auto name = forward.getArgAttrOfType<StringAttr>(i, "snn.name");
    if (!name || initializers.count(name.str()))
      return;
    forward.setArgAttr(i, "snn.init_scheme", b.getStringAttr(scheme));
  };
  // A module's feedback weight (`rows`: its unit-norm slices, "unit_rows"
  // or a transposed convolution's "unit_dim1"), its input connection and
  // the readout on its rates.
  auto initModule = [&](Value w, const char *rows, Value in, Value rates) {
    if (auto sn = w.getDefiningOp<snn::SpectralNormOp>()) {
      setScheme(sn.getWeight(), rows);
      if (auto raw = dyn_cast<BlockArgument>(sn.getWeight()))
        if (auto name = forward.getArgAttrOfType<StringAttr>(raw.getArgNumber(),
                                                             "snn.name"))
          setScheme(sn.getG(), "spectral_norm:" + name.str());
      setScheme(sn.getU(), "random_unit");
      setScheme(sn.getV(), "random_unit");
    } else {
      setScheme(w, rows);
    }
    // The input connection: back through flatten, dropout, BatchNorm and
    // the bias to its Gemm or Conv.
    while (Operation *def = in.getDefiningOp()) {
      if (isa<snn::FlattenOp, snn::DropoutOp, snn::BatchNormOp, snn::BiasAddOp>(def)) {
        in = def->getOperand(0);
        continue;
      }
      if (auto dense = dyn_cast<snn::DenseOp>(def))
        setScheme(dense.getWeight(), "unit_rows");
      else if (auto conv = dyn_cast<snn::Conv2dOp>(def))
        setScheme(conv.getWeight(), "unit_rows");
      break;
    }
    // The readout on the rates.
    for (Operation *user : rates.getUsers()) {
      auto dense = dyn_cast<snn::DenseOp>(user);
      if (!dense || dense.getInput() != rates)
        continue;
      int64_t fanIn = cast<RankedTensorType>(dense.getWeight().getType()).getDimSize(1);
      char text[48];
      std::snprintf(text, sizeof(text), "uniform:%.9g",
                    1.0 / std::sqrt(static_cast<double>(fanIn)));
      std::string bound = text;
      setScheme(dense.getWeight(), bound);
      for (Operation *next : dense->getResult(0).getUsers())
        if (auto bias = dyn_cast<snn::BiasAddOp>(next))
          setScheme(bias.getBias(), bound);
    }
  };
  forward.walk([&](snn::FeedbackOp fb) {
    initModule(fb.getWeight(), "unit_rows", fb.getInput(), fb.getRates());
  });
  // A ring's connections: unit-norm output channels; the transposed
  // convolution [C_in, C_out, K, K]: unit-norm slices along dimension 1
  // (its output channels, IDE_SPEC section 9).
  forward.walk([&](snn::FeedbackRingOp ring) {
    initModule(ring.getFeedback(), "unit_dim1", ring.getInput(), ring.getRates());
    for (Value k : ring.getWeights())
      setScheme(k, "unit_rows");
  });
}

OwningOpRef<ModuleOp> mlir::snn::importONNX(llvm::StringRef bytes, bool text,
                                            MLIRContext &ctx, std::string &error,
                                            std::string *serialized) {
  snnc::onnx_schemas::registerSNNDomain();
  onnx::ModelProto model;
  try {
    if (bytes.empty())
      fail("the file is empty");
    if (text) {
      std::string source(bytes);
      onnx::OnnxParser parser(source.c_str());
      onnx::Common::Status status;
      try {
        status = parser.Parse(model);
      } catch (const std::out_of_range &) {
        fail("a number in the model is out of range (float32 ends near "
             "3.4e38, int64 near 9.2e18)");
      } catch (const std::invalid_argument &) {
        fail("a number in the model cannot be read");
      }
      if (!status.IsOK()) {
        std::string m = status.ErrorMessage();
        std::smatch pos;
        std::regex re("line: ([0-9]+) column: ([0-9]+)");
        std::string detail = m.substr(m.rfind('\n') == std::string::npos
                                          ? 0
                                          : m.rfind('\n') + 1);
        if (std::regex_search(m, pos, re))
          fail(pos[1].str() + ":" + pos[2].str() + ": " + oneLine(detail));
        fail(oneLine(m));
      }
    } else if (!model.ParseFromArray(bytes.data(),
                                     static_cast<int>(bytes.size()))) {
      fail("not a valid ONNX protobuf (truncated or corrupted bytes)");
    }
    checkOpsets(model);
    if (serialized)
      model.SerializeToString(serialized);
    try {
      onnx::checker::check_model(model);
    } catch (const std::exception &e) {
      fail("invalid model: " + oneLine(e.what()));
    }
    // snnc's own checks first: they name the node and the attribute.
    Importer importer(ctx, model);
    OwningOpRef<ModuleOp> module = importer.run();
    try {
      onnx::ShapeInferenceOptions options{true, 1, false};
      onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(),
                                         options);
    } catch (const std::exception &e) {
      fail("invalid model: " + oneLine(e.what()));
    }
    return module;
  } catch (const ImportError &e) {
    error = e.message;
  } catch (const std::exception &e) {
    error = oneLine(e.what());
  }
  return nullptr;
}

OwningOpRef<ModuleOp> mlir::snn::importONNXFile(llvm::StringRef path,
                                                MLIRContext &ctx,
                                                std::string *serialized) {
  // Only a regular file of bounded size is read: never /dev/zero or a FIFO
  // until memory runs out.
  std::string bytes;
  try {
    bytes = snnrt::io::readInputFile(path.str(), kMaxModelBytes, "the model");
  } catch (const snnrt::io::OutputError &e) {
    llvm::errs() << "snnc: error: " << e.what() << "\n";
    return nullptr;
  }
  std::string error;
  bool text = llvm::sys::path::extension(path) == ".onnxtxt";
  if (text) {
    // The text parser stops at a NUL byte: the rest of the file would be
    // silently ignored.
    size_t nul = bytes.find('\0');
    if (nul != std::string::npos) {
      size_t line = 1 + std::count(bytes.begin(), bytes.begin() + nul, '\n');
      llvm::errs() << "snnc: error: " << path << ":" << line
                   << ": a NUL byte (offset " << nul
                   << ") in a text model\n";
      return nullptr;
    }
  }
  auto module = importONNX(bytes, text, ctx, error, serialized);
  if (!module)
    llvm::errs() << "snnc: error: " << path
                 << (!error.empty() && std::isdigit(error[0]) ? ":" : ": ")
                 << error << "\n";
  return module;
}
