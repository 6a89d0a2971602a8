// backprop gradcheck: every analytic gradient against central finite differences in double
// precision, per parameter tensor; non-zero exit above the tolerance.
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>

#include "backprop/error.hpp"
#include "backprop/gradcheck.hpp"
#include "backprop/model.hpp"
#include "commands.hpp"
#include "common_options.hpp"

namespace backprop::cli {

namespace {

struct GradcheckArgs {
  std::string layers = "784,128,10";
  std::string activation = "sigmoid";
  std::string loss = "cross_entropy";
  float dropout = 0.0f;
  std::string model;
  std::int64_t batch = 4;
  std::int64_t entries = 0;
  double tolerance = 1e-6;
  std::uint64_t seed = 1;
};

int run_gradcheck(const GradcheckArgs& a) {
  GradcheckOptions options;
  options.seed = a.seed;
  options.batch = a.batch;
  options.max_entries = a.entries;
  if (a.batch < 1) throw Error(fmt::format("--batch {}: must be at least 1", a.batch));
  if (a.entries < 0) throw Error(fmt::format("--entries {}: must be at least 0", a.entries));
  if (!(a.tolerance > 0))
    throw Error(fmt::format("--tolerance {}: must be greater than 0", a.tolerance));
  if (!(a.dropout >= 0.0f && a.dropout < 1.0f))
    throw Error(fmt::format("--dropout {}: must be in [0, 1)", a.dropout));
  // Progress on standard error: a line redrawn at most 4 times a second on a terminal, else a
  // line every 10 seconds (a log shows that a long check is alive, a short one prints nothing).
  const bool terminal = isatty(STDERR_FILENO) != 0;
  const auto interval = terminal ? std::chrono::milliseconds(250) : std::chrono::seconds(10);
  auto next = std::chrono::steady_clock::now() + interval;
  bool drawn = false;
  options.progress = [&](std::int64_t done, std::int64_t total) {
    const auto now = std::chrono::steady_clock::now();
    if (now < next && done < total) return;
    if (!terminal && done == total) return;
    next = now + interval;
    fmt::print(stderr, "{}gradcheck: {}/{} entries ({:.0f}%){}", terminal ? "\r" : "", done, total,
               100.0 * static_cast<double>(done) / static_cast<double>(total),
               terminal ? "" : "\n");
    std::fflush(stderr);
    drawn = terminal;
  };
  GradcheckReport report;
  std::string what;
  if (!a.model.empty()) {
    Model model = load_model(a.model, 1);
    what = fmt::format("{} ({})", a.model, model.info.architecture.describe());
    report = gradient_check(*model.network, options);
  } else {
    Architecture arch;
    arch.widths = parse_widths(a.layers);
    if (arch.widths.size() < 2)
      throw Error(fmt::format("--layers '{}' needs at least two widths", a.layers));
    arch.activations = parse_activations(a.activation, arch.widths.size() - 2);
    arch.loss = parse_loss(a.loss);
    arch.dropout = a.dropout;
    arch.validate();
    what = arch.describe();
    report = gradient_check(arch, options);
  }
  if (drawn) fmt::print(stderr, "\r\033[K");
  fmt::print("gradient check of {}: central differences, h = {}, double precision, batch {}\n",
             what, options.step, options.batch);
  fmt::print("{:<8} {:>10} {:>10} {:>14} {:>14}\n", "tensor", "entries", "checked", "max rel error",
             "max |grad|");
  for (const auto& t : report.tensors)
    fmt::print("{:<8} {:>10} {:>10} {:>14.3e} {:>14.3e}\n", t.name, t.entries, t.checked,
               t.max_relative_error, t.max_abs_gradient);
  if (report.gradient_all_zero()) {
    fmt::print(
        stderr,
        "backprop: gradcheck FAILED: every gradient is zero, so the comparison proves nothing\n");
    return kFailure;
  }
  if (!(report.max_relative_error() <= a.tolerance)) {
    fmt::print(
        stderr,
        "backprop: gradcheck FAILED: largest relative error {:.3e} is above the tolerance {:.1e}\n",
        report.max_relative_error(), a.tolerance);
    return kFailure;
  }
  fmt::print("passed: largest relative error {:.3e} <= tolerance {:.1e}\n",
             report.max_relative_error(), a.tolerance);
  return kSuccess;
}

}  // namespace

void add_gradcheck_command(CLI::App& app, int& exit_code) {
  const auto [cmd, args] =
      add_command(app, "gradcheck", "Check every gradient against finite differences", exit_code,
                  &run_gradcheck);
  cmd->add_option("--layers", args->layers, "Widths, input to output")->capture_default_str();
  cmd->add_option("--activation", args->activation, "Hidden activation(s)")->capture_default_str();
  cmd->add_option("--loss", args->loss, "cross_entropy or mse")->capture_default_str();
  cmd->add_option("--dropout", args->dropout, "Check through a fixed dropout mask")
      ->capture_default_str();
  cmd->add_option("--model", args->model, "Check at the weights of this model file instead");
  cmd->add_option("--batch", args->batch, "Random samples in the check")->capture_default_str();
  cmd->add_option("--entries", args->entries,
                  "Check at most this many entries per tensor, chosen at random (0: all)")
      ->capture_default_str();
  cmd->add_option("--tolerance", args->tolerance, "Largest accepted relative error")
      ->capture_default_str();
  cmd->add_option("--seed", args->seed, "Seed for weights and data")
      ->capture_default_str()
      ->check(seed_validator());
}

}  // namespace backprop::cli
