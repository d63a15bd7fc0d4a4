//===- Settings.h - the model settings and their valid values ---*- C++ -*-===//
//
// A model's settings ("snn.epochs", "snn.lr", ...: ONNX metadata_props, or
// attributes of @forward in MLIR) are checked once, here, by snnc when it
// imports a model and when it writes the description a trainer embeds; the
// trainer reads only values that passed.
//
//===----------------------------------------------------------------------===//
#ifndef SNNRT_CORE_SETTINGS_H
#define SNNRT_CORE_SETTINGS_H

#include <string>

namespace snnrt {

/// The most time steps a model may have (snn.T, the T of its nodes).
constexpr long long kMaxTimeSteps = 100000;

/// Whether `key` (without the "snn." prefix) is a setting snnc knows.
bool isKnownSetting(const std::string &key);

/// Empty when `value` is valid for `key`; else what a valid value is
/// ("a finite number > 0"). Unknown keys are valid.
std::string checkSetting(const std::string &key, const std::string &value);

/// "snn.T, snn.epochs, ...", for error messages.
std::string knownSettings();

/// The description's encoding of any string as one token without spaces:
/// bytes other than letters, digits and "._-+:/" become %XX; the empty
/// string is "%".
std::string escapeToken(const std::string &s);
std::string unescapeToken(const std::string &s);

} // namespace snnrt

#endif
