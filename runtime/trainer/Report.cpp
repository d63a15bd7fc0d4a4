//===- Report.cpp - progress bar, metrics lines, SVG plot -------------------===//
#include "Report.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

namespace snnrt {

Progress::Progress(int64_t epoch, int64_t epochs, int64_t total)
    : epoch(epoch), epochs(epochs), total(total), tty(::isatty(2)),
      start(std::chrono::steady_clock::now()), lastPrint(start) {}

void Progress::update(int64_t done, int64_t samples, double loss, double acc) {
  auto now = std::chrono::steady_clock::now();
  double since = std::chrono::duration<double>(now - lastPrint).count();
  if (done < total && since < (tty ? 0.2 : 10.0))
    return;
  lastPrint = now;
  double elapsed = std::chrono::duration<double>(now - start).count();
  double rate = elapsed > 0 ? samples / elapsed : 0.0;
  double eta = done > 0 ? elapsed * (total - done) / done : 0.0;
  char line[256];
  if (tty) {
    int width = 30, filled = static_cast<int>(width * done / std::max<int64_t>(total, 1));
    std::string bar(filled, '=');
    if (filled < width)
      bar += '>' + std::string(width - filled - 1, ' ');
    std::snprintf(line, sizeof(line),
                  "\repoch %lld/%lld [%s] %lld/%lld loss %.4f acc %5.1f%% "
                  "%.0f samples/s ETA %d:%02d ",
                  (long long)epoch, (long long)epochs, bar.c_str(),
                  (long long)done, (long long)total, loss, 100.0 * acc, rate,
                  static_cast<int>(eta) / 60, static_cast<int>(eta) % 60);
  } else {
    std::snprintf(line, sizeof(line),
                  "epoch %lld/%lld batch %lld/%lld loss %.4f acc %.1f%% %.0f "
                  "samples/s ETA %ds\n",
                  (long long)epoch, (long long)epochs, (long long)done,
                  (long long)total, loss, 100.0 * acc, rate,
                  static_cast<int>(eta));
  }
  std::fputs(line, stderr);
  std::fflush(stderr);
}

void Progress::finish() {
  if (tty)
    std::fputs("\n", stderr);
}

std::string metricsLine(const EpochRecord &r, const char *evalSet) {
  char buf[512];
  std::snprintf(buf, sizeof(buf),
                "{\"epoch\": %lld, \"train_loss\": %.6g, \"train_accuracy\": "
                "%.6g, \"%s_accuracy\": %.6g, \"seconds\": %.3f, "
                "\"samples_per_second\": %.1f, \"lr\": %.6g}\n",
                (long long)r.epoch, r.loss, r.trainAcc, evalSet, r.testAcc, r.seconds,
                r.samplesPerSecond, r.lr);
  return buf;
}

std::string plotSVG(const std::vector<EpochRecord> &history,
                    const char *evalSet) {
  const double w = 640, h = 360, left = 60, right = 60, top = 30, bottom = 40;
  double maxLoss = 1e-9;
  for (const EpochRecord &r : history)
    maxLoss = std::max(maxLoss, r.loss);
  size_t n = history.size();
  auto x = [&](size_t i) {
    return left + (n > 1 ? (w - left - right) * i / (n - 1) : 0.0);
  };
  auto y = [&](double v, double max) {
    return top + (h - top - bottom) * (1.0 - v / max);
  };
  std::ostringstream os;
  os << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << w
     << "\" height=\"" << h << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
     << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
     << "<line x1=\"" << left << "\" y1=\"" << h - bottom << "\" x2=\""
     << w - right << "\" y2=\"" << h - bottom << "\" stroke=\"black\"/>\n"
     << "<text x=\"" << w / 2 << "\" y=\"" << h - 8
     << "\" text-anchor=\"middle\">epoch</text>\n"
     << "<text x=\"10\" y=\"20\" fill=\"#c0392b\">train loss (max "
     << maxLoss << ")</text>\n"
     << "<text x=\"" << w - 10 << "\" y=\"20\" text-anchor=\"end\" "
     << "fill=\"#2471a3\">" << evalSet << " accuracy (0-100%)</text>\n";
  auto polyline = [&](const char *color, auto value, double max) {
    os << "<polyline fill=\"none\" stroke=\"" << color
       << "\" stroke-width=\"2\" points=\"";
    for (size_t i = 0; i < n; ++i)
      os << x(i) << "," << y(value(history[i]), max) << " ";
    os << "\"/>\n";
    for (size_t i = 0; i < n; ++i)
      os << "<circle cx=\"" << x(i) << "\" cy=\"" << y(value(history[i]), max)
         << "\" r=\"3\" fill=\"" << color << "\"/>\n";
  };
  polyline("#c0392b", [](const EpochRecord &r) { return r.loss; }, maxLoss);
  polyline("#2471a3", [](const EpochRecord &r) { return r.testAcc; }, 1.0);
  for (size_t i = 0; i < n; ++i)
    os << "<text x=\"" << x(i) << "\" y=\"" << h - bottom + 15
       << "\" text-anchor=\"middle\">" << history[i].epoch << "</text>\n";
  os << "</svg>\n";
  return os.str();
}

} // namespace snnrt
