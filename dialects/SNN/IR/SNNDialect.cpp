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

//===----------------------------------------------------------------------===//
// #snn.target
//===----------------------------------------------------------------------===//

LogicalResult
TargetAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                   int64_t neuronBlock, int64_t chainGroup,
                   int64_t maxRegisterSteps, ConvGradInput) {
  if (neuronBlock < 1)
    return emitError() << "#snn.target: neuron_block must be >= 1, got "
                       << neuronBlock;
  if (chainGroup < 1 || chainGroup > 32)
    return emitError() << "#snn.target: chain_group must be from 1 to 32, got "
                       << chainGroup;
  if (maxRegisterSteps < 0)
    return emitError() << "#snn.target: max_register_steps must be >= 0, got "
                       << maxRegisterSteps;
  return success();
}

TargetAttr TargetAttr::of(Operation *op) {
  ModuleOp m = isa<ModuleOp>(op) ? cast<ModuleOp>(op)
                                 : op->getParentOfType<ModuleOp>();
  if (m)
    if (auto t = m->getAttrOfType<TargetAttr>("snn.target"))
      return t;
  return TargetAttr::get(op->getContext(), 256, 6, 8, ConvGradInput::library);
}

LogicalResult SNNDialect::verifyOperationAttribute(Operation *op,
                                                   NamedAttribute attr) {
  StringRef name = attr.getName().strref();
  if (name == "snn.target") {
    if (!isa<TargetAttr>(attr.getValue()))
      return op->emitError() << "'snn.target' must be a #snn.target, got "
                             << attr.getValue();
    if (!isa<ModuleOp>(op))
      return op->emitError() << "'snn.target' belongs on the module";
    return success();
  }
  for (StringRef knob : {"snn.neuron_block", "snn.chain_group",
                         "snn.max_register_steps", "snn.conv_grad_input"})
    if (name == knob)
      return op->emitError()
             << "'" << name << "' is a field of the module's snn.target now: "
             << "snn.target = #snn.target<" << name.drop_front(4) << " = ...>";
  return success();
}
