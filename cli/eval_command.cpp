// backprop eval MODEL --data PATH [--json]: loss and accuracy with per-class precision/recall and
// the confusion matrix, or MSE / MAE / R^2 for regression.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "backprop/evaluate.hpp"
#include "commands.hpp"
#include "common_options.hpp"
#include "printable.hpp"

namespace backprop::cli {

namespace {

struct EvalArgs {
  std::string model;
  std::string data;
  bool json = false;
  int threads = 0;
  TableFlags table;
};

// Per class: F1 = 2 p r / (p + r) (0 when both are 0), support = the true samples of the class.
// Macro averages weigh classes equally, weighted averages by support.
struct ClassScores {
  std::vector<double> f1;
  std::vector<std::int64_t> support;
  double macro_precision = 0, macro_recall = 0, macro_f1 = 0;
  double weighted_precision = 0, weighted_recall = 0, weighted_f1 = 0;
};

ClassScores class_scores(const Evaluation& e) {
  ClassScores s;
  const auto k = static_cast<std::size_t>(e.classes);
  std::int64_t total = 0;
  for (std::size_t i = 0; i < k; ++i) {
    const double p = std::isfinite(e.precision[i]) ? e.precision[i] : 0.0;
    const double r = std::isfinite(e.recall[i]) ? e.recall[i] : 0.0;
    s.f1.push_back(p + r > 0 ? 2 * p * r / (p + r) : 0.0);
    std::int64_t support = 0;
    for (std::size_t j = 0; j < k; ++j) support += e.confusion[i * k + j];
    s.support.push_back(support);
    total += support;
    s.macro_precision += p / static_cast<double>(k);
    s.macro_recall += r / static_cast<double>(k);
    s.macro_f1 += s.f1.back() / static_cast<double>(k);
    s.weighted_precision += p * static_cast<double>(support);
    s.weighted_recall += r * static_cast<double>(support);
    s.weighted_f1 += s.f1.back() * static_cast<double>(support);
  }
  if (total > 0) {
    s.weighted_precision /= static_cast<double>(total);
    s.weighted_recall /= static_cast<double>(total);
    s.weighted_f1 /= static_cast<double>(total);
  }
  return s;
}

int run_eval(const EvalArgs& a) {
  check_thread_count(a.threads);
  const auto [model, data] = load_model_and_data(a.model, a.data, true, a.table);
  print_notes(data);
  ThreadPool pool(thread_count(a.threads));
  const Evaluation e = evaluate(*model.network, data, model.info.preprocessing, {}, pool);
  const auto& names = model.info.class_names;
  if (a.json) {
    nlohmann::json j = {{"samples", e.samples}, {"loss", e.loss}};
    if (e.task == Task::classification) {
      j["accuracy"] = e.accuracy;
      j["classes"] = names;
      j["precision"] = e.precision;
      j["recall"] = e.recall;
      const ClassScores scores = class_scores(e);
      j["f1"] = scores.f1;
      j["support"] = scores.support;
      j["macro"] = {{"precision", scores.macro_precision},
                    {"recall", scores.macro_recall},
                    {"f1", scores.macro_f1}};
      j["weighted"] = {{"precision", scores.weighted_precision},
                       {"recall", scores.weighted_recall},
                       {"f1", scores.weighted_f1}};
      nlohmann::json matrix = nlohmann::json::array();
      for (std::int64_t i = 0; i < e.classes; ++i)
        matrix.push_back(std::vector<std::int64_t>(e.confusion.begin() + i * e.classes,
                                                   e.confusion.begin() + (i + 1) * e.classes));
      j["confusion"] = matrix;
    } else {
      j["mse"] = e.mse;
      j["mae"] = e.mae;
      j["r2"] = e.r2;
    }
    fmt::print("{}\n", j.dump());
    return kSuccess;
  }
  fmt::print("model: {}\ndata: {} ({} samples)\n", a.model, data.source, e.samples);
  if (e.task == Task::regression) {
    fmt::print("mse {:.6g}  mae {:.6g}  r2 {:.4f}\n", e.mse, e.mae, e.r2);
    return kSuccess;
  }
  fmt::print("loss {:.4f}  accuracy {:.4f}\n\n", e.loss, e.accuracy);
  // Names come from the data: escaped, made distinct, and printed in full (columns widen).
  const std::vector<std::string> shown = printable_unique(names);
  const ClassScores scores = class_scores(e);
  std::size_t width = 12;  // "weighted avg"
  for (const auto& n : shown) width = std::max(width, n.size());
  fmt::print("{:<{}}  precision  recall      f1  support\n", "class", width);
  for (std::size_t k = 0; k < shown.size(); ++k)
    fmt::print("{:<{}}  {:9.4f}  {:6.4f}  {:6.4f}  {:7}\n", shown[k], width, e.precision[k],
               e.recall[k], scores.f1[k], scores.support[k]);
  fmt::print("{:<{}}  {:9.4f}  {:6.4f}  {:6.4f}  {:7}\n", "macro avg", width,
             scores.macro_precision, scores.macro_recall, scores.macro_f1, e.samples);
  fmt::print("{:<{}}  {:9.4f}  {:6.4f}  {:6.4f}  {:7}\n", "weighted avg", width,
             scores.weighted_precision, scores.weighted_recall, scores.weighted_f1, e.samples);
  std::size_t cell = 6;
  for (const auto& n : shown) cell = std::max(cell, n.size());
  for (std::int64_t i = 0; i < e.classes; ++i)
    for (std::int64_t j = 0; j < e.classes; ++j)
      cell = std::max(
          cell, std::to_string(e.confusion[static_cast<std::size_t>(i * e.classes + j)]).size());
  fmt::print("\nconfusion matrix (rows: true class, columns: predicted)\n{:<{}}", "", width);
  for (const auto& n : shown) fmt::print(" {:>{}}", n, cell);
  fmt::print("\n");
  for (std::int64_t i = 0; i < e.classes; ++i) {
    fmt::print("{:<{}}", shown[static_cast<std::size_t>(i)], width);
    for (std::int64_t j = 0; j < e.classes; ++j)
      fmt::print(" {:>{}}", e.confusion[static_cast<std::size_t>(i * e.classes + j)], cell);
    fmt::print("\n");
  }
  return kSuccess;
}

}  // namespace

void add_eval_command(CLI::App& app, int& exit_code) {
  const auto [cmd, args] =
      add_command(app, "eval", "Measure a model on labelled data", exit_code, &run_eval);
  add_model_argument(cmd, args->model);
  add_data_option(cmd, args->data,
                  "Data in the form the model was trained on (IDX directory/file or CSV)");
  add_json_flag(cmd, args->json);
  add_table_flags(cmd, args->table, "CSV: the id column (checked against the model)");
  add_threads_option(cmd, args->threads);
}

}  // namespace backprop::cli
