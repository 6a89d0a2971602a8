// backprop predict MODEL --data PATH: one CSV row per sample with the predicted class (or
// value), optionally the class probabilities and an id column, to stdout or -o FILE. Standard
// output ("-o -" too) is streamed as the rows are formatted; a file is written atomically.
#include <fmt/format.h>

#include <cstdio>

#include "backprop/error.hpp"
#include "backprop/evaluate.hpp"
#include "commands.hpp"
#include "common_options.hpp"
#include "core/atomic_file.hpp"
#include "outputs.hpp"
#include "printable.hpp"
#include "signals.hpp"

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
  check_thread_count(a.threads);
  const std::atomic<bool>& stop = install_interrupt_handlers();
  const bool to_stdout = a.output.empty() || is_stdout_path(a.output);
  const auto lock = claim_outputs({{"MODEL", a.model}, {"--data", a.data}},
                                  {{"-o", to_stdout ? std::string() : a.output}});
  if (!to_stdout) check_writable(a.output);
  const auto [model, data] = load_model_and_data(a.model, a.data, false, a.table);
  print_notes(data);
  const bool classify = model.info.task == Task::classification;
  if (a.probabilities && !classify)
    throw Error(
        fmt::format("--probabilities: {} is a regression model, which predicts a value, "
                    "not class probabilities; leave --probabilities out",
                    a.model));
  ThreadPool pool(thread_count(a.threads));
  const std::vector<float> out = predict(*model.network, data, model.info.preprocessing, pool);
  const std::int64_t r = model.network->architecture().outputs();
  const auto& names = model.info.class_names;

  // Headers come from the data's names: escaped and made distinct (printable.hpp).
  std::string text;
  text += a.table.id.empty() ? "" : csv_field(printable(a.table.id)) + ",";
  text += classify ? "prediction"
                   : csv_field(model.info.label_name.empty() ? "prediction"
                                                             : printable(model.info.label_name));
  if (classify && a.probabilities)
    for (const auto& n : printable_unique(names)) text += "," + csv_field("p_" + n);
  text += "\n";
  // Streamed in pieces of about 1 MiB; a file gets all of it in one atomic write.
  constexpr std::size_t kChunk = std::size_t{1} << 20;
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
    if (to_stdout && text.size() >= kChunk) {
      write_stdout(text);
      text.clear();
    }
  }
  if (stop.load()) {
    fmt::print(stderr, "backprop: interrupted (signal {}); {} was not written\n", stop_signal(),
               to_stdout ? "nothing more" : a.output);
    return kInterrupted;
  }
  if (to_stdout) {
    write_stdout(text);
    flush_stdout();
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
  cmd->add_option("-o,--output", args->output,
                  "Write the CSV to this file (atomically) instead of standard output (-)");
  cmd->add_flag("--probabilities", args->probabilities, "Add one probability column per class");
  add_table_flags(cmd, args->table, "CSV: copy this column into the output to identify rows");
  add_threads_option(cmd, args->threads);
}

}  // namespace backprop::cli
