// backprop train: data -> preprocessing -> network -> trainer -> model file, with per-epoch
// log lines, a metrics file, checkpoints, Ctrl-C handling and --resume.
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>

#include "backprop/checkpoint.hpp"
#include "backprop/error.hpp"
#include "backprop/model.hpp"
#include "backprop/report.hpp"
#include "backprop/trainer.hpp"
#include "backprop/validation_split.hpp"
#include "commands.hpp"
#include "core/atomic_file.hpp"
#include "data_source.hpp"
#include "signals.hpp"

namespace backprop::cli {

namespace {

using nlohmann::json;

constexpr const char* kDefaultData = "/usr/share/datasets/fashion-mnist";

// Every option that decides the trained weights. Stored in checkpoints as JSON, so that
// --resume rebuilds exactly the same run.
struct TrainArgs {
  std::string data = kDefaultData;
  std::string test;
  std::string layers;
  std::string hidden;
  std::string activation = "sigmoid";
  std::string loss;  // default: from the task
  std::string optimizer = "sgd";
  float lr = 0.0f;  // 0: the optimiser's default (default_learning_rate)
  float momentum = 0.9f;
  bool nesterov = false;
  std::int64_t batch = 64;
  std::int64_t epochs = 15;
  std::uint64_t seed = 1;
  float weight_decay = 0.0f;
  float dropout = 0.0f;
  double val_split = 0.0;
  std::string schedule = "constant";
  std::int64_t lr_step = 10;
  float lr_gamma = 0.1f;
  std::int64_t patience = 0;
  std::string init;
  bool no_shuffle = false;
  // CSV
  std::string header = "auto";
  std::string label;
  std::vector<std::string> ignore;
  std::string task = "auto";
  std::string normalize = "standard";
  std::string id_column;
};

// A float as the shortest decimal that reads back to it ("0.01", not 0.009999999776482582).
json short_float(float v) { return json(std::stod(fmt::format("{}", v))); }

json to_json(const TrainArgs& a) {
  return {{"data", a.data},
          {"test", a.test},
          {"layers", a.layers},
          {"hidden", a.hidden},
          {"activation", a.activation},
          {"loss", a.loss},
          {"optimizer", a.optimizer},
          {"lr", short_float(a.lr)},
          {"momentum", short_float(a.momentum)},
          {"nesterov", a.nesterov},
          {"batch", a.batch},
          {"epochs", a.epochs},
          {"seed", a.seed},
          {"weight_decay", short_float(a.weight_decay)},
          {"dropout", short_float(a.dropout)},
          {"val_split", a.val_split},
          {"schedule", a.schedule},
          {"lr_step", a.lr_step},
          {"lr_gamma", short_float(a.lr_gamma)},
          {"patience", a.patience},
          {"init", a.init},
          {"no_shuffle", a.no_shuffle},
          {"header", a.header},
          {"label", a.label},
          {"ignore", a.ignore},
          {"task", a.task},
          {"normalize", a.normalize},
          {"id", a.id_column}};
}

// A float field of a checkpoint's run description: a finite number within float's range.
float float_field(const json& j, const char* key) {
  const json& v = j.at(key);
  if (!v.is_number() || !(std::abs(v.get<double>()) <= 3.0e38))
    throw Error(
        fmt::format("the checkpoint's run description has {} = {}, not a number", key, v.dump()));
  return static_cast<float>(v.get<double>());
}

TrainArgs from_json(const json& j) {
  TrainArgs a;
  a.data = j.at("data");
  a.test = j.at("test");
  a.layers = j.at("layers");
  a.hidden = j.at("hidden");
  a.activation = j.at("activation");
  a.loss = j.at("loss");
  a.optimizer = j.at("optimizer");
  a.lr = float_field(j, "lr");
  a.momentum = float_field(j, "momentum");
  a.nesterov = j.at("nesterov");
  a.batch = j.at("batch");
  a.epochs = j.at("epochs");
  a.seed = j.at("seed");
  a.weight_decay = float_field(j, "weight_decay");
  a.dropout = float_field(j, "dropout");
  a.val_split = j.at("val_split");
  a.schedule = j.at("schedule");
  a.lr_step = j.at("lr_step");
  a.lr_gamma = float_field(j, "lr_gamma");
  a.patience = j.at("patience");
  a.init = j.at("init");
  a.no_shuffle = j.at("no_shuffle");
  a.header = j.at("header");
  a.label = j.at("label");
  a.ignore = j.at("ignore").get<std::vector<std::string>>();
  a.task = j.at("task");
  a.normalize = j.at("normalize");
  a.id_column = j.at("id");
  return a;
}

// Options of one invocation that do not change the weights.
struct RunArgs {
  std::string output = "model.safetensors";
  std::string metrics;
  std::string checkpoint;
  std::int64_t checkpoint_every = 1;
  std::string resume;
  int threads = 0;
  bool quiet = false;
  std::string report;
  bool no_layer_stats = false;
};

// Defaults that train the seed's network well in seconds: plain SGD on sigmoid units takes a
// large step (0.5 reaches 0.877 on Fashion-MNIST in 15 epochs, 0.1 only 0.85 in 10); momentum
// multiplies the effective step by 1/(1 - mu) = 10; Adam's usual 1e-3.
float default_learning_rate(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::sgd:
      return 0.5f;
    case OptimizerKind::momentum:
      return 0.05f;
    case OptimizerKind::adam:
    case OptimizerKind::adamw:
      return 0.001f;
  }
  return 0.01f;
}

CsvOptions csv_options(const TrainArgs& a) {
  CsvOptions o;
  if (a.header == "yes") {
    o.header = CsvOptions::Header::yes;
  } else if (a.header == "no") {
    o.header = CsvOptions::Header::no;
  } else if (a.header != "auto") {
    throw Error(fmt::format("--header '{}' (choose yes, no, auto)", a.header));
  }
  o.label = a.label;
  o.ignore = a.ignore;
  if (a.task == "classification") {
    o.task = Task::classification;
  } else if (a.task == "regression") {
    o.task = Task::regression;
  } else if (a.task != "auto") {
    throw Error(fmt::format("--task '{}' (choose classification, regression, auto)", a.task));
  }
  o.id_column = a.id_column;
  return o;
}

Architecture build_architecture(const TrainArgs& a, const Dataset& train) {
  const std::int64_t p = train.features;
  const std::int64_t r = train.task == Task::classification ? train.num_classes() : 1;
  Architecture arch;
  if (!a.layers.empty() && !a.hidden.empty()) throw Error("give --layers or --hidden, not both");
  if (!a.layers.empty()) {
    arch.widths = parse_widths(a.layers);
    if (arch.widths.size() < 2)
      throw Error(fmt::format("--layers '{}' needs at least input and output widths", a.layers));
    if (arch.widths.front() != p)
      throw Error(fmt::format("--layers starts with {} inputs, but {} has {} features per sample",
                              arch.widths.front(), train.source, p));
    if (arch.widths.back() != r)
      throw Error(fmt::format(
          "--layers ends with {} outputs, but {} needs {} ({})", arch.widths.back(), train.source,
          r, train.task == Task::classification ? fmt::format("{} classes", r) : "one value"));
  } else {
    arch.widths.push_back(p);
    for (const auto w : parse_widths(a.hidden.empty() ? "128" : a.hidden)) arch.widths.push_back(w);
    arch.widths.push_back(r);
  }
  arch.activations = parse_activations(a.activation, arch.widths.size() - 2);
  const Loss natural = train.task == Task::classification ? Loss::cross_entropy : Loss::mse;
  arch.loss = a.loss.empty() ? natural : parse_loss(a.loss);
  if (arch.loss != natural)
    throw Error(fmt::format("--loss {} does not fit {} data (use {})", a.loss,
                            train.task == Task::classification ? "classification" : "regression",
                            to_string(natural)));
  arch.dropout = a.dropout;
  arch.validate();
  return arch;
}

// The whole JSON Lines file, rewritten atomically after every epoch: a reader never sees a
// half-written line, and a resumed run continues the same file.
void write_metrics(const std::string& path, const std::vector<EpochMetrics>& history) {
  std::string text;
  for (const auto& m : history) text += to_json(m) + "\n";
  write_file_atomically(path, text);
}

// A bar within the epoch on a terminal: steps, samples/s, running loss, ETA; redrawn at most
// every 0.1 s. Nothing is printed when stderr is not a terminal.
class ProgressBar {
 public:
  using Clock = std::chrono::steady_clock;
  explicit ProgressBar(bool enabled) : enabled_(enabled), started_(Clock::now()) {}
  void update(std::int64_t epoch, std::int64_t epochs, std::int64_t step, std::int64_t steps,
              const TrainState& state) {
    if (!enabled_) return;
    const auto now = Clock::now();
    if (step != steps && step > 1 && now - drawn_ < std::chrono::milliseconds(100)) return;
    drawn_ = now;
    if (first_step_ < 0) first_step_ = step - 1;  // a resumed epoch starts part way
    const double elapsed = std::chrono::duration<double>(now - started_).count();
    const auto done = static_cast<double>(step - first_step_);
    const double rate = elapsed > 0 ? static_cast<double>(state.running_seen) / elapsed : 0.0;
    const double eta = done > 0 ? elapsed / done * static_cast<double>(steps - step) : 0.0;
    const double loss =
        state.running_seen > 0 ? state.running_loss / static_cast<double>(state.running_seen) : 0.0;
    const std::int64_t filled = step * 20 / steps;
    const auto eta_s = static_cast<std::int64_t>(std::lround(eta));
    std::string line = fmt::format(
        "epoch {}/{} [{:=<{}}{:<{}}] {}/{}  {:.0f} samples/s  loss {:.4f}  ETA {}:{:02}", epoch,
        epochs, "", filled, "", 20 - filled, step, steps, rate, loss, eta_s / 60, eta_s % 60);
    fmt::print(stderr, "\r{:<{}}", line, width_);
    width_ = std::max(width_, line.size());
    std::fflush(stderr);
  }
  // Wipes the bar (before other output) and starts timing the next epoch.
  void clear() {
    if (enabled_ && width_ > 0) {
      fmt::print(stderr, "\r{:<{}}\r", "", width_);
      std::fflush(stderr);
    }
    width_ = 0;
    first_step_ = -1;
    started_ = Clock::now();
  }

