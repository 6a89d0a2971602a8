// The `backprop` command: a thin layer over the library. Every error becomes one line on
// stderr and a non-zero exit status (see commands.hpp).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <new>

#include "backprop/error.hpp"
#include "backprop/trainer.hpp"
#include "commands.hpp"
#include "outputs.hpp"
#include "usage.hpp"

int main(int argc, char** argv) {
  using namespace backprop::cli;
  CLI::App app{"backprop: train, evaluate and apply fully-connected neural networks"};
  app.require_subcommand(1);
  app.set_version_flag("--version", kVersion);
  int exit_code = kSuccess;
  add_train_command(app, exit_code);
  add_eval_command(app, exit_code);
  add_predict_command(app, exit_code);
  add_gradcheck_command(app, exit_code);
  add_info_command(app, exit_code);
  add_export_command(app, exit_code);
  add_import_command(app, exit_code);
  add_report_command(app, exit_code);
  try {
    app.parse(argc, argv);
    // What was printed must have arrived: `backprop eval ... > /dev/full` is an error.
    try {
      flush_stdout();
    } catch (const backprop::Error&) {
      if (exit_code == kSuccess) throw;  // else the run's own failure is the one to report
    }
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // The help of the subcommand being parsed, which lists the options it takes.
    const auto chosen = app.get_subcommands();
    fmt::print(stderr, "backprop: error: {} {}\n", e.what(),
               help_pointer(chosen.empty() ? app : *chosen.front()));
    return kUsage;
  } catch (const UsageError& e) {
    fmt::print(stderr, "backprop: error: {}\n", e.what());
    return kUsage;
  } catch (const backprop::DivergenceError& e) {
    fmt::print(stderr, "backprop: error: {}\n", e.what());
    return kDiverged;
  } catch (const backprop::Error& e) {
    fmt::print(stderr, "backprop: error: {}\n", e.what());
    return kFailure;
  } catch (const std::bad_alloc&) {
    fmt::print(stderr, "backprop: error: out of memory\n");
    return kFailure;
  } catch (const std::exception& e) {
    fmt::print(stderr, "backprop: error: {}\n", e.what());
    return kFailure;
  }
  return exit_code;
}
