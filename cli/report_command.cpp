// backprop report MODEL [--metrics FILE] [--data PATH] [-o FILE]: one self-contained HTML page
// with the run's curves, per-layer statistics, health warnings and an evaluation on the data.
#include <fmt/format.h>

#include <memory>

#include "backprop/model.hpp"
#include "backprop/report.hpp"
#include "commands.hpp"
#include "common_options.hpp"
#include "core/atomic_file.hpp"
#include "outputs.hpp"

namespace backprop::cli {

namespace {

struct ReportArgs {
  std::string model;
  std::string metrics;
  std::string data;
  std::string output = "report.html";
  int threads = 0;
};

int run_report(const ReportArgs& a) {
  check_thread_count(a.threads);
  refuse_stdout({"-o", a.output}, "the HTML report");
  const auto lock = claim_outputs(
      {{"MODEL", a.model}, {"--metrics", a.metrics}, {"--data", a.data}}, {{"-o", a.output}});
  check_writable(a.output);
  ModelAndData loaded = a.data.empty() ? ModelAndData{load_model_for(a.model, 1024), Dataset{}}
                                       : load_model_and_data(a.model, a.data, true, {});
  Model& model = loaded.model;
  ReportInput in;
  in.info = &model.info;
  in.network = model.network.get();
  in.model_path = a.model;
  in.version = kVersion;
  if (!a.metrics.empty()) {
    in.history = read_metrics_file(a.metrics);
    in.metrics_path = a.metrics;
  }
  if (!a.data.empty()) {
    in.data = &loaded.data;
    in.data_role = "data";
  }
  ThreadPool pool(thread_count(a.threads));
  write_report(a.output, in, pool);
  fmt::print("report: {}\n", a.output);
  return kSuccess;
}

}  // namespace

void add_report_command(CLI::App& app, int& exit_code) {
  const auto [cmd, args] = add_command(
      app, "report", "Write a self-contained HTML report of a model, its training metrics and data",
      exit_code, &run_report);
  add_model_argument(cmd, args->model);
  cmd->add_option("--metrics", args->metrics,
                  "The JSON Lines file of `backprop train --metrics` (curves, layer statistics)");
  cmd->add_option("--data", args->data,
                  "Labelled data to evaluate, in the form the model was trained on (an IDX "
                  "directory means its t10k test files)");
  cmd->add_option("-o,--output", args->output, "HTML file to write")->capture_default_str();
  add_threads_option(cmd, args->threads);
}

}  // namespace backprop::cli
