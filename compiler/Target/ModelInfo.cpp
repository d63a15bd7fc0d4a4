//===- ModelInfo.cpp - the model description embedded in trainers ----------===//
#include "compiler/Target/ModelInfo.h"
#include "dialects/SNN/IR/SNNOps.h"
#include "runtime/core/Settings.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace {

/// A 64-bit FNV-1a hash of `forward` as printed without its settings and
/// initial values: what a checkpoint must match to be resumed. Neuron
/// constants, shapes and names count; epochs, lr and the initial weights do
/// not (a run may be continued longer, at another rate, or from an exported
/// model).
uint64_t networkFingerprint(func::FuncOp forward) {
  auto copy = cast<func::FuncOp>(forward->clone());
  for (NamedAttribute attr : forward->getDiscardableAttrs())
    if (attr.getName().strref().starts_with("snn."))
      copy->removeAttr(attr.getName());
  for (unsigned i = 0; i < copy.getNumArguments(); ++i)
    copy.removeArgAttr(i, "snn.init");
  std::string text;
  llvm::raw_string_ostream os(text);
  copy.print(os);
  copy->erase();
  uint64_t h = 1469598103934665603ull;
  for (char c : text) {
    h ^= static_cast<uint8_t>(c);
    h *= 1099511628211ull;
  }
  return h;
}

/// A setting's value as the model file wrote it (floats without noise).
std::optional<std::string> settingValue(Attribute value) {
  std::string out;
  llvm::raw_string_ostream os(out);
  if (auto f = dyn_cast<FloatAttr>(value)) {
    double v = f.getValueAsDouble();
    if (v == static_cast<double>(static_cast<long long>(v)) &&
        std::abs(v) < 1e15)
      os << static_cast<long long>(v);
    else
      os << llvm::format("%.9g", v);
  } else if (auto n = dyn_cast<IntegerAttr>(value)) {
    os << n.getInt();
  } else if (auto s = dyn_cast<StringAttr>(value)) {
    os << s.getValue();
  } else {
    return std::nullopt;
  }
  return out;
}

} // namespace

FailureOr<std::string> mlir::snn::describeModel(func::FuncOp forward) {
  using snnrt::escapeToken;
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "snnc-model 2\n";
  os << "fingerprint " << llvm::format_hex_no_prefix(networkFingerprint(forward), 16)
     << "\n";
  auto shape = [&](RankedTensorType t) {
    for (int64_t d : t.getShape())
      os << " " << d;
  };
  unsigned numInputs = 0;
  for (BlockArgument arg : forward.getArguments()) {
    unsigned i = arg.getArgNumber();
    auto name = forward.getArgAttrOfType<StringAttr>(i, "snn.name");
    auto nameOr = [&](std::string fallback) {
      return escapeToken(name && !name.getValue().empty() ? name.str()
                                                          : fallback);
    };
    if (arg.getType().isInteger(64)) {
      os << "input " << nameOr("key") << " i64\n";
      ++numInputs;
      continue;
    }
    auto t = dyn_cast<RankedTensorType>(arg.getType());
    if (!t || !t.hasStaticShape())
      return forward.emitOpError() << "argument #" << i
                                   << " must be a statically shaped tensor";
    if (forward.getArgAttr(i, "snn.param")) {
      // A buffer (BatchNorm's running statistics) is a parameter that the
      // step updates itself, not the optimizer.
      os << (forward.getArgAttr(i, "snn.buffer") ? "buffer " : "param ")
         << nameOr("w" + std::to_string(i));
    } else {
      os << "input " << nameOr("input" + std::to_string(numInputs)) << " "
         << (t.getElementType().isF32() ? "f32" : "i32");
      ++numInputs;
    }
    shape(t);
    os << "\n";
    // How the trainer initialises a parameter without a value (IDE's
    // official scheme, ONNXImporter's assignFeedbackInit).
    if (auto scheme = forward.getArgAttrOfType<StringAttr>(i, "snn.init_scheme"))
      os << "init " << nameOr("w" + std::to_string(i)) << " "
         << escapeToken(scheme.str()) << "\n";
  }
  auto results = forward.getFunctionType().getResults();
  if (results.size() != 2 || !isa<RankedTensorType>(results[1]))
    return forward.emitOpError("must return (loss, output spikes)");
  os << "output spikes";
  shape(cast<RankedTensorType>(results[1]));
  os << "\n";
  // How the loss reduces the batch: the spike-train losses sum, the
  // cross-entropy averages (the trainer reports per-sample losses).
  if (auto ret = dyn_cast<func::ReturnOp>(forward.getBody().front().getTerminator()))
    if (ret.getNumOperands() > 0 &&
        isa_and_nonnull<snn::CrossEntropyLossOp>(
            ret.getOperand(0).getDefiningOp()))
      os << "loss mean\n";
  for (NamedAttribute attr : forward->getDiscardableAttrs()) {
    StringRef key = attr.getName().strref();
    if (!key.consume_front("snn."))
      continue;
    std::optional<std::string> value = settingValue(attr.getValue());
    if (!value)
      continue;
    // Checked here too: a .mlir model's settings never went through the
    // ONNX importer.
    std::string want = snnrt::checkSetting(key.str(), *value);
    if (!want.empty())
      return forward.emitOpError() << "setting 'snn." << key << "' must be "
                                   << want << ", got '" << *value << "'";
    os << "setting " << escapeToken(key.str()) << " " << escapeToken(*value)
       << "\n";
  }
  return text;
}
