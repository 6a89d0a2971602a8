#include "train_options.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string_view>
#include <type_traits>
#include <variant>

#include "backprop/architecture.hpp"
#include "backprop/csv.hpp"
#include "backprop/error.hpp"
#include "backprop/preprocessing.hpp"
#include "common_options.hpp"

namespace backprop::cli {

namespace {

using nlohmann::json;

// One option's storage in TrainArgs, its default, its check (nullptr: none) and how it goes
// into TrainOptions (nullptr: elsewhere, e.g. into the architecture or the CSV options).
template <class T>
struct Field {
  T TrainArgs::*member;
  T initial;
  void (*check)(const T&) = nullptr;
  void (*apply)(const T&, TrainOptions&) = nullptr;
};

using AnyField =
    std::variant<Field<std::string>, Field<float>, Field<double>, Field<std::int64_t>,
                 Field<std::uint64_t>, Field<int>, Field<bool>, Field<std::vector<std::string>>>;

enum class Group {
  weights,    // decides the weights: stored in checkpoints; with --resume only the stored value
  data,       // stored, and may name the data again on --resume (checked by its fingerprint)
  resumable,  // stored in checkpoints, and may be given again with --resume (--epochs)
  csv,        // as weights, and meaningful for CSV data only (an error with IDX)
  run,        // this invocation only: not stored
};

struct TrainOption {
  const char* flag;  // CLI11 names, e.g. "-o,--output"
  const char* help;
  AnyField field;
  Group group;
  const char* json_key = nullptr;        // key in the checkpoint's run description (not for run)
  bool show_default = false;             // help shows the default
  const char* provenance_key = nullptr;  // key in the model's training metadata, if any
  bool comma_list = false;               // the value is a comma-separated list
  bool absent_is_default = false;        // a checkpoint without the key (written before it existed)
};

constexpr const char* kDefaultData = "/usr/share/datasets/fashion-mnist";

void at_least_one(std::string_view flag, std::int64_t v) {
  if (v < 1) throw Error(fmt::format("{} {}: must be at least 1", flag, v));
}

void at_least_zero(std::string_view flag, std::int64_t v) {
  if (v < 0) throw Error(fmt::format("{} {}: must be at least 0", flag, v));
}

// A value in [lo, hi) (hi_open) or [lo, hi], and finite.
void in_range(std::string_view flag, double v, double lo, double hi, bool hi_open) {
  const bool ok = std::isfinite(v) && v >= lo && (hi_open ? v < hi : v <= hi);
  if (!ok)
    throw Error(fmt::format("{} {}: must be in [{}, {}{}", flag, v, lo, hi, hi_open ? ")" : "]"));
}

void positive_finite(std::string_view flag, double v) {
  if (!(v > 0 && std::isfinite(v)))
    throw Error(fmt::format("{} {}: must be a finite number greater than 0", flag, v));
}

// Each name of a comma list: one activation, or one per hidden layer.
void check_activations(const std::string& list) {
  for (std::size_t start = 0; start <= list.size();) {
    const std::size_t comma = std::min(list.find(',', start), list.size());
    parse_activation(list.substr(start, comma - start));
    start = comma + 1;
  }
}

// The table. Order: the order of `train --help` and of the checks.
const std::vector<TrainOption>& options_table() {
  using S = std::string;
  static const std::vector<TrainOption> table = {
      {"--data", "Training data: an MNIST-layout directory, an IDX images file, or a CSV file",
       Field<S>{&TrainArgs::data, kDefaultData}, Group::data, "data", true},
      {"--test", "Test data (default: the t10k files of an IDX --data directory)",
       Field<S>{&TrainArgs::test, ""}, Group::data, "test"},
      {"--layers", "All widths, input to output, e.g. 784,128,10", Field<S>{&TrainArgs::layers, ""},
       Group::weights, "layers"},
      {"--hidden", "Hidden widths only, e.g. 64,32 (input and output follow from the data)",
       Field<S>{&TrainArgs::hidden, ""}, Group::weights, "hidden"},
      {"--activation", "sigmoid, tanh, relu, leaky_relu, linear; one, or one per hidden layer",
       Field<S>{&TrainArgs::activation, "sigmoid", &check_activations}, Group::weights,
       "activation", true},
      {"--loss", "cross_entropy (classification) or mse (regression); default from the task",
       Field<S>{&TrainArgs::loss, "",
                [](const S& v) {
                  if (!v.empty()) parse_loss(v);
                }},
       Group::weights, "loss"},
      {"--optimizer", "sgd, momentum, adam, adamw",
       Field<S>{&TrainArgs::optimizer, "sgd", [](const S& v) { parse_optimizer(v); },
                [](const S& v, TrainOptions& o) { o.optimizer.kind = parse_optimizer(v); }},
       Group::weights, "optimizer", true, "optimizer"},
      // 0: the optimiser's default (default_learning_rate in train_command.cpp).
      {"--lr", "Learning rate (default: sgd 0.5, momentum 0.05, adam/adamw 0.001)",
       Field<float>{&TrainArgs::lr, 0.0f,
                    [](const float& v) {
                      if (v != 0.0f) positive_finite("--lr", static_cast<double>(v));
                    },
                    [](const float& v, TrainOptions& o) { o.schedule.base_lr = v; }},
       Group::weights, "lr", false, "lr"},
      {"--momentum", "Momentum for --optimizer momentum",
       Field<float>{
           &TrainArgs::momentum, 0.9f,
           [](const float& v) { in_range("--momentum", static_cast<double>(v), 0.0, 1.0, true); },
           [](const float& v, TrainOptions& o) { o.optimizer.momentum = v; }},
       Group::weights, "momentum", true},
      {"--nesterov", "Nesterov momentum",
       Field<bool>{&TrainArgs::nesterov, false, nullptr,
                   [](const bool& v, TrainOptions& o) { o.optimizer.nesterov = v; }},
       Group::weights, "nesterov"},
      {"--batch", "Minibatch size",
       Field<std::int64_t>{&TrainArgs::batch, 64,
                           [](const std::int64_t& v) { at_least_one("--batch", v); },
                           [](const std::int64_t& v, TrainOptions& o) { o.batch = v; }},
       Group::weights, "batch", true, "batch"},
      {"--shards",
       "Cut each minibatch into this many micro-shards (a power of two) summed in a fixed tree: "
       "the same model for any number of MPI processes (docs/distributed.md); 0: off, or 8 "
       "under mpirun",
       Field<std::int64_t>{&TrainArgs::shards, 0,
                           [](const std::int64_t& v) {
                             if (v < 0 || (v & (v - 1)) != 0)
                               throw Error(fmt::format(
                                   "--shards {} must be 0 or a power of two (1, 2, 4, 8, ...)", v));
                           },
                           [](const std::int64_t& v, TrainOptions& o) { o.shards = v; }},
       Group::weights, "shards", true, "shards", false, true},
      {"--epochs", "Epochs",
       Field<std::int64_t>{&TrainArgs::epochs, 15,
                           [](const std::int64_t& v) { at_least_one("--epochs", v); },
                           [](const std::int64_t& v, TrainOptions& o) {
                             o.epochs = v;
                             o.schedule.total_epochs = v;
                           }},
       Group::resumable, "epochs", true},
      {"--seed", "Seed for initialisation, shuffling, dropout and the split",
       Field<std::uint64_t>{&TrainArgs::seed, 1, nullptr,
                            [](const std::uint64_t& v, TrainOptions& o) { o.seed = v; }},
       Group::weights, "seed", true, "seed"},
      {"--weight-decay", "L2 weight decay (decoupled for adamw)",
       Field<float>{&TrainArgs::weight_decay, 0.0f,
                    [](const float& v) {
                      in_range("--weight-decay", static_cast<double>(v), 0.0, 1.0, false);
                    },
                    [](const float& v, TrainOptions& o) { o.optimizer.weight_decay = v; }},
       Group::weights, "weight_decay", true},
      {"--dropout", "Dropout probability on hidden layers",
       Field<float>{
           &TrainArgs::dropout, 0.0f,
           [](const float& v) { in_range("--dropout", static_cast<double>(v), 0.0, 1.0, true); }},
       Group::weights, "dropout", true},
      {"--val-split", "Fraction of the training data held out for validation",
       Field<double>{&TrainArgs::val_split, 0.0,
                     [](const double& v) { in_range("--val-split", v, 0.0, 1.0, true); }},
       Group::weights, "val_split", true},
      {"--schedule", "Learning-rate schedule: constant, step, cosine",
       Field<S>{&TrainArgs::schedule, "constant", [](const S& v) { parse_schedule(v); },
                [](const S& v, TrainOptions& o) { o.schedule.kind = parse_schedule(v); }},
       Group::weights, "schedule", true},
      {"--lr-step", "step schedule: epochs between decays",
       Field<std::int64_t>{
           &TrainArgs::lr_step, 10, [](const std::int64_t& v) { at_least_one("--lr-step", v); },
           [](const std::int64_t& v, TrainOptions& o) { o.schedule.step_epochs = v; }},
       Group::weights, "lr_step", true},
      {"--lr-gamma", "step schedule: decay factor",
       Field<float>{&TrainArgs::lr_gamma, 0.1f,
                    [](const float& v) { positive_finite("--lr-gamma", static_cast<double>(v)); },
                    [](const float& v, TrainOptions& o) { o.schedule.gamma = v; }},
       Group::weights, "lr_gamma", true},
      {"--patience",
       "Early stopping after this many epochs without validation improvement (0: off)",
       Field<std::int64_t>{&TrainArgs::patience, 0,
                           [](const std::int64_t& v) { at_least_zero("--patience", v); },
                           [](const std::int64_t& v, TrainOptions& o) { o.patience = v; }},
       Group::weights, "patience", true},
      {"--init", "Start from the weights of this model file", Field<S>{&TrainArgs::init, ""},
       Group::weights, "init"},
      {"--no-shuffle", "Keep the data's order in every epoch",
       Field<bool>{&TrainArgs::no_shuffle, false, nullptr,
                   [](const bool& v, TrainOptions& o) { o.shuffle = !v; }},
       Group::weights, "no_shuffle"},
      {"--header", "CSV: yes, no or auto",
       Field<S>{&TrainArgs::header, "auto", [](const S& v) { parse_csv_header(v); }}, Group::csv,
       "header", true},
      {"--label", "CSV: label column, by name or 0-based index (default: last)",
       Field<S>{&TrainArgs::label, ""}, Group::csv, "label"},
      {"--ignore", "CSV: columns to drop, e.g. id,name",
       Field<std::vector<S>>{&TrainArgs::ignore, {}}, Group::csv, "ignore", false, nullptr, true},
      {"--task", "CSV: classification, regression or auto",
       Field<S>{&TrainArgs::task, "auto", [](const S& v) { parse_task_or_auto(v); }}, Group::csv,
       "task", true},
      {"--normalize",
       "CSV: standard, minmax, unit (x/255) or none; fitted on the training split (regression "
       "targets are standardised too unless none)",
       Field<S>{&TrainArgs::normalize, "standard", [](const S& v) { parse_normalization(v); }},
       Group::csv, "normalize", true},
      {"--id", "CSV: an id column to leave out of the features",
       Field<S>{&TrainArgs::id_column, ""}, Group::csv, "id"},
      {"--missing",
       "CSV: a missing feature cell (empty, NA, N/A, NaN, null, ?): impute (median, most "
       "frequent), drop the row, or error",
       Field<S>{&TrainArgs::missing, "impute", [](const S& v) { parse_missing_policy(v); }},
       Group::csv, "missing", true},
      {"--missing-indicator", "CSV: add a 0/1 feature per column with gaps (1: was missing)",
       Field<bool>{&TrainArgs::missing_indicator, false}, Group::csv, "missing_indicator"},
      {"--categorical", "CSV: columns whose numeric codes are categories (one-hot), e.g. zip",
       Field<std::vector<S>>{&TrainArgs::categorical, {}}, Group::csv, "categorical", false,
       nullptr, true},
      {"--delimiter", "CSV: auto, comma, semicolon or tab",
       Field<S>{&TrainArgs::delimiter, "auto", [](const S& v) { parse_delimiter(v); }}, Group::csv,
       "delimiter", true},
      {"--decimal",
       "CSV: the decimal mark, auto, point or comma (auto: comma when a semicolon- or "
       "tab-separated file writes 1,5 and never 1.5)",
       Field<S>{&TrainArgs::decimal, "auto", [](const S& v) { parse_decimal(v); }}, Group::csv,
       "decimal", true, nullptr, false, true},
      {"-o,--output", "Model file to write", Field<S>{&TrainArgs::output, "model.safetensors"},
       Group::run, nullptr, true},
      {"--metrics", "Write one JSON object per epoch to this JSON Lines file",
       Field<S>{&TrainArgs::metrics, ""}, Group::run},
      {"--checkpoint", "Checkpoint file (default on interrupt: OUTPUT.checkpoint)",
       Field<S>{&TrainArgs::checkpoint, ""}, Group::run},
      {"--checkpoint-every", "Epochs between checkpoints",
       Field<std::int64_t>{&TrainArgs::checkpoint_every, 1,
                           [](const std::int64_t& v) { at_least_one("--checkpoint-every", v); }},
       Group::run, nullptr, true},
      {"--resume", "Continue the run saved in this checkpoint", Field<S>{&TrainArgs::resume, ""},
       Group::run},
      {"--force", "With --resume: continue even on data other than the checkpoint's",
       Field<bool>{&TrainArgs::force, false}, Group::run},
      {"--threads",
       "Threads (default or 0: all cores, at most 1024); results are identical for any count",
       Field<int>{&TrainArgs::threads, 0, [](const int& v) { check_thread_count(v); }}, Group::run},
      {"-q,--quiet", "Print nothing but errors", Field<bool>{&TrainArgs::quiet, false}, Group::run},
      {"--report", "Write an HTML report of the run (curves, layer statistics, evaluation) here",
       Field<S>{&TrainArgs::report, ""}, Group::run},
      {"--no-layer-stats",
       "Record no per-layer statistics (and skip the health checks that need them)",
       Field<bool>{&TrainArgs::no_layer_stats, false}, Group::run},
  };
  return table;
}

bool stored(const TrainOption& o) { return o.group != Group::run; }

// A float as the shortest decimal that reads back to it ("0.01", not 0.009999999776482582).
json short_float(float v) { return json(std::stod(fmt::format("{}", v))); }

// A float field of a checkpoint's run description: a finite number within float's range.
float float_field(const json& j, const char* key) {
  const json& v = j.at(key);
  if (!v.is_number() || !(std::abs(v.get<double>()) <= 3.0e38))
    throw Error(
        fmt::format("the checkpoint's run description has {} = {}, not a number", key, v.dump()));
  return static_cast<float>(v.get<double>());
}

// "-o" of "-o,--output": the name messages use.
std::string short_name(const char* flag) {
  const std::string_view names(flag);
  return std::string(names.substr(0, names.find(',')));
}

}  // namespace

TrainArgs::TrainArgs() {
  for (const auto& o : options_table())
    std::visit([this](const auto& f) { this->*f.member = f.initial; }, o.field);
}

std::function<GivenOptions()> add_train_options(CLI::App* cmd, TrainArgs& args) {
  std::vector<std::pair<CLI::Option*, Group>> added;
  for (const auto& o : options_table()) {
    CLI::Option* option = std::visit(
        [&](const auto& f) -> CLI::Option* {
          auto& value = args.*f.member;
          if constexpr (std::is_same_v<std::decay_t<decltype(value)>, bool>) {
            return cmd->add_flag(o.flag, value, o.help);
          } else if constexpr (std::is_same_v<std::decay_t<decltype(value)>, float>) {
            return cmd->add_option(o.flag, value, o.help)->check(float_validator());
          } else {
            return cmd->add_option(o.flag, value, o.help);
          }
        },
        o.field);
    if (o.show_default) option->capture_default_str();
    if (o.comma_list) option->delimiter(',');
    if (std::string_view(o.flag) == "--seed") option->check(seed_validator());
    added.emplace_back(option, o.group);
  }
  return [added] {
    GivenOptions given;
    for (const auto& [option, group] : added) {
      if (option->count() == 0) continue;
      const std::string name = option->get_name();
      given.all.push_back(name);
      if (group == Group::weights || group == Group::csv) given.fixed_by_checkpoint.push_back(name);
      if (group == Group::csv) given.csv_only.push_back(name);
      if (group == Group::resumable) given.epochs = true;
      if (group == Group::data) given.data.push_back(name);
      if (name == "--lr") given.lr = true;
    }
    return given;
  };
}

void check_train_options(const TrainArgs& args) {
  for (const auto& o : options_table()) {
    std::visit(
        [&](const auto& f) {
          if (f.check) f.check(args.*f.member);
        },
        o.field);
  }
}

std::vector<std::string> changed_on_resume(const TrainArgs& given, const TrainArgs& stored,
                                           const std::vector<std::string>& flags) {
  std::vector<std::string> changed;
  for (const auto& o : options_table()) {
    if (std::find(flags.begin(), flags.end(), short_name(o.flag)) == flags.end()) continue;
    std::visit(
        [&](const auto& f) {
          const auto& mine = given.*f.member;
          const auto& theirs = stored.*f.member;
          if (mine == theirs) return;
          using T = std::decay_t<decltype(mine)>;
          if constexpr (std::is_same_v<T, std::vector<std::string>>) {
            changed.push_back(fmt::format("{} {} (checkpoint: {})", o.flag, fmt::join(mine, ","),
                                          fmt::join(theirs, ",")));
          } else if constexpr (std::is_same_v<T, std::string>) {
            changed.push_back(fmt::format("{} '{}' (checkpoint: '{}')", o.flag, mine, theirs));
          } else {
            changed.push_back(fmt::format("{} {} (checkpoint: {})", o.flag, mine, theirs));
          }
        },
        o.field);
  }
  return changed;
}

std::string options_allowed_on_resume() {
  std::string text;
  for (const auto& o : options_table()) {
    if (o.group != Group::resumable && o.group != Group::run && o.group != Group::data) continue;
    if (std::string_view(o.flag) == "--resume") continue;
    text += (text.empty() ? "" : ", ") + short_name(o.flag);
  }
  return text;
}

std::string choose_table_defaults(TrainArgs& args, const GivenOptions& given,
                                  const std::function<std::int64_t(double)>& training_rows) {
  const auto free = [&](const char* flag) {
    return std::find(given.all.begin(), given.all.end(), flag) == given.all.end();
  };
  std::vector<std::string> kept;
  const auto choose = [&](const char* flag, auto& value, auto table_value) {
    if (free(flag)) {
      value = table_value;
    } else {
      kept.push_back(flag);
    }
  };
  choose("--activation", args.activation, std::string("relu"));
  choose("--optimizer", args.optimizer, std::string("adam"));
  choose("--lr", args.lr, 0.001f);
  if (free("--layers")) choose("--hidden", args.hidden, std::string("100"));
  choose("--val-split", args.val_split, 0.1);
  // As scikit-learn: min(200, n) over the rows left for training after the validation split.
  choose("--batch", args.batch,
         std::min<std::int64_t>(200, std::max<std::int64_t>(training_rows(args.val_split), 1)));
  choose("--epochs", args.epochs, std::int64_t{200});
  choose("--patience", args.patience, std::int64_t{10});
  choose("--normalize", args.normalize, std::string("standard"));
  return fmt::format(
      "table: {} activation, {} lr {}, hidden {}, batch {}, up to {} epochs, validation {}, "
      "patience {}, {} normalisation (scikit-learn-like defaults for a table{})",
      args.activation, args.optimizer, args.lr, args.layers.empty() ? args.hidden : args.layers,
      args.batch, args.epochs, args.val_split, args.patience, args.normalize,
      kept.empty() ? std::string() : fmt::format("; yours: {}", fmt::join(kept, ", ")));
}

json to_json(const TrainArgs& args) {
  json j = json::object();
  for (const auto& o : options_table()) {
    if (!stored(o)) continue;
    std::visit(
        [&](const auto& f) {
          const auto& value = args.*f.member;
          if constexpr (std::is_same_v<std::decay_t<decltype(value)>, float>) {
            j[o.json_key] = short_float(value);
          } else {
            j[o.json_key] = value;
          }
        },
        o.field);
  }
  return j;
}

void read_json(const json& j, TrainArgs& args) {
  for (const auto& o : options_table()) {
    if (!stored(o)) continue;
    // A checkpoint from before an option existed runs with that option's default.
    if (!j.contains(o.json_key)) continue;
    std::visit(
        [&](const auto& f) {
          auto& value = args.*f.member;
          using T = std::decay_t<decltype(value)>;
          if (o.absent_is_default && !j.contains(o.json_key)) {
            value = f.initial;
          } else if constexpr (std::is_same_v<T, float>) {
            value = float_field(j, o.json_key);
          } else {
            value = j.at(o.json_key).template get<T>();
          }
        },
        o.field);
  }
}

std::map<std::string, std::string> training_provenance(const TrainArgs& args) {
  std::map<std::string, std::string> out;
  for (const auto& o : options_table()) {
    if (o.provenance_key == nullptr) continue;
    std::visit(
        [&](const auto& f) {
          if constexpr (!std::is_same_v<std::decay_t<decltype(f.initial)>,
                                        std::vector<std::string>>)
            out[o.provenance_key] = fmt::format("{}", args.*f.member);
        },
        o.field);
  }
  return out;
}

TrainOptions train_options(const TrainArgs& args) {
  TrainOptions options;
  for (const auto& o : options_table()) {
    std::visit(
        [&](const auto& f) {
          if (f.apply) f.apply(args.*f.member, options);
        },
        o.field);
  }
  return options;
}

}  // namespace backprop::cli
