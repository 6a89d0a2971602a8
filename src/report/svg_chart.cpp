#include "report/svg_chart.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace backprop::report {

namespace {

constexpr double kWidth = 480, kHeight = 270;
constexpr double kLeft = 62, kRight = 14, kTop = 30, kBottom = 40;

struct Range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  void add(double v) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  bool empty() const { return !(lo <= hi); }
  // A range of zero width is widened so that the point sits in the middle.
  void widen() {
    if (empty()) {
      lo = 0;
      hi = 1;
    } else if (hi - lo <= 1e-12 * std::max(std::abs(lo), std::abs(hi))) {
      const double pad = lo == 0 ? 1 : std::abs(lo) * 0.5;
      lo -= pad;
      hi += pad;
    }
  }
};

// Round tick steps 1, 2, 5 x 10^k giving about `count` ticks.
std::vector<double> ticks(double lo, double hi, int count) {
  const double raw = (hi - lo) / count;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (const double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * mag) {
      step = m * mag;
      break;
    }
  std::vector<double> out;
  for (double t = std::ceil(lo / step) * step; t <= hi + step * 1e-9; t += step)
    out.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  return out;
}

std::string number_label(double v) { return fmt::format("{:.4g}", v); }

// `extra` pixels below the plot hold the legend.
std::string open_svg(const std::string& id, const std::string& title, std::size_t series,
                     double extra = 0) {
  return fmt::format(
      "<svg class=\"chart\" data-chart=\"{}\" data-series=\"{}\" viewBox=\"0 0 {} {}\" "
      "role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">"
      "<text class=\"title\" x=\"{}\" y=\"18\">{}</text>",
      escape_html(id), series, kWidth, kHeight + extra, escape_html(title), kLeft,
      escape_html(title));
}

struct Axes {
  Range x, y;
  bool log_y = false;
  double px(double v) const {
    return kLeft + (v - x.lo) / (x.hi - x.lo) * (kWidth - kLeft - kRight);
  }
  double py(double v) const {
    const double t = log_y ? std::log10(v) : v;
    const double lo = log_y ? std::log10(y.lo) : y.lo;
    const double hi = log_y ? std::log10(y.hi) : y.hi;
    return kTop + (hi - t) / (hi - lo) * (kHeight - kTop - kBottom);
  }
  std::string draw(const std::string& x_label, const std::string& y_label, bool integer_x) const {
    std::string s = fmt::format(
        "<g class=\"axes\"><rect class=\"plot\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>",
        kLeft, kTop, kWidth - kLeft - kRight, kHeight - kTop - kBottom);
    std::vector<double> yt;
    if (log_y) {
      for (double e = std::ceil(std::log10(y.lo)); e <= std::floor(std::log10(y.hi)); e += 1)
        yt.push_back(std::pow(10.0, e));
      if (yt.size() > 8) {
        std::vector<double> thin;
        const std::size_t every = (yt.size() + 7) / 8;
        for (std::size_t i = 0; i < yt.size(); i += every) thin.push_back(yt[i]);
        yt = thin;
      }
    } else {
      yt = ticks(y.lo, y.hi, 5);
    }
    for (const double t : yt)
      s += fmt::format(
          "<line class=\"grid\" x1=\"{0}\" x2=\"{1}\" y1=\"{2:.1f}\" y2=\"{2:.1f}\"/>"
          "<text class=\"tick\" x=\"{3}\" y=\"{4:.1f}\" text-anchor=\"end\">{5}</text>",
          kLeft, kWidth - kRight, py(t), kLeft - 4, py(t) + 4, number_label(t));
    std::vector<double> xt = ticks(x.lo, x.hi, 6);
    if (integer_x)
      xt.erase(std::remove_if(xt.begin(), xt.end(), [](double v) { return v != std::floor(v); }),
               xt.end());
    for (const double t : xt)
      s +=
          fmt::format("<text class=\"tick\" x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                      px(t), kHeight - kBottom + 14, number_label(t));
    s += fmt::format(
        "<text class=\"label\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>"
        "<text class=\"label\" transform=\"translate(12 {}) rotate(-90)\" "
        "text-anchor=\"middle\">{}</text></g>",
        (kLeft + kWidth - kRight) / 2, kHeight - 6, escape_html(x_label),
        (kTop + kHeight - kBottom) / 2, escape_html(y_label));
    return s;
  }
};

}  // namespace

