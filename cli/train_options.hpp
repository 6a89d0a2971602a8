#pragma once
// The options of `backprop train`, declared once: kTrainOptions (train_options.cpp) gives each
// its flag, help text, default, check, JSON key in the checkpoint's run description, key in the
// model's training provenance, and where it goes in TrainOptions. Everything else (the CLI11
// options and help, the checkpoint's JSON and reading it back on --resume, the provenance,
// the checks, the list of options --resume accepts) is derived from that table.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "backprop/trainer.hpp"

namespace backprop::cli {

// The values of every train option; the defaults come from the table (the constructor).
struct TrainArgs {
  TrainArgs();

  // Decide the weights: stored in checkpoints.
  std::string data, test, layers, hidden, activation, loss, optimizer;
  float lr, momentum;
  bool nesterov;
  std::int64_t batch, shards, epochs;
  std::uint64_t seed;
  float weight_decay, dropout;
  double val_split;
  std::string schedule;
  std::int64_t lr_step;
  float lr_gamma;
  std::int64_t patience;
  std::string init;
  bool no_shuffle;
  // CSV only
  std::string header, label;
  std::vector<std::string> ignore;
  std::string task, normalize, id_column;
  std::string missing, delimiter, decimal;
  bool missing_indicator;
  std::vector<std::string> categorical;
  // This invocation only
  std::string output, metrics, checkpoint;
  std::int64_t checkpoint_every;
  std::string resume;
  bool force;
  int threads;
  bool quiet;
  std::string report;
  bool no_layer_stats;
};

// The options a command line gave, by the group that --resume and IDX data care about.
struct GivenOptions {
  std::vector<std::string> fixed_by_checkpoint;  // decide the weights and --resume refuses them
  std::vector<std::string> csv_only;             // meaningful for CSV data only
  std::vector<std::string> data;                 // --data, --test: checked by the fingerprint
  bool epochs = false;
  bool lr = false;               // --lr given (0 is then an error, not the optimizer's default)
  std::vector<std::string> all;  // every option given, by name ("--epochs")
};

// Adds every train option to `cmd`, bound to `args`. Returns the function that reports, once
// the command line is parsed, which options it gave.
std::function<GivenOptions()> add_train_options(CLI::App* cmd, TrainArgs& args);

// Throws Error on the first option that fails its check (a choice name, a range), in table
// order. Names are checked before any data is read, so a typo costs no loading time.
void check_train_options(const TrainArgs& args);

// The options among `flags` (the weight and CSV options a --resume command line gave) whose
// value differs from the checkpoint's, as "--hidden '3' (checkpoint: '8')".
std::vector<std::string> changed_on_resume(const TrainArgs& given, const TrainArgs& stored,
                                           const std::vector<std::string>& flags);

// "--epochs, -o, --metrics, ...": the options --resume accepts, for its message.
std::string options_allowed_on_resume();

// Defaults chosen by the data, for a table of `rows` rows: scikit-learn's MLP defaults (ReLU,
// Adam lr 1e-3, one hidden layer of 100, batch min(200, training rows), up to 200 epochs, early
// stopping with patience 10 on a 10% validation split, keeping the best epoch). Images keep the
// table's defaults, which train the seed's network. An option the command line gave keeps its
// value. Returns the "table: ..." line that says what was chosen and why. training_rows(f): the
// rows left for training when a fraction f is held out for validation.
std::string choose_table_defaults(TrainArgs& args, const GivenOptions& given,
                                  const std::function<std::int64_t(double)>& training_rows);

// The run description stored in a checkpoint: every option that decides the weights.
nlohmann::json to_json(const TrainArgs& args);
// Reads a run description back into args (the options of this invocation are left alone).
// Throws nlohmann::json::exception for a missing key or a wrong type, Error for a bad float.
void read_json(const nlohmann::json& j, TrainArgs& args);

// The provenance a model records (optimizer, lr, batch, seed), as strings.
std::map<std::string, std::string> training_provenance(const TrainArgs& args);

// The TrainOptions fields given by options (epochs, batch, seed, shuffle, optimizer and
// schedule settings, patience). args.lr must be resolved (not 0).
TrainOptions train_options(const TrainArgs& args);

}  // namespace backprop::cli
