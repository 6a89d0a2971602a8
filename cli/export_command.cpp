// backprop export MODEL -o FILE.onnx: the model as an ONNX graph any ONNX runtime runs
// (docs/onnx.md).
#include <fmt/format.h>

#include <memory>

#include "backprop/model.hpp"
#include "backprop/onnx.hpp"
#include "commands.hpp"
#include "common_options.hpp"
#include "core/atomic_file.hpp"
#include "outputs.hpp"

namespace backprop::cli {

namespace {

struct ExportArgs {
  std::string model;
  std::string output;
  bool quiet = false;
};

int run_export(const ExportArgs& a) {
  refuse_stdout({"-o", a.output}, "an ONNX file");
  const auto lock = claim_outputs({{"MODEL", a.model}}, {{"-o", a.output}});
  check_writable(a.output);
  const Model model = load_model_for(a.model, 1);
  export_onnx(a.output, *model.network, model.info);
  if (!a.quiet)
    fmt::print("exported {} ({}) to {} (ONNX opset {})\n", a.model,
               model.info.architecture.describe(), a.output, kOnnxOpset);
  return kSuccess;
}

}  // namespace

void add_export_command(CLI::App& app, int& exit_code) {
  const auto [cmd, args] =
      add_command(app, "export", "Write a model as an ONNX file", exit_code, &run_export);
  cmd->add_option("model", args->model, "Model file (.safetensors) or checkpoint")->required();
  cmd->add_option("-o,--output", args->output, "ONNX file to write")->required();
  cmd->add_flag("-q,--quiet", args->quiet, "Print nothing but errors");
}

}  // namespace backprop::cli
