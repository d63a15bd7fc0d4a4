//===- Settings.cpp - the model settings and their valid values -----------===//
#include "Settings.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace snnrt {
namespace {

constexpr long long kMaxEpochs = 1ll << 40;

const char *const kKnown[] = {
    "T",         "epochs",   "lr",           "lr_decay",     "na_clip",
    "dataset",   "backward", "neighborhood", "optimizer",    "momentum",
    "nesterov",  "weight_decay", "schedule", "milestones",   "gamma",
    "warmup_epochs", "lr_min", "input_mean", "input_std"};

bool wholeNumber(const std::string &v, long long lo, long long hi) {
  if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos)
    return false;
  errno = 0;
  long long n = std::strtoll(v.c_str(), nullptr, 10);
  return errno == 0 && n >= lo && n <= hi;
}

bool nonNegativeNumber(const std::string &v) {
  if (v.empty())
    return false;
  char *end = nullptr;
  double x = std::strtod(v.c_str(), &end);
  return *end == '\0' && std::isfinite(x) && x >= 0;
}

/// "30,60,90": whole numbers >= 1, increasing.
bool milestoneList(const std::string &v) {
  long long last = 0;
  size_t at = 0;
  while (at <= v.size()) {
    size_t comma = v.find(',', at);
    std::string item =
        v.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    if (!wholeNumber(item, 1, kMaxEpochs))
      return false;
    long long n = std::strtoll(item.c_str(), nullptr, 10);
    if (n <= last)
      return false;
    last = n;
    if (comma == std::string::npos)
      return true;
    at = comma + 1;
  }
  return false;
}

/// "0.4914,0.4822,0.4465": finite numbers (> 0 with `positive`), commas.
bool numberList(const std::string &v, bool positive) {
  size_t at = 0;
  while (at <= v.size()) {
    size_t comma = v.find(',', at);
    std::string item =
        v.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    char *end = nullptr;
    double x = std::strtod(item.c_str(), &end);
    if (item.empty() || *end != '\0' || !std::isfinite(x) || (positive && !(x > 0)))
      return false;
    if (comma == std::string::npos)
      return true;
    at = comma + 1;
  }
  return false;
}

bool positiveNumber(const std::string &v) {
  if (v.empty())
    return false;
  char *end = nullptr;
  double x = std::strtod(v.c_str(), &end);
  return *end == '\0' && std::isfinite(x) && x > 0;
}

} // namespace

bool isKnownSetting(const std::string &key) {
  for (const char *k : kKnown)
    if (key == k)
      return true;
  return false;
}

std::string knownSettings() {
  std::string s;
  for (const char *k : kKnown)
    s += (s.empty() ? "snn." : ", snn.") + std::string(k);
  return s;
}

std::string checkSetting(const std::string &key, const std::string &value) {
  if (key == "T")
    return wholeNumber(value, 1, kMaxTimeSteps)
               ? ""
               : "a whole number from 1 to " + std::to_string(kMaxTimeSteps);
  if (key == "epochs")
    return wholeNumber(value, 1, kMaxEpochs)
               ? ""
               : "a whole number from 1 to " + std::to_string(kMaxEpochs);
  if (key == "lr" || key == "lr_decay" || key == "na_clip" || key == "gamma")
    return positiveNumber(value) ? "" : "a finite number > 0";
  if (key == "momentum" || key == "weight_decay" || key == "lr_min")
    return nonNegativeNumber(value) ? "" : "a finite number >= 0";
  if (key == "optimizer")
    return value == "adamw" || value == "adam" || value == "sgd"
               ? ""
               : "adamw, adam or sgd";
  if (key == "nesterov")
    return value == "0" || value == "1" || value == "true" || value == "false"
               ? ""
               : "0, 1, true or false";
  if (key == "schedule")
    return value == "exponential" || value == "multistep" ||
                   value == "cosine"
               ? ""
               : "exponential, multistep or cosine";
  if (key == "milestones")
    return milestoneList(value)
               ? ""
               : "increasing whole numbers >= 1, separated by commas (30,60)";
  if (key == "input_mean")
    return numberList(value, false)
               ? ""
               : "finite numbers separated by commas, one per input channel "
                 "or one for all (0.4914,0.4822,0.4465)";
  if (key == "input_std")
    return numberList(value, true)
               ? ""
               : "numbers > 0 separated by commas, one per input channel or "
                 "one for all (0.2023,0.1994,0.2010)";
  if (key == "warmup_epochs")
    return wholeNumber(value, 0, kMaxEpochs)
               ? ""
               : "a whole number from 0 to " + std::to_string(kMaxEpochs);
  if (key == "dataset")
    return value == "fashion-mnist" || value == "mnist" ||
                   value == "cifar10" || value == "nmnist" ||
                   value == "synthetic"
               ? ""
               : "fashion-mnist, mnist, cifar10, nmnist or synthetic";
  if (key == "backward" || key == "neighborhood")
    return !value.empty() &&
                   value.find_first_not_of(
                       "abcdefghijklmnopqrstuvwxyz0123456789_-") ==
                       std::string::npos
               ? ""
               : key == "backward"
                     ? "a training method's name (na, stbp, ...)"
                     : "a strategy name (lower case letters, digits, '-', "
                       "'_')";
  return "";
}

std::string escapeToken(const std::string &s) {
  if (s.empty())
    return "%";
  static const char *hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
                 c == '+' || c == ':' || c == '/';
    if (plain) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string unescapeToken(const std::string &s) {
  if (s == "%")
    return "";
  std::string out;
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9')
      return c - '0';
    if (c >= 'A' && c <= 'F')
      return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
      return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() &&
        digit(s[i + 1]) >= 0 && digit(s[i + 2]) >= 0) {
      out += static_cast<char>(digit(s[i + 1]) * 16 + digit(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

} // namespace snnrt
