// backprop predict MODEL --data PATH: one CSV row per sample with the predicted class (or
// value), optionally the class probabilities and an id column, to stdout or -o FILE.
#include <fmt/format.h>

#include <cstdio>

#include "backprop/error.hpp"
#include "backprop/evaluate.hpp"
#include "commands.hpp"
#include "common_options.hpp"
#include "core/atomic_file.hpp"

namespace backprop::cli {

namespace {

struct PredictArgs {
  std::string model;
  std::string data;
  std::string output;
  TableFlags table;
  bool probabilities = false;
  int threads = 0;
};

// RFC 4180: quote a field that holds a comma, quote or line break, doubling its quotes.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (const char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

int run_predict(const PredictArgs& a) {
  if (!a.output.empty()) check_writable(a.output);
  const auto [model, data] = load_model_and_data(a.model, a.data, false, a.table);
  print_notes(data);
  ThreadPool pool(thread_count(a.threads));
  const std::vector<float> out = predict(*model.network, data, model.info.preprocessing, pool);
  const std::int64_t r = model.network->architecture().outputs();
  const auto& names = model.info.class_names;
  const bool classify = model.info.task == Task::classification;

  std::string text;
  text += a.table.id.empty() ? "" : csv_field(a.table.id) + ",";
  text += classify
              ? "prediction"
              : csv_field(model.info.label_name.empty() ? "prediction" : model.info.label_name);
  if (classify && a.probabilities)
    for (const auto& n : names) text += "," + csv_field("p_" + n);
  text += "\n";
  for (std::int64_t i = 0; i < data.rows; ++i) {
    const float* y = out.data() + i * r;
    if (!a.table.id.empty()) text += csv_field(data.ids[static_cast<std::size_t>(i)]) + ",";
    if (classify) {
      text += csv_field(names[static_cast<std::size_t>(argmax(y, r))]);
      if (a.probabilities)
        for (std::int64_t k = 0; k < r; ++k) text += fmt::format(",{:.6g}", y[k]);
    } else {
      text += fmt::format("{:.9g}", y[0]);
    }
    text += "\n";
  }
  if (a.output.empty()) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    if (std::fflush(stdout) != 0) throw Error("cannot write predictions to standard output");
  } else {
    write_file_atomically(a.output, text);
  }
  return kSuccess;
}

}  // namespace

void add_predict_command(CLI::App& app, int& exit_code) {
  const auto [cmd, args] = add_command(
      app, "predict", "Predict a class (or value) for every sample", exit_code, &run_predict);
  add_model_argument(cmd, args->model);
  add_data_option(cmd, args->data, "Samples, with or without a label column");
  cmd->add_option("-o,--output", args->output, "Write the CSV here instead of standard output");
  cmd->add_flag("--probabilities", args->probabilities, "Add one probability column per class");
  add_table_flags(cmd, args->table, "CSV: copy this column into the output to identify rows");
  add_threads_option(cmd, args->threads);
}

}  // namespace backprop::cli
