#pragma once
// What several subcommands share, declared once: registering a subcommand on an Args struct,
// the MODEL positional, --data, --threads, --json, and loading a model with its data.
#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <utility>

#include "backprop/data_source.hpp"
#include "backprop/model.hpp"
#include "usage.hpp"

namespace backprop::cli {

// A subcommand whose options fill one Args and whose run(args) gives the exit status.
template <class Args>
std::pair<CLI::App*, std::shared_ptr<Args>> add_command(CLI::App& app, const char* name,
                                                        const char* description, int& exit_code,
                                                        int (*run)(const Args&)) {
  auto* cmd = app.add_subcommand(name, description);
  cmd->allow_extras();  // reject_extras() names them, with the closest option
  auto args = std::make_shared<Args>();
  cmd->callback([cmd, args, run, &exit_code] {
    reject_extras(*cmd);
    exit_code = run(*args);
  });
  return {cmd, args};
}

// MODEL: the required positional model file.
CLI::Option* add_model_argument(CLI::App* cmd, std::string& model);
// --data PATH, required, with the subcommand's own description of what it holds.
CLI::Option* add_data_option(CLI::App* cmd, std::string& data, const std::string& help);
// --threads N (0: all cores).
CLI::Option* add_threads_option(CLI::App* cmd, int& threads,
                                const std::string& help = "Threads (default: all cores)");
// --json: one JSON object instead of the text report.
CLI::Option* add_json_flag(CLI::App* cmd, bool& json);

// Throws Error unless 0 <= threads <= kMaxThreads (0: every core).
inline constexpr int kMaxThreads = 1024;
void check_thread_count(int threads);

// A seed: a whole number in [0, 2^64 - 1] written in decimal digits ("-1", "1e23" and 2^64 are
// refused instead of becoming 2^64 - 1).
CLI::Validator seed_validator();

// A number for a float option: one a 32-bit float holds (magnitude at most 3.4e38), so that
// "1e39" is refused as written instead of turning into inf.
CLI::Validator float_validator();

// --threads N as a thread count: N, or every core this process may use for 0.
int thread_count(int requested);

// How library messages name the data paths: by the flags.
DataSourceNames data_flag_names();

// load_model, where a file that is not a model at all (a CSV, an IDX file) says so:
// "d.csv is not a backprop model: ...", and when `other_path` (the command's --data, named by
// `other_role`) is a model, suggests the swap.
Model load_model_for(const std::string& path, std::int64_t max_batch,
                     const std::string& other_role = "", const std::string& other_path = "");

// The table flags of eval and predict: the training run's --label, --ignore, --id and
// --header, accepted so that a training command line can be reused, and checked against the
// model (a column is read by the name the model keeps); --delimiter reads this file.
struct TableFlags {
  std::string label, header, id, delimiter = "auto", decimal = "auto";
  std::vector<std::string> ignore;
};
// id_help: what --id does in this command.
void add_table_flags(CLI::App* cmd, TableFlags& flags, const std::string& id_help);
// Throws Error naming the flag, the model's value and the given one when they differ.
void check_table_flags(const ModelInfo& info, const TableFlags& flags);

// A model file and data read the way it was trained (eval, predict), after check_table_flags.
// The id column (flags.id, "" = none) is CSV-only: a model trained on IDX images refuses it.
struct ModelAndData {
  Model model;
  Dataset data;
};
// The reader's notes (filled cells, rows left out, unseen categories) on standard error, where
// they do not mix with a command's output.
void print_notes(const Dataset& data);

ModelAndData load_model_and_data(const std::string& model_path, const std::string& data_path,
                                 bool require_label, const TableFlags& flags);

}  // namespace backprop::cli
