// backprop info MODEL: architecture, parameter count and metadata.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "backprop/model.hpp"
#include "commands.hpp"
#include "common_options.hpp"

namespace backprop::cli {

namespace {

struct InfoArgs {
  std::string model;
  bool json = false;
};

int run_info(const InfoArgs& args) {
  const Model model = load_model_for(args.model, 1);
  const ModelInfo& info = model.info;
  const Architecture& a = info.architecture;
  if (args.json) {
    nlohmann::json j = model_metadata(info);
    j["parameters"] = a.parameter_count();
    fmt::print("{}\n", j.dump());
    return kSuccess;
  }
  fmt::print("model: {}\n", args.model);
  fmt::print("architecture: {}\n", a.describe());
  fmt::print("parameters: {}\n", a.parameter_count());
  for (std::int64_t l = 0; l < a.num_layers(); ++l)
    fmt::print("  W{0} [{1}, {2}]  b{0} [{2}]\n", l + 1, a.widths[static_cast<std::size_t>(l)],
               a.widths[static_cast<std::size_t>(l + 1)]);
  fmt::print("task: {}\n", to_string(info.task));
  fmt::print("input: {} ({} features), preprocessing: {}\n", info.input_format, a.inputs(),
             to_string(info.preprocessing.kind));
  if (!info.class_names.empty()) fmt::print("classes: {}\n", fmt::join(info.class_names, ", "));
  if (!info.feature_names.empty())
    fmt::print("features: {}\n", fmt::join(info.feature_names, ", "));
  if (!info.label_name.empty()) fmt::print("label: {}\n", info.label_name);
  for (const auto& [k, v] : info.training) fmt::print("training.{}: {}\n", k, v);
  return kSuccess;
}

}  // namespace

void add_info_command(CLI::App& app, int& exit_code) {
  const auto [cmd, args] = add_command(app, "info", "Show a model file's architecture and metadata",
                                       exit_code, &run_info);
  add_model_argument(cmd, args->model);
  add_json_flag(cmd, args->json);
}

}  // namespace backprop::cli