 private:
  bool enabled_;
  Clock::time_point started_, drawn_;
  std::int64_t first_step_ = -1;
  std::size_t width_ = 0;
};

// The epoch's log line; columns without a value (no validation set, accuracy of a regression)
// are left out.
std::string epoch_line(const EpochMetrics& m, std::int64_t epochs) {
  std::string line = fmt::format("epoch {:>3}/{}  loss {:.4f}", m.epoch, epochs, m.train_loss);
  const auto column = [&](const char* name, double v) {
    if (std::isfinite(v)) line += fmt::format("  {} {:.4f}", name, v);
  };
  column("acc", m.train_accuracy);
  column("val_loss", m.val_loss);
  column("val_acc", m.val_accuracy);
  if (std::isfinite(m.test_accuracy)) {
    column("test_acc", m.test_accuracy);
  } else {
    column("test_loss", m.test_loss);
  }
  return line + fmt::format("  {:.2f}s  {:.0f} samples/s", m.seconds, m.samples_per_second);
}

// Names are checked before any data is read, so a typo costs no loading time.
void check_choices(const TrainArgs& a) {
  parse_optimizer(a.optimizer);
  parse_schedule(a.schedule);
  for (std::size_t start = 0; start <= a.activation.size();) {  // each name of a comma list
    const std::size_t comma = std::min(a.activation.find(',', start), a.activation.size());
    parse_activation(a.activation.substr(start, comma - start));
    start = comma + 1;
  }
  if (!a.loss.empty()) parse_loss(a.loss);
  csv_options(a);
  parse_normalization(a.normalize);
  if (a.epochs < 1) throw Error(fmt::format("--epochs {} must be at least 1", a.epochs));
}

int run_train(TrainArgs args, const RunArgs& run, const std::vector<std::string>& given_with_resume,
              const std::vector<std::string>& csv_flags_given) {
  const std::atomic<bool>& stop = install_stop_handlers();
  std::optional<Checkpoint> resumed;
  if (!run.resume.empty()) {
    if (!given_with_resume.empty())
      throw Error(fmt::format(
          "--resume continues the checkpoint's own run; {} cannot be changed (only --epochs, "
          "--threads, -o, --metrics, --checkpoint, --checkpoint-every, -q)",
          given_with_resume.front()));
    const std::int64_t requested_epochs = args.epochs;
    resumed = load_checkpoint(run.resume, 1);
    try {
      args = from_json(json::parse(resumed->run));
    } catch (const json::exception& e) {
      throw Error(fmt::format("{}: the checkpoint's run description is malformed ({})", run.resume,
                              e.what()));
    }
    if (requested_epochs > 0 && requested_epochs != args.epochs && args.schedule == "cosine")
      throw Error(
          "--epochs cannot change on --resume with the cosine schedule: its length is the run's "
          "epoch count");
    if (requested_epochs > 0) args.epochs = requested_epochs;
  }
  check_choices(args);
  // Fail on unwritable outputs now, not after an hour of training.
  check_writable(run.output);
  if (!run.metrics.empty()) check_writable(run.metrics);
  if (!run.report.empty()) check_writable(run.report);
  const std::string checkpoint_path =
      run.checkpoint.empty() ? run.output + ".checkpoint" : run.checkpoint;
  check_writable(checkpoint_path);
  if (run.checkpoint_every < 1)
    throw Error(fmt::format("--checkpoint-every {} must be at least 1", run.checkpoint_every));
  if (!(args.val_split >= 0.0 && args.val_split < 1.0))
    throw Error(fmt::format("--val-split {} is not in [0, 1)", args.val_split));

  const CsvOptions csv = csv_options(args);
  TrainingData data = load_training_data(args.data, args.test, csv);
  if (!data.csv && !csv_flags_given.empty())
    throw Error(fmt::format("{} applies to CSV data only, but --data '{}' is IDX",
                            csv_flags_given.front(), args.data));
  if (stop.load()) throw Error("interrupted before training started");
  const Dataset& train = data.train;
  if (data.csv && !run.quiet) {
    fmt::print("data: {} ({} rows, {} features); {}; task: {} ({})\n", train.source, train.rows,
               train.features, data.csv_report.header_reason,
               train.task == Task::classification ? "classification" : "regression",
               data.csv_report.task_reason);
  }
  const Split split = split_validation(train, args.val_split, args.seed);

  ModelInfo info;
  info.architecture = build_architecture(args, train);
  info.task = train.task;
  info.class_names = train.class_names;
  info.feature_names = train.feature_names;
  info.label_name = train.label_name;
  info.input_format = data.csv ? "csv" : "idx";
  if (data.csv) {
    info.csv_header = data.csv_report.schema.has_header;
    info.csv_columns = data.csv_report.schema.columns;
  }
  const Normalization norm =
      data.csv ? parse_normalization(args.normalize) : Normalization::unit_range;
  info.preprocessing = Preprocessing::fit(norm, train, split.train);
  info.preprocessing.fit_targets(train, split.train);

  Network net(info.architecture, args.batch);
  if (resumed) {
    if (resumed->model.info.architecture.widths != info.architecture.widths)
      throw Error(fmt::format("{}: the checkpoint's architecture {} differs from the data's {}",
                              run.resume, resumed->model.info.architecture.describe(),
                              info.architecture.describe()));
    copy_parameters(net, *resumed->model.network);
    info.preprocessing = resumed->model.info.preprocessing;
  } else if (!args.init.empty()) {
    Model start = load_model(args.init, 1);
    if (start.info.architecture.widths != info.architecture.widths ||
        start.info.architecture.activations != info.architecture.activations)
      throw Error(fmt::format("--init {}: the model is {}, but this run asks for {}", args.init,
                              start.info.architecture.describe(), info.architecture.describe()));
    copy_parameters(net, *start.network);
    info.preprocessing =
        start.info.preprocessing;  // the weights expect the inputs they were trained on
  } else {
    net.initialize(args.seed);
  }

  TrainOptions options;
  options.epochs = args.epochs;
  options.batch = args.batch;
  options.shuffle = !args.no_shuffle;
  options.seed = args.seed;
  options.optimizer.kind = parse_optimizer(args.optimizer);
  if (args.lr == 0.0f) args.lr = default_learning_rate(options.optimizer.kind);
  options.optimizer.momentum = args.momentum;
  options.optimizer.nesterov = args.nesterov;
  options.optimizer.weight_decay = args.weight_decay;
  if (args.nesterov && options.optimizer.kind != OptimizerKind::momentum)
    throw Error("--nesterov applies to --optimizer momentum only");
  options.schedule.kind = parse_schedule(args.schedule);
  options.schedule.base_lr = args.lr;
  options.schedule.step_epochs = args.lr_step;
  options.schedule.gamma = args.lr_gamma;
  options.schedule.total_epochs = args.epochs;
  options.patience = args.patience;
  options.layer_stats = !run.no_layer_stats;
  if (args.patience > 0 && split.validation.empty())
    throw Error("early stopping (--patience) needs a validation set: give --val-split");

  const int threads = run.threads > 0 ? run.threads : ThreadPool::hardware_threads();
  ThreadPool pool(threads);
  Trainer trainer(net, info.preprocessing, options, train, split.train, pool);
  if (!split.validation.empty()) trainer.set_validation(train, split.validation);
  if (data.test) trainer.set_test(*data.test);
  if (resumed) restore_trainer(trainer, *resumed);

  info.training = {{"optimizer", args.optimizer},         {"lr", fmt::format("{}", args.lr)},
                   {"batch", std::to_string(args.batch)}, {"seed", std::to_string(args.seed)},
                   {"schedule", args.schedule},           {"data", train.source}};
  const std::string run_json = to_json(args).dump();

  if (!run.quiet) {
    fmt::print("network: {} ({} parameters); {} lr {}, batch {}, {} epochs, {} thread{}\n",
               info.architecture.describe(), info.architecture.parameter_count(), args.optimizer,
               args.lr, args.batch, args.epochs, threads, threads == 1 ? "" : "s");
    fmt::print(
        "train: {} samples{}{}\n", split.train.size(),
        split.validation.empty() ? "" : fmt::format(", validation: {}", split.validation.size()),
        data.test ? fmt::format(", test: {} ({})", data.test->rows, data.test->source) : "");
    if (resumed)
      fmt::print("resuming from {} at epoch {}, step {}\n", run.resume, resumed->state.epoch + 1,
                 resumed->state.step_in_epoch);
  }
  ProgressBar progress(isatty(STDERR_FILENO) != 0 && !run.quiet);
  trainer.on_step = [&](std::int64_t step, std::int64_t steps) {
    progress.update(trainer.state().epoch + 1, args.epochs, step, steps, trainer.state());
  };
  trainer.on_health = [&](const HealthFinding& f) {
    progress.clear();
    if (!run.quiet) fmt::print(stderr, "backprop: warning: {}\n", f.message);
  };
  // The report evaluates the test set, or without one the training data.
  const auto write_run_report = [&] {
    if (run.report.empty()) return;
    ReportInput in;
    in.info = &info;
    in.network = &net;
    in.history = trainer.state().history;
    in.data = data.test ? &*data.test : &train;
    in.data_role = data.test ? "test set" : "training data";
    in.model_path = run.output;
    in.metrics_path = run.metrics;
    in.version = kVersion;
    write_report(run.report, in, pool);
    if (!run.quiet) fmt::print("report: {}\n", run.report);
  };
  trainer.on_epoch = [&](const EpochMetrics& m) {
    progress.clear();
    if (!run.quiet) {
      fmt::print("{}\n", epoch_line(m, args.epochs));
      std::fflush(stdout);
    }
    if (!run.metrics.empty()) write_metrics(run.metrics, trainer.state().history);
    const bool last = m.epoch >= args.epochs;
    if (!run.checkpoint.empty() && (m.epoch % run.checkpoint_every == 0 || last))
      save_checkpoint(checkpoint_path, net, info, trainer, run_json);
  };
  trainer.stop_requested = &stop;

  TrainOutcome outcome;
  try {
    outcome = trainer.run();
  } catch (const DivergenceError&) {
    progress.clear();
    // The network holds finite weights (from before the failing step when the loss was not
    // finite, or from the start of the epoch when a gradient or the update was not): keep
    // them, never NaNs.
    save_model(run.output, net, info);
    fmt::print(stderr, "backprop: the last finite weights (see the error below) were saved to {}\n",
               run.output);
    if (!run.metrics.empty()) write_metrics(run.metrics, trainer.state().history);
    try {
      write_run_report();
    } catch (const Error& e) {
      fmt::print(stderr, "backprop: the report was not written: {}\n", e.what());
    }
    throw;
  }
  progress.clear();
  if (outcome == TrainOutcome::interrupted) {
    save_checkpoint(checkpoint_path, net, info, trainer, run_json);
    std::string resume = fmt::format("backprop train --resume {}", checkpoint_path);
    if (run.output != "model.safetensors") resume += fmt::format(" -o {}", run.output);
    if (!run.metrics.empty()) resume += fmt::format(" --metrics {}", run.metrics);
    if (!run.checkpoint.empty()) resume += fmt::format(" --checkpoint {}", run.checkpoint);
    if (!run.report.empty()) resume += fmt::format(" --report {}", run.report);
    fmt::print(stderr,
               "backprop: interrupted (signal {}) at epoch {}, step {}/{}; checkpoint saved to {}\n"
               "backprop: resume with: {}\n",
               stop_signal(), trainer.state().epoch + 1, trainer.state().step_in_epoch,
               trainer.steps_per_epoch(), checkpoint_path, resume);
    return kInterrupted;
  }
  if (!trainer.state().history.empty()) {
    const EpochMetrics& last = trainer.state().history.back();
    info.training["epochs"] = std::to_string(last.epoch);
    if (args.patience > 0) info.training["best_epoch"] = std::to_string(trainer.state().best_epoch);
    if (std::isfinite(last.test_accuracy))
      info.training["test_accuracy"] = fmt::format("{:.4f}", last.test_accuracy);
  }
  save_model(run.output, net, info);
  if (!run.quiet) {
    if (outcome == TrainOutcome::early_stopped)
      fmt::print("early stopping: no validation improvement for {} epochs; kept epoch {}\n",
                 args.patience, trainer.state().best_epoch);
    if (data.test) {
      const Evaluation e = evaluate(net, *data.test, info.preprocessing, {}, pool);
      if (e.task == Task::classification) {
        fmt::print("test: accuracy {:.4f}  loss {:.4f}  ({} samples)\n", e.accuracy, e.loss,
                   e.samples);
      } else {
        fmt::print("test: mse {:.6g}  mae {:.6g}  r2 {:.4f}  ({} samples)\n", e.mse, e.mae, e.r2,
                   e.samples);
      }
    }
    fmt::print("saved {}\n", run.output);
  }
  write_run_report();
  return kSuccess;
}

}  // namespace

