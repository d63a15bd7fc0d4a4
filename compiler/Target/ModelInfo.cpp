//===- ModelInfo.cpp - the model description embedded in trainers ----------===//
#include "compiler/Target/ModelInfo.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

FailureOr<std::string> mlir::snn::describeModel(func::FuncOp forward) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "snnc-model 1\n";
  auto shape = [&](RankedTensorType t) {
    for (int64_t d : t.getShape())
      os << " " << d;
  };
  unsigned numInputs = 0;
  for (BlockArgument arg : forward.getArguments()) {
    unsigned i = arg.getArgNumber();
    auto name = forward.getArgAttrOfType<StringAttr>(i, "snn.name");
    if (arg.getType().isInteger(64)) {
      os << "input " << (name ? name.str() : "key") << " i64\n";
      ++numInputs;
      continue;
    }
    auto t = dyn_cast<RankedTensorType>(arg.getType());
    if (!t || !t.hasStaticShape())
      return forward.emitOpError() << "argument #" << i
                                   << " must be a statically shaped tensor";
    if (forward.getArgAttr(i, "snn.param")) {
      os << "param " << (name ? name.str() : "w" + std::to_string(i));
    } else {
      os << "input "
         << (name ? name.str() : "input" + std::to_string(numInputs)) << " "
         << (t.getElementType().isF32() ? "f32" : "i32");
      ++numInputs;
    }
    shape(t);
    os << "\n";
  }
  auto results = forward.getFunctionType().getResults();
  if (results.size() != 2 || !isa<RankedTensorType>(results[1]))
    return forward.emitOpError("must return (loss, output spikes)");
  os << "output spikes";
  shape(cast<RankedTensorType>(results[1]));
  os << "\n";
  for (NamedAttribute attr : forward->getDiscardableAttrs()) {
    StringRef key = attr.getName().strref();
    if (!key.consume_front("snn."))
      continue;
    os << "setting " << key << " ";
    if (auto f = dyn_cast<FloatAttr>(attr.getValue()))
      os << f.getValueAsDouble();
    else if (auto n = dyn_cast<IntegerAttr>(attr.getValue()))
      os << n.getInt();
    else if (auto s = dyn_cast<StringAttr>(attr.getValue()))
      os << s.getValue();
    else
      continue;
    os << "\n";
  }
  return text;
}