std::string escape_html(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string series_color(std::size_t i) {
  static const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd",
                                  "#ff7f0e", "#8c564b", "#e377c2", "#17becf"};
  return kColors[i % std::size(kColors)];
}

std::string line_chart(const LineChart& chart) {
  struct Drawn {
    const Series* s;
    std::vector<std::pair<double, double>> points;
  };
  std::vector<Drawn> drawn;
  Axes axes;
  axes.log_y = chart.log_y;
  for (const auto& s : chart.series) {
    Drawn d{&s, {}};
    for (std::size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i]) || (chart.log_y && s.y[i] <= 0))
        continue;
      d.points.emplace_back(s.x[i], s.y[i]);
      axes.x.add(s.x[i]);
      axes.y.add(s.y[i]);
    }
    if (!d.points.empty()) drawn.push_back(std::move(d));
  }
  axes.x.widen();
  if (chart.log_y) {
    if (axes.y.empty()) axes.y = {1, 10};
    axes.y.lo = std::pow(10.0, std::floor(std::log10(axes.y.lo)));
    axes.y.hi = std::pow(10.0, std::ceil(std::log10(axes.y.hi)));
    if (axes.y.hi <= axes.y.lo) axes.y.hi = axes.y.lo * 10;
  } else if (chart.unit_y) {
    axes.y = {-0.02, 1.02};
  } else {
    axes.y.widen();
    const double pad = (axes.y.hi - axes.y.lo) * 0.05;
    axes.y.lo -= pad;
    axes.y.hi += pad;
  }
  // The legend below the plot, two entries a row.
  const double legend_rows = std::ceil(static_cast<double>(drawn.size()) / 2);
  std::string s = open_svg(chart.id, chart.title, drawn.size(), 8 + 16 * legend_rows);
  s += axes.draw(chart.x_label, chart.y_label, true);
  for (std::size_t i = 0; i < drawn.size(); ++i) {
    const auto& d = drawn[i];
    const std::string color = series_color(i);
    s += fmt::format("<g class=\"series\" data-name=\"{}\" stroke=\"{}\" fill=\"{}\">",
                     escape_html(d.s->name), color, color);
    std::string path;
    for (const auto& [x, y] : d.points)
      path += fmt::format("{}{:.1f},{:.1f}", path.empty() ? "M" : " L", axes.px(x), axes.py(y));
    s += fmt::format("<path d=\"{}\" fill=\"none\" stroke-width=\"2\"{}/>", path,
                     d.s->dashed ? " stroke-dasharray=\"6 4\"" : "");
    for (const auto& [x, y] : d.points)
      s += fmt::format(
          "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.5\"><title>{} {}: {:.5g}</title></circle>",
          axes.px(x), axes.py(y), escape_html(d.s->name), x, y);
    const double ly = kHeight + 8 + 16 * std::floor(static_cast<double>(i) / 2);
    const double lx = i % 2 == 0 ? kLeft : (kLeft + kWidth) / 2;
    s += fmt::format(
        "<line x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\" stroke-width=\"2\"{3}/>"
        "<text class=\"legend\" x=\"{4}\" y=\"{5}\" stroke=\"none\">{6}</text></g>",
        lx, lx + 20, ly, d.s->dashed ? " stroke-dasharray=\"6 4\"" : "", lx + 24, ly + 4,
        escape_html(d.s->name));
  }
  return s + "</svg>";
}

