// backprop import FILE.onnx -o MODEL.safetensors: an MLP written by PyTorch, skl2onnx, a Keras
// converter or backprop, as a backprop model (docs/onnx.md says which graphs are read).
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

struct ImportArgs {
  std::string onnx;
  std::string output;
  bool quiet = false;
};

int run_import(const ImportArgs& a) {
  refuse_stdout({"-o", a.output}, "a model file");
  const auto lock = claim_outputs({{"ONNX", a.onnx}}, {{"-o", a.output}});
  check_writable(a.output);
  const Model model = import_onnx(a.onnx, 1);
  save_model(a.output, *model.network, model.info);
  if (!a.quiet) {
    const ModelInfo& info = model.info;
    fmt::print("imported {} to {}: {}; {}; preprocessing {}\n", a.onnx, a.output,
               info.architecture.describe(),
               info.task == Task::classification
                   ? fmt::format("classes {}", fmt::join(info.class_names, ", "))
                   : std::string("regression"),
               to_string(info.preprocessing.kind));
  }
  return kSuccess;
}

}  // namespace

void add_import_command(CLI::App& app, int& exit_code) {
  const auto [cmd, args] = add_command(app, "import", "Read an ONNX MLP into a backprop model file",
                                       exit_code, &run_import);
  cmd->add_option("onnx", args->onnx, "ONNX file")->required();
  cmd->add_option("-o,--output", args->output, "Model file to write (.safetensors)")->required();
  cmd->add_flag("-q,--quiet", args->quiet, "Print nothing but errors");
}

}  // namespace backprop::cli
