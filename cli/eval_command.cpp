// backprop eval MODEL --data PATH [--json]: loss and accuracy with per-class precision/recall and
// the confusion matrix, or MSE / MAE / R^2 for regression.
#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "backprop/evaluate.hpp"
#include "commands.hpp"
#include "common_options.hpp"

namespace backprop::cli {

namespace {

struct EvalArgs {
  std::string model;
  std::string data;
  bool json = false;
  int threads = 0;
  TableFlags table;
};

int run_eval(const EvalArgs& a) {
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
  std::size_t width = 5;
  for (const auto& n : names) width = std::max(width, n.size());
  fmt::print("{:<{}}  precision  recall\n", "class", width);
  for (std::size_t k = 0; k < names.size(); ++k)
    fmt::print("{:<{}}  {:9.4f}  {:6.4f}\n", names[k], width, e.precision[k], e.recall[k]);
  fmt::print("\nconfusion matrix (rows: true class, columns: predicted)\n{:<{}}", "", width);
  for (const auto& n : names) fmt::print(" {:>6}", n.substr(0, 6));
  fmt::print("\n");
  for (std::int64_t i = 0; i < e.classes; ++i) {
    fmt::print("{:<{}}", names[static_cast<std::size_t>(i)], width);
    for (std::int64_t j = 0; j < e.classes; ++j)
      fmt::print(" {:>6}", e.confusion[static_cast<std::size_t>(i * e.classes + j)]);
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