std::string scatter_chart(const Scatter& chart) {
  Axes axes;
  std::vector<std::pair<double, double>> points;
  for (std::size_t i = 0; i < std::min(chart.x.size(), chart.y.size()); ++i) {
    if (!std::isfinite(chart.x[i]) || !std::isfinite(chart.y[i])) continue;
    points.emplace_back(chart.x[i], chart.y[i]);
    axes.x.add(chart.x[i]);
    axes.y.add(chart.y[i]);
  }
  if (chart.diagonal) {  // the same scale on both axes
    axes.x.add(axes.y.lo);
    axes.x.add(axes.y.hi);
    axes.y = axes.x;
  }
  if (chart.zero_line) axes.y.add(0);
  axes.x.widen();
  axes.y.widen();
  for (Range* r : {&axes.x, &axes.y}) {
    const double pad = (r->hi - r->lo) * 0.04;
    r->lo -= pad;
    r->hi += pad;
  }
  std::string s = open_svg(chart.id, chart.title, 1);
  s += axes.draw(chart.x_label, chart.y_label, false);
  if (chart.diagonal)
    s += fmt::format(
        "<line class=\"reference\" x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\"/>",
        axes.px(axes.x.lo), axes.py(axes.x.lo), axes.px(axes.x.hi), axes.py(axes.x.hi));
  if (chart.zero_line)
    s += fmt::format(
        "<line class=\"reference\" x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\"/>",
        axes.px(axes.x.lo), axes.py(0), axes.px(axes.x.hi), axes.py(0));
  s += fmt::format("<g class=\"series\" data-name=\"points\" fill=\"{}\">", series_color(0));
  for (const auto& [x, y] : points)
    s += fmt::format("<circle class=\"point\" cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2\"/>", axes.px(x),
                     axes.py(y));
  return s + "</g></svg>";
}

std::string heat_map(const std::string& id, const std::vector<std::string>& names,
                     const std::vector<std::int64_t>& counts) {
  const std::size_t k = names.size();
  const double label = 90, cell = std::max(18.0, std::min(44.0, 400.0 / static_cast<double>(k)));
  const double size = label + cell * static_cast<double>(k);
  std::string s = fmt::format(
      "<svg class=\"chart heat\" data-chart=\"{}\" data-series=\"1\" viewBox=\"0 0 {} {}\" "
      "role=\"img\" aria-label=\"confusion matrix\" xmlns=\"http://www.w3.org/2000/svg\">",
      escape_html(id), size + 4, size + 24);
  s +=
      fmt::format("<text class=\"label\" x=\"{}\" y=\"12\" text-anchor=\"middle\">predicted</text>",
                  label + cell * static_cast<double>(k) / 2);
  for (std::size_t j = 0; j < k; ++j)
    s +=
        fmt::format("<text class=\"tick\" transform=\"translate({:.1f} {}) rotate(-45)\">{}</text>",
                    label + cell * (static_cast<double>(j) + 0.5), label - 4,
                    escape_html(names[j].substr(0, 12)));
  for (std::size_t i = 0; i < k; ++i) {
    std::int64_t row_total = 0;
    for (std::size_t j = 0; j < k; ++j) row_total += counts[i * k + j];
    const double y = label + cell * static_cast<double>(i);
    s += fmt::format("<text class=\"tick\" x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>",
                     label - 4, y + cell / 2 + 4, escape_html(names[i].substr(0, 14)));
    for (std::size_t j = 0; j < k; ++j) {
      const std::int64_t c = counts[i * k + j];
      const double share =
          row_total > 0 ? static_cast<double>(c) / static_cast<double>(row_total) : 0.0;
      // White to blue (diagonal) or white to red (errors), by the row's share.
      const double t = i == j ? share : std::min(1.0, share * 4);
      const auto mix = [&](int full) {
        return static_cast<int>(std::lround(255 + (full - 255) * t));
      };
      const std::string fill = i == j ? fmt::format("rgb({},{},{})", mix(31), mix(119), mix(180))
                                      : fmt::format("rgb({},{},{})", mix(214), mix(39), mix(40));
      const double x = label + cell * static_cast<double>(j);
      s += fmt::format(
          "<rect class=\"cell\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" "
          "fill=\"{}\" data-count=\"{}\"><title>true {}, predicted {}: {}</title></rect>",
          x, y, cell, cell, fill, c, escape_html(names[i]), escape_html(names[j]), c);
      if (cell >= 26)
        s += fmt::format(
            "<text class=\"count{}\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>",
            t > 0.6 ? " dark" : "", x + cell / 2, y + cell / 2 + 4, c);
    }
  }
  s += fmt::format(
      "<text class=\"label\" transform=\"translate(10 {}) rotate(-90)\" "
      "text-anchor=\"middle\">true</text>",
      label + cell * static_cast<double>(k) / 2);
  return s + "</svg>";
}

}  // namespace backprop::report
