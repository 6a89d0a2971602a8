#pragma once
// Inline SVG charts for the HTML report, drawn here in C++ (no script, no external file).
// Every chart is <svg class="chart" data-chart="ID" data-series="N"> with one
// <g class="series" data-name="..."> per drawn series, so tests can count what was drawn.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace backprop::report {

// Text for HTML content and attribute values: & < > " ' escaped.
std::string escape_html(std::string_view text);

struct Series {
  std::string name;
  std::vector<double> x, y;  // points with a non-finite coordinate are left out
  bool dashed = false;
};

struct LineChart {
  std::string id;  // data-chart
  std::string title;
  std::string x_label, y_label;
  bool log_y = false;  // points <= 0 are left out
  std::vector<Series> series;
  bool unit_y = false;  // y axis from 0 to 1 (fractions)
};
// Series without a drawable point are not drawn (and not counted in data-series).
std::string line_chart(const LineChart& chart);

struct Scatter {
  std::string id, title, x_label, y_label;
  std::vector<double> x, y;
  bool diagonal = false;   // the line y = x
  bool zero_line = false;  // the line y = 0
};
// One <circle class="point"> per point.
std::string scatter_chart(const Scatter& chart);

// A k x k matrix of counts as a heat map (rows: true class, columns: predicted), shaded by
// each row's share; one <rect class="cell"> per cell.
std::string heat_map(const std::string& id, const std::vector<std::string>& names,
                     const std::vector<std::int64_t>& counts);

// The colour of series i.
std::string series_color(std::size_t i);

}  // namespace backprop::report