void add_train_command(CLI::App& app, int& exit_code) {
  auto* cmd =
      app.add_subcommand("train",
                         "Train a network (with no options: the seed's 784-128-10 sigmoid network "
                         "on Fashion-MNIST)");
  auto args = std::make_shared<TrainArgs>();
  auto run = std::make_shared<RunArgs>();
  std::vector<CLI::Option*> weight_options;
  std::vector<CLI::Option*> csv_only;
  auto opt = [&](CLI::Option* o) {
    weight_options.push_back(o);
    return o;
  };
  auto csv_opt = [&](CLI::Option* o) {  // meaningful for CSV data only: an error with IDX
    csv_only.push_back(o);
    return opt(o);
  };
  opt(cmd->add_option("--data", args->data,
                      "Training data: an MNIST-layout directory, an IDX images file, or a CSV file")
          ->capture_default_str());
  opt(cmd->add_option("--test", args->test,
                      "Test data (default: the t10k files of an IDX --data directory)"));
  opt(cmd->add_option("--layers", args->layers, "All widths, input to output, e.g. 784,128,10"));
  opt(cmd->add_option("--hidden", args->hidden,
                      "Hidden widths only, e.g. 64,32 (input and output follow from the data)"));
  opt(cmd->add_option("--activation", args->activation,
                      "sigmoid, tanh, relu, leaky_relu, linear; one, or one per hidden layer")
          ->capture_default_str());
  opt(cmd->add_option("--loss", args->loss,
                      "cross_entropy (classification) or mse (regression); default from the task"));
  opt(cmd->add_option("--optimizer", args->optimizer, "sgd, momentum, adam, adamw")
          ->capture_default_str());
  opt(cmd->add_option("--lr", args->lr,
                      "Learning rate (default: sgd 0.5, momentum 0.05, adam/adamw 0.001)"));
  opt(cmd->add_option("--momentum", args->momentum, "Momentum for --optimizer momentum")
          ->capture_default_str());
  opt(cmd->add_flag("--nesterov", args->nesterov, "Nesterov momentum"));
  opt(cmd->add_option("--batch", args->batch, "Minibatch size")->capture_default_str());
  auto* epochs = cmd->add_option("--epochs", args->epochs, "Epochs")->capture_default_str();
  opt(cmd->add_option("--seed", args->seed,
                      "Seed for initialisation, shuffling, dropout and the split")
          ->capture_default_str());
  opt(cmd->add_option("--weight-decay", args->weight_decay, "L2 weight decay (decoupled for adamw)")
          ->capture_default_str());
  opt(cmd->add_option("--dropout", args->dropout, "Dropout probability on hidden layers")
          ->capture_default_str());
  opt(cmd->add_option("--val-split", args->val_split,
                      "Fraction of the training data held out for validation")
          ->capture_default_str());
  opt(cmd->add_option("--schedule", args->schedule,
                      "Learning-rate schedule: constant, step, cosine")
          ->capture_default_str());
  opt(cmd->add_option("--lr-step", args->lr_step, "step schedule: epochs between decays")
          ->capture_default_str());
  opt(cmd->add_option("--lr-gamma", args->lr_gamma, "step schedule: decay factor")
          ->capture_default_str());
  opt(cmd->add_option("--patience", args->patience,
                      "Early stopping after this many epochs without validation "
                      "improvement (0: off)")
          ->capture_default_str());
  opt(cmd->add_option("--init", args->init, "Start from the weights of this model file"));
  opt(cmd->add_flag("--no-shuffle", args->no_shuffle, "Keep the data's order in every epoch"));
  csv_opt(cmd->add_option("--header", args->header, "CSV: yes, no or auto")->capture_default_str());
  csv_opt(cmd->add_option("--label", args->label,
                          "CSV: label column, by name or 0-based index (default: last)"));
  csv_opt(cmd->add_option("--ignore", args->ignore, "CSV: columns to drop, e.g. id,name")
              ->delimiter(','));
  csv_opt(cmd->add_option("--task", args->task, "CSV: classification, regression or auto")
              ->capture_default_str());
  csv_opt(cmd->add_option("--normalize", args->normalize,
                          "CSV: standard, minmax, unit (x/255) or none; fitted on the training "
                          "split (regression targets are standardised too unless none)")
              ->capture_default_str());
  csv_opt(
      cmd->add_option("--id", args->id_column, "CSV: an id column to leave out of the features"));
  cmd->add_option("-o,--output", run->output, "Model file to write")->capture_default_str();
  cmd->add_option("--metrics", run->metrics,
                  "Write one JSON object per epoch to this JSON Lines file");
  cmd->add_option("--checkpoint", run->checkpoint,
                  "Checkpoint file (default on interrupt: OUTPUT.checkpoint)");
  cmd->add_option("--checkpoint-every", run->checkpoint_every, "Epochs between checkpoints")
      ->capture_default_str();
  cmd->add_option("--resume", run->resume, "Continue the run saved in this checkpoint");
  cmd->add_option("--threads", run->threads,
                  "Threads (default: all cores); results are identical for any count");
  cmd->add_flag("-q,--quiet", run->quiet, "Print nothing but errors");
  cmd->add_option("--report", run->report,
                  "Write an HTML report of the run (curves, layer statistics, evaluation) here");
  cmd->add_flag("--no-layer-stats", run->no_layer_stats,
                "Record no per-layer statistics (and skip the health checks that need them)");
  cmd->callback([args, run, weight_options, csv_only, epochs, &exit_code] {
    std::vector<std::string> given, csv_given;
    for (auto* o : weight_options)
      if (o->count() > 0) given.push_back(o->get_name());
    for (auto* o : csv_only)
      if (o->count() > 0) csv_given.push_back(o->get_name());
    if (!run->resume.empty() && epochs->count() == 0) args->epochs = 0;  // keep the checkpoint's
    if (epochs->count() > 0 && args->epochs < 1)
      throw Error(fmt::format("--epochs {} must be at least 1", args->epochs));
    exit_code = run_train(*args, *run, given, csv_given);
  });
}

}  // namespace backprop::cli
