#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>

#include "backprop/health.hpp"
#include "backprop/report.hpp"
#include "core/atomic_file.hpp"
#include "report/png.hpp"
#include "report/svg_chart.hpp"

namespace backprop {

using report::escape_html;

namespace {

constexpr std::int64_t kMaxWeightImages = 256;
constexpr std::int64_t kWrongImages = 16;
constexpr std::int64_t kMaxScatterPoints = 1000;

// Print: no navigation, black on white, no section split across pages. Narrow screens: one
// column, tables scroll inside their box.
constexpr const char* kStyle = R"css(
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;color:#1d2330;background:#f5f6f8}
header{background:#1d2330;color:#fff;padding:18px 24px}
header h1{margin:0 0 4px;font-size:24px}
header p{margin:0;color:#c9cfdb;word-break:break-all}
nav{display:flex;flex-wrap:wrap;gap:4px 14px;padding:8px 24px;background:#fff;border-bottom:1px solid #dde1e8;position:sticky;top:0;z-index:1}
nav a{color:#1f5fa8;text-decoration:none;white-space:nowrap}
main{max-width:1200px;margin:0 auto;padding:12px 16px 40px}
section{background:#fff;border:1px solid #dde1e8;border-radius:6px;margin:16px 0;padding:14px 18px}
section h2{margin:0 0 10px;font-size:19px}
.cards{display:flex;flex-wrap:wrap;gap:10px}
.card{flex:1 1 140px;border:1px solid #dde1e8;border-radius:6px;padding:8px 12px}
.card b{display:block;font-size:20px}
.card span{color:#5b6475;font-size:13px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(340px,1fr));gap:12px}
svg.chart{width:100%;height:auto;display:block}
svg.heat{max-width:560px}
svg text{font-size:11px;fill:#1d2330}
svg text.title{font-size:13px;font-weight:600}
svg text.count{font-size:10px}
svg text.count.dark{fill:#fff}
svg .plot{fill:none;stroke:#9aa3b2}
svg .grid{stroke:#e6e9ef}
svg .reference{stroke:#888;stroke-dasharray:4 3}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;font-size:13px;margin:6px 0}
th,td{border-bottom:1px solid #e6e9ef;padding:3px 8px;text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left}
table.kv td{text-align:left;white-space:normal;word-break:break-word}
ul.warnings li{margin:6px 0}
.stop{color:#b00020;font-weight:600}
.images{display:flex;flex-wrap:wrap;gap:4px}
.images img{width:56px;height:56px;image-rendering:pixelated;border:1px solid #dde1e8}
.wrong{display:flex;flex-wrap:wrap;gap:10px}
.wrong figure{margin:0;width:112px;font-size:12px}
.wrong img{width:112px;height:112px;image-rendering:pixelated;display:block}
.note{color:#5b6475;font-size:13px}
@media (max-width:600px){header,nav{padding-left:12px;padding-right:12px}main{padding:6px}section{padding:10px}.grid{grid-template-columns:1fr}.images img{width:40px;height:40px}.wrong figure,.wrong img{width:84px}.wrong img{height:84px}}
@media print{body{background:#fff;font-size:11pt}nav{display:none}header{background:#fff;color:#000;border-bottom:2px solid #000}header p{color:#000}section{border:none;border-radius:0;padding:0;margin:12px 0;break-inside:avoid}main{max-width:none;padding:0}.grid{grid-template-columns:1fr 1fr}a{color:#000}}
)css";

double nan() { return std::numeric_limits<double>::quiet_NaN(); }

std::string fmt_or_dash(double v, const char* spec = "{:.4f}") {
  return std::isfinite(v) ? fmt::format(fmt::runtime(spec), v) : std::string("-");
}

std::string section(const std::string& id, const std::string& title, const std::string& body) {
  return fmt::format("<section id=\"{}\"><h2>{}</h2>{}</section>\n", id, escape_html(title), body);
}

std::string kv_table(const std::vector<std::pair<std::string, std::string>>& rows) {
  std::string s = "<div class=\"table-wrap\"><table class=\"kv\">";
  for (const auto& [k, v] : rows)
    s += fmt::format("<tr><th>{}</th><td>{}</td></tr>", escape_html(k), escape_html(v));
  return s + "</table></div>";
}

std::vector<double> epochs_of(const std::vector<EpochMetrics>& h) {
  std::vector<double> x;
  for (const auto& m : h) x.push_back(static_cast<double>(m.epoch));
  return x;
}

template <class F>
report::Series series_of(const std::vector<EpochMetrics>& h, const std::string& name, F field,
                         bool dashed = false) {
  report::Series s{name, epochs_of(h), {}, dashed};
  for (const auto& m : h) s.y.push_back(field(m));
  return s;
}

std::string curves(const std::vector<EpochMetrics>& h, bool classify) {
  if (h.empty()) return "<p class=\"note\">No metrics file was given: no curves.</p>";
  std::string s = "<div class=\"grid\">";
  report::LineChart loss{"loss", "Loss", "epoch", "loss", false, {}};
  loss.series.push_back(series_of(h, "train", [](const auto& m) { return m.train_loss; }));
  loss.series.push_back(series_of(h, "validation", [](const auto& m) { return m.val_loss; }));
  loss.series.push_back(series_of(h, "test", [](const auto& m) { return m.test_loss; }));
  s += report::line_chart(loss);
  if (classify) {
    report::LineChart acc{"accuracy", "Accuracy", "epoch", "accuracy", false, {}};
    acc.series.push_back(series_of(h, "train", [](const auto& m) { return m.train_accuracy; }));
    acc.series.push_back(series_of(h, "validation", [](const auto& m) { return m.val_accuracy; }));
    acc.series.push_back(series_of(h, "test", [](const auto& m) { return m.test_accuracy; }));
    s += report::line_chart(acc);
  }
  report::LineChart lr{"learning_rate", "Learning rate", "epoch", "learning rate", false, {}};
  lr.series.push_back(series_of(h, "learning rate", [](const auto& m) { return m.learning_rate; }));
  s += report::line_chart(lr);
  s += "</div>";
  // Every epoch as a table too (exact values, and readable when printed).
  s += "<div class=\"table-wrap\"><table><tr><th>epoch</th><th>lr</th><th>train loss</th>"
       "<th>train acc</th><th>val loss</th><th>val acc</th><th>test loss</th><th>test acc</th>"
       "<th>seconds</th><th>samples/s</th></tr>";
  for (const auto& m : h)
    s += fmt::format(
        "<tr><td>{}</td><td>{:.4g}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td>{}</td><td>{:.2f}</td><td>{:.0f}</td></tr>",
        m.epoch, m.learning_rate, fmt_or_dash(m.train_loss), fmt_or_dash(m.train_accuracy),
        fmt_or_dash(m.val_loss), fmt_or_dash(m.val_accuracy), fmt_or_dash(m.test_loss),
        fmt_or_dash(m.test_accuracy), m.seconds, m.samples_per_second);
  return s + "</table></div>";
}

std::string layer_label(const Architecture& a, std::int64_t layer) {
  const auto l = static_cast<std::size_t>(layer - 1);
  const bool hidden = l + 1 < a.widths.size() - 1;
  return fmt::format("layer {} ({}-{}{})", layer, a.widths[l], a.widths[l + 1],
                     hidden ? ", " + to_string(a.activations[l]) : std::string(", output"));
}

std::string layer_charts(const std::vector<EpochMetrics>& h, const Architecture& arch) {
  bool any = false;
  for (const auto& m : h) any = any || !m.layers.empty();
  if (!any)
    return "<p class=\"note\">The metrics hold no per-layer statistics (trained with "
           "--no-layer-stats, or no metrics file).</p>";
  struct Stat {
    const char* id;
    const char* title;
    bool log;
    double LayerStats::*field;
  };
  const Stat stats[] = {
      {"weight_norm", "Weight norm ||W||", false, &LayerStats::weight_norm},
      {"grad_norm", "Gradient norm ||dW|| (sampled step)", true, &LayerStats::grad_norm},
      {"update_ratio", "Update / weight ratio ||dW lr|| / ||W||", true, &LayerStats::update_ratio},
      {"dead_fraction", "Dead units (ReLU)", false, &LayerStats::dead_fraction},
      {"saturated_fraction", "Saturated units (sigmoid, tanh)", false,
       &LayerStats::saturated_fraction},
      {"activation_mean", "Activation mean", false, &LayerStats::activation_mean},
      {"activation_std", "Activation spread (standard deviation)", false,
       &LayerStats::activation_std},
  };
  std::string s = "<div class=\"grid\">";
  for (const Stat& st : stats) {
    report::LineChart c{st.id, st.title, "epoch", st.id, st.log, {}};
    c.unit_y =
        st.field == &LayerStats::dead_fraction || st.field == &LayerStats::saturated_fraction;
    for (std::int64_t layer = 1; layer <= arch.num_layers(); ++layer) {
      report::Series series{layer_label(arch, layer), {}, {}, false};
      for (const auto& m : h)
        for (const auto& ls : m.layers)
          if (ls.layer == layer) {
            series.x.push_back(static_cast<double>(m.epoch));
            series.y.push_back(ls.*st.field);
          }
      c.series.push_back(std::move(series));
    }
    const std::string svg = report::line_chart(c);
    // A statistic that applies to no layer of this network (dead units without ReLU) is left out.
    if (svg.find("data-series=\"0\"") == std::string::npos) s += svg;
  }
  return s + "</div>";
}

std::string health_section(const std::vector<EpochMetrics>& h, const ModelInfo& info,
                           const Dataset* data) {
  Baseline b;
  b.accuracy = nan();
  if (data != nullptr && data->task == Task::classification) {
    std::vector<std::int64_t> rows(static_cast<std::size_t>(data->rows));
    std::iota(rows.begin(), rows.end(), std::int64_t{0});
    b = baseline_of(*data, info.preprocessing, rows);
  }
  HealthMonitor monitor(info.architecture, info.task, b);
  std::string items;
  for (const auto& m : h)
    for (const auto& f : monitor.check_epoch(m))
      items +=
          fmt::format("<li class=\"{}\" data-check=\"{}\">{}</li>", f.stop ? "stop" : "warning",
                      escape_html(f.check), escape_html(f.message));
  if (items.empty())
    return "<p class=\"ok\">No warnings: no dead or saturated layer, no vanishing gradient, the "
           "loss improved, the accuracy is above chance.</p>";
  return "<ul class=\"warnings\">" + items + "</ul>";
}

std::string classification_section(const Evaluation& e, const std::vector<std::string>& names) {
  std::string s = fmt::format(
      "<div class=\"cards\"><div class=\"card\"><b>{:.4f}</b><span>accuracy</span></div>"
      "<div class=\"card\"><b>{:.4f}</b><span>loss (cross-entropy)</span></div>"
      "<div class=\"card\"><b>{}</b><span>samples</span></div></div>",
      e.accuracy, e.loss, e.samples);
  s += "<div class=\"grid\"><div>" + report::heat_map("confusion", names, e.confusion) + "</div>";
  s += "<div class=\"table-wrap\"><table class=\"per-class\"><tr><th>class</th><th>precision</th>"
       "<th>recall</th><th>F1</th><th>support</th></tr>";
  const auto k = static_cast<std::size_t>(e.classes);
  for (std::size_t c = 0; c < k; ++c) {
    std::int64_t support = 0;
    for (std::size_t j = 0; j < k; ++j) support += e.confusion[c * k + j];
    const double p = e.precision[c], r = e.recall[c];
    const double f1 = p + r > 0 ? 2 * p * r / (p + r) : 0.0;
    s += fmt::format("<tr><td>{}</td><td>{:.3f}</td><td>{:.3f}</td><td>{:.3f}</td><td>{}</td></tr>",
                     escape_html(c < names.size() ? names[c] : std::to_string(c)), p, r, f1,
                     support);
  }
  return s + "</table></div></div>";
}

std::string regression_section(const Evaluation& e, const Dataset& data,
                               const std::vector<float>& predicted) {
  std::string s = fmt::format(
      "<div class=\"cards\"><div class=\"card\"><b>{:.4g}</b><span>MSE</span></div>"
      "<div class=\"card\"><b>{:.4g}</b><span>MAE</span></div>"
      "<div class=\"card\"><b>{:.4f}</b><span>R&#178;</span></div>"
      "<div class=\"card\"><b>{}</b><span>samples</span></div></div>",
      e.mse, e.mae, e.r2, e.samples);
  // Evenly spaced samples, at most kMaxScatterPoints.
  report::Scatter fit{
      "predicted_vs_true", "Predicted against true", "true", "predicted", {}, {}, true, false};
  report::Scatter res{
      "residuals", "Residuals (predicted - true)", "predicted", "residual", {}, {}, false, true};
  const std::int64_t n = data.rows;
  const std::int64_t shown = std::min(n, kMaxScatterPoints);
  for (std::int64_t k = 0; k < shown; ++k) {
    const auto i = static_cast<std::size_t>(k * n / shown);
    const auto t = static_cast<double>(data.targets[i]);
    const auto p = static_cast<double>(predicted[i]);
    fit.x.push_back(t);
    fit.y.push_back(p);
    res.x.push_back(p);
    res.y.push_back(p - t);
  }
  s += "<div class=\"grid\">" + report::scatter_chart(fit) + report::scatter_chart(res) + "</div>";
  if (shown < n)
    s += fmt::format("<p class=\"note\">{} of {} samples shown, evenly spaced.</p>", shown, n);
  return s;
}

// The side of a square image of p pixels (0 if p is not a square).
std::int64_t image_side(std::int64_t p) {
  const auto side = static_cast<std::int64_t>(std::lround(std::sqrt(static_cast<double>(p))));
  return side * side == p ? side : 0;
}

// Negative weights blue, positive red, zero white; scaled by the unit's largest |w|.
std::string weights_section(const Network& net, std::int64_t side) {
  const View<const float> w = net.weight(0);
  const std::int64_t units = std::min(w.cols, kMaxWeightImages);
  std::string s = fmt::format(
      "<p class=\"note\">Each image is one column of W1 ({} inputs) reshaped to {}x{}: the input "
      "pattern the hidden unit responds to. Red: positive weight, blue: negative, white: 0 "
      "(each unit scaled by its largest |w|).{}</p><div class=\"images\">",
      w.rows, side, side,
      units < w.cols ? fmt::format(" The first {} of {} units.", units, w.cols) : std::string());
  for (std::int64_t j = 0; j < units; ++j) {
    float top = 0;
    for (std::int64_t i = 0; i < w.rows; ++i) top = std::max(top, std::abs(w(i, j)));
    std::vector<std::uint8_t> rgb;
    rgb.reserve(static_cast<std::size_t>(w.rows * 3));
    for (std::int64_t i = 0; i < w.rows; ++i) {
      const double v = top > 0 ? static_cast<double>(w(i, j) / top) : 0.0;
      const auto fade = static_cast<std::uint8_t>(std::lround(255 * (1 - std::abs(v))));
      if (v >= 0) {
        rgb.insert(rgb.end(), {255, fade, fade});
      } else {
        rgb.insert(rgb.end(), {fade, fade, 255});
      }
    }
    s += fmt::format("<img src=\"{}\" alt=\"weights of hidden unit {}\" title=\"unit {}\">",
                     report::png_data_uri(side, side, rgb), j + 1, j + 1);
  }
  return s + "</div>";
}

std::string wrong_section(const Dataset& data, const std::vector<float>& probabilities,
                          std::int64_t classes, std::int64_t side) {
  struct Wrong {
    std::int64_t row;
    std::int64_t predicted;
    float confidence;
  };
  std::vector<Wrong> wrong;
  for (std::int64_t i = 0; i < data.rows; ++i) {
    const float* p = probabilities.data() + i * classes;
    const std::int64_t k = argmax(p, classes);
    if (k != data.labels[static_cast<std::size_t>(i)]) wrong.push_back({i, k, p[k]});
  }
  std::stable_sort(wrong.begin(), wrong.end(),
                   [](const Wrong& a, const Wrong& b) { return a.confidence > b.confidence; });
  if (wrong.size() > static_cast<std::size_t>(kWrongImages))
    wrong.resize(static_cast<std::size_t>(kWrongImages));
  if (wrong.empty()) return "<p class=\"note\">No sample was misclassified.</p>";
  const auto name = [&](std::int64_t c) {
    return c < data.num_classes() ? data.class_names[static_cast<std::size_t>(c)]
                                  : std::to_string(c);
  };
  std::string s = "<div class=\"wrong\">";
  for (const auto& w : wrong) {
    std::vector<std::uint8_t> rgb;
    for (std::int64_t j = 0; j < data.features; ++j) {
      const auto v = static_cast<std::uint8_t>(std::clamp(data.raw(w.row, j), 0.0f, 255.0f));
      rgb.insert(rgb.end(), {v, v, v});
    }
    s += fmt::format(
        "<figure><img src=\"{}\" alt=\"sample {}\"><figcaption>#{}: true <b>{}</b>, predicted "
        "<b>{}</b> ({:.1f}%)</figcaption></figure>",
        report::png_data_uri(side, side, rgb), w.row, w.row,
        escape_html(name(data.labels[static_cast<std::size_t>(w.row)])),
        escape_html(name(w.predicted)), 100.0 * static_cast<double>(w.confidence));
  }
  return s + "</div>";
}

std::string run_section(const ReportInput& in, const std::vector<EpochMetrics>& h) {
  const ModelInfo& info = *in.info;
  std::vector<std::pair<std::string, std::string>> rows;
  rows.reserve(32);
  const auto add = [&rows](std::string key, std::string value) {
    rows.push_back({std::move(key), std::move(value)});
  };
  add("architecture", info.architecture.describe());
  add("parameters", std::to_string(info.architecture.parameter_count()));
  if (info.architecture.dropout > 0) add("dropout", fmt::format("{}", info.architecture.dropout));
  add("task", info.task == Task::classification ? "classification" : "regression");
  add("input",
      fmt::format("{}, preprocessing {}", info.input_format, to_string(info.preprocessing.kind)));
  if (!info.class_names.empty()) {
    std::string classes;
    for (const auto& c : info.class_names) classes += (classes.empty() ? "" : ", ") + c;
    add("classes", classes);
  }
  if (!info.label_name.empty()) add("label column", info.label_name);
  for (const auto& [k, v] : info.training) add(k, v);
  if (in.data != nullptr) {
    add("evaluated on", fmt::format("{} {} ({} samples, {} features)", in.data_role,
                                    in.data->source, in.data->rows, in.data->features));
    add("data hash (FNV-1a 64)", dataset_hash(*in.data));
  }
  if (!in.model_path.empty()) add("model file", in.model_path);
  if (!in.metrics_path.empty()) add("metrics file", in.metrics_path);
  if (!h.empty()) {
    double seconds = 0, samples = 0;
    for (const auto& m : h) {
      seconds += m.seconds;
      samples += m.seconds * m.samples_per_second;
    }
    add("epochs recorded", std::to_string(h.size()));
    add("training time", fmt::format("{:.2f} s ({:.2f} s per epoch, {:.0f} samples/s)", seconds,
                                     seconds / static_cast<double>(h.size()),
                                     seconds > 0 ? samples / seconds : 0.0));
  }
  add("version", in.version);
  return kv_table(rows);
}

}  // namespace

std::string dataset_hash(const Dataset& data) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  const auto mix = [&](const void* p, std::size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (std::size_t i = 0; i < n; ++i) {
      h ^= b[i];
      h *= 0x100000001b3ULL;
    }
  };
  mix(&data.rows, sizeof data.rows);
  mix(&data.features, sizeof data.features);
  mix(data.bytes.data(), data.bytes.size());
  mix(data.values.data(), data.values.size() * sizeof(float));
  mix(data.labels.data(), data.labels.size() * sizeof(std::int32_t));
  mix(data.targets.data(), data.targets.size() * sizeof(float));
  return fmt::format("{:016x}", h);
}

std::string render_report(const ReportInput& in, ThreadPool& pool) {
  if (in.info == nullptr || in.network == nullptr)
    throw Error("render_report: a model (info and network) is required");
  const ModelInfo& info = *in.info;
  Network& net = *in.network;
  const bool classify = info.task == Task::classification;
  const auto& h = in.history;

  std::string title = "backprop report: " + info.architecture.describe();
  std::string cards;
  if (!h.empty()) {
    const EpochMetrics& last = h.back();
    const auto card = [&](double v, const char* spec, const char* label) {
      if (std::isfinite(v))
        cards += fmt::format("<div class=\"card\"><b>{}</b><span>{}</span></div>",
                             fmt::format(fmt::runtime(spec), v), label);
    };
    card(last.test_accuracy, "{:.4f}", "final test accuracy");
    card(last.val_accuracy, "{:.4f}", "final validation accuracy");
    card(last.train_accuracy, "{:.4f}", "final training accuracy");
    card(last.test_loss, "{:.4g}", "final test loss");
    card(last.train_loss, "{:.4g}", "final training loss");
    card(static_cast<double>(last.epoch), "{:.0f}", "epochs");
  }

  std::string body;
  body += section("summary", "Summary",
                  (cards.empty() ? std::string() : "<div class=\"cards\">" + cards + "</div>"));
  body += section("curves", "Loss, accuracy and learning rate", curves(h, classify));
  body += section("layers", "Per-layer statistics", layer_charts(h, info.architecture));
  body += section("health", "Health checks", health_section(h, info, in.data));

  std::string nav_extra;
  if (in.data != nullptr) {
    const Evaluation e = evaluate(net, *in.data, info.preprocessing, {}, pool);
    const std::vector<float> outputs = predict(net, *in.data, info.preprocessing, pool);
    const std::string heading = "Evaluation on the " + in.data_role;
    body += section("evaluation", heading,
                    classify ? classification_section(e, info.class_names)
                             : regression_section(e, *in.data, outputs));
    const std::int64_t side = in.data->is_bytes() ? image_side(in.data->features) : 0;
    if (side > 0 && info.architecture.num_layers() >= 2) {
      body += section("weights", "First-layer weights as images", weights_section(net, side));
      nav_extra += "<a href=\"#weights\">Weights</a>";
    }
    if (side > 0 && classify) {
      body += section("wrong", "Most confidently wrong",
                      wrong_section(*in.data, outputs, info.architecture.outputs(), side));
      nav_extra += "<a href=\"#wrong\">Wrong</a>";
    }
  }
  body += section("run", "Run", run_section(in, h));

  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>{}</title>\n<style>{}</style>\n</head>\n<body>\n"
      "<header><h1>Training report</h1><p>{}{}</p></header>\n"
      "<nav><a href=\"#summary\">Summary</a><a href=\"#curves\">Curves</a>"
      "<a href=\"#layers\">Layers</a><a href=\"#health\">Health</a>{}{}<a href=\"#run\">Run</a>"
      "</nav>\n<main>\n{}</main>\n</body>\n</html>\n",
      escape_html(title), kStyle, escape_html(info.architecture.describe()),
      in.model_path.empty() ? std::string() : " &middot; " + escape_html(in.model_path),
      in.data != nullptr ? "<a href=\"#evaluation\">Evaluation</a>" : "", nav_extra, body);
}

void write_report(const std::filesystem::path& path, const ReportInput& input, ThreadPool& pool) {
  write_file_atomically(path, render_report(input, pool));
}

std::vector<EpochMetrics> read_metrics_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw Error(fmt::format("{}: cannot open the metrics file", path.string()));
  std::vector<EpochMetrics> out;
  std::string line;
  std::int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      out.push_back(epoch_metrics_from_json(line));
    } catch (const Error& e) {
      throw Error(fmt::format("{}:{}: {}", path.string(), number, e.what()));
    }
  }
  return out;
}

}  // namespace backprop
