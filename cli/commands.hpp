#pragma once
// Each subcommand registers itself on the app and, when chosen, stores its exit status.
#include <CLI/CLI.hpp>

namespace backprop::cli {

// Exit statuses of the tool (docs/cli.md).
enum ExitCode : int {
  kSuccess = 0,
  kFailure = 1,      // bad input, I/O error, a check that did not pass
  kUsage = 2,        // unknown option, missing or malformed argument
  kDiverged = 3,     // training produced a non-finite loss or gradient
  kInterrupted = 4,  // stopped by SIGINT/SIGTERM; a checkpoint was written
};

inline constexpr const char* kVersion = "backprop 0.1.0";

void add_train_command(CLI::App& app, int& exit_code);
void add_eval_command(CLI::App& app, int& exit_code);
void add_predict_command(CLI::App& app, int& exit_code);
void add_gradcheck_command(CLI::App& app, int& exit_code);
void add_info_command(CLI::App& app, int& exit_code);
void add_export_command(CLI::App& app, int& exit_code);
void add_import_command(CLI::App& app, int& exit_code);
void add_report_command(CLI::App& app, int& exit_code);

}  // namespace backprop::cli
