//===- SNNDialect.cpp - the snn dialect ------------------------------------===//
#include "dialects/SNN/IR/SNNDialect.h"
#include "dialects/SNN/IR/SNNOps.h"

#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <cstdio>

using namespace mlir;
using namespace mlir::snn;

#include "dialects/SNN/IR/SNNDialect.cpp.inc"
#include "dialects/SNN/IR/SNNEnums.cpp.inc"
#define GET_ATTRDEF_CLASSES
#include "dialects/SNN/IR/SNNAttrs.cpp.inc"

void SNNDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/SNN/IR/SNNOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/SNN/IR/SNNAttrs.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// #snn.neuron<kind, tau_m = ..., threshold = ..., reset = ...>
//===----------------------------------------------------------------------===//

float NeuronAttr::getLeak() const {
  if (getKind() == NeuronKind::integrate)
    return 1.0f;
  return 1.0f - 1.0f / getTauM().convertToFloat();
}

NeuronAttr NeuronAttr::getLIF(MLIRContext *ctx, float tauM, float threshold) {
  return get(ctx, NeuronKind::lif, tauM, threshold, ResetKind::zero);
}

namespace {
std::string num(float v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", static_cast<double>(v));
  return buf;
}
} // namespace

LogicalResult
NeuronAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                   NeuronKind kind, APFloat tauM, APFloat threshold,
                   ResetKind reset) {
  float tm = tauM.convertToFloat(), th = threshold.convertToFloat();
  if (kind == NeuronKind::integrate && tm != 0.0f)
    return emitError() << "an if neuron has no tau_m (store 0), got " << num(tm);
  if (kind == NeuronKind::lif && (!std::isfinite(tm) || !(tm >= 1.0f)))
    return emitError() << "neuron parameter 'tau_m' must be finite and >= 1 "
                          "(a leak of 1 - 1/tau_m in [0, 1)), got "
                       << num(tm);
  if (!std::isfinite(th) || !(th > 0.0f))
    return emitError() << "neuron parameter 'threshold' must be finite and "
                          "> 0, got "
                       << num(th);
  return success();
}

Attribute NeuronAttr::parse(AsmParser &p, Type) {
  MLIRContext *ctx = p.getContext();
  StringRef kindName;
  if (p.parseLess() || p.parseKeyword(&kindName))
    return {};
  std::optional<NeuronKind> kind = symbolizeNeuronKind(kindName);
  if (!kind) {
    p.emitError(p.getCurrentLocation(), "unknown neuron kind '")
        << kindName << "' (lif or if)";
    return {};
  }
  double tauM = 5.0, threshold = 1.0;
  ResetKind reset = ResetKind::zero;
  while (succeeded(p.parseOptionalComma())) {
    StringRef key;
    SMLoc at = p.getCurrentLocation();
    if (p.parseKeyword(&key) || p.parseEqual())
      return {};
    if (key == "tau_m" && *kind == NeuronKind::lif) {
      if (p.parseFloat(tauM))
        return {};
    } else if (key == "threshold") {
      if (p.parseFloat(threshold))
        return {};
    } else if (key == "reset") {
      StringRef name;
      if (p.parseKeyword(&name))
        return {};
      std::optional<ResetKind> r = symbolizeResetKind(name);
      if (!r) {
        p.emitError(at, "unknown reset '") << name << "' (zero or subtract)";
        return {};
      }
      reset = *r;
    } else {
      p.emitError(at, "unknown parameter '")
          << key << "' of a " << kindName << " neuron";
      return {};
    }
  }
  if (p.parseGreater())
    return {};
  if (*kind == NeuronKind::integrate)
    tauM = 0.0; // unused: one spelling per model
  return getChecked([&] { return p.emitError(p.getNameLoc()); }, ctx, *kind,
                    APFloat(static_cast<float>(tauM)),
                    APFloat(static_cast<float>(threshold)), reset);
}

void NeuronAttr::print(AsmPrinter &p) const {
  p << "<" << stringifyNeuronKind(getKind());
  if (getKind() == NeuronKind::lif) {
    p << ", tau_m = ";
    p.printFloat(getTauM());
  }
  p << ", threshold = ";
  p.printFloat(getThreshold());
  p << ", reset = " << stringifyResetKind(getReset()) << ">";
}
