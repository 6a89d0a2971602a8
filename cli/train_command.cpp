// backprop train: data -> preprocessing -> network -> trainer -> model file, with per-epoch
// log lines, a metrics file, checkpoints, Ctrl-C handling and --resume.
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <csignal>
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
#include "common_options.hpp"
#include "core/atomic_file.hpp"
#include "data_fingerprint.hpp"
#include "data_stream.hpp"
#include "metrics_log.hpp"
#include "outputs.hpp"
#include "processes.hpp"
#include "signals.hpp"
#include "train/sharded_step.hpp"
#include "train_options.hpp"
#include "usage.hpp"

namespace backprop::cli {

namespace {

using nlohmann::json;

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
  o.header = parse_csv_header(a.header);
  o.label = a.label;
  o.ignore = a.ignore;
  o.task = parse_task_or_auto(a.task);
  o.id_column = a.id_column;
  o.delimiter = parse_delimiter(a.delimiter);
  o.decimal = parse_decimal(a.decimal);
  o.encoding.missing = parse_missing_policy(a.missing);
  o.encoding.indicators = a.missing_indicator;
  o.encoding.categorical = a.categorical;
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
                            to_string(train.task), to_string(natural)));
  arch.dropout = a.dropout;
  arch.validate();
  return arch;
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

// The checkpoint's run description replaces the options in `args` that decide the weights.
// Options the command line gave again must carry the checkpoint's values; all that differ are
// listed in one message. --data and --test may name the data again (a moved file): the data
// fingerprint checks the content later.
Checkpoint resume_run(TrainArgs& args, const GivenOptions& given) {
  const TrainArgs typed = args;
  Checkpoint resumed = load_checkpoint(args.resume, 1);
  try {
    read_json(json::parse(resumed.run), args);
  } catch (const json::exception& e) {
    throw Error(fmt::format("{}: the checkpoint's run description is malformed ({})", args.resume,
                            e.what()));
  }
  const std::vector<std::string> changed =
      changed_on_resume(typed, args, given.fixed_by_checkpoint);
  if (!changed.empty())
    throw Error(fmt::format(
        "--resume {}: {} option{} differ{} from the checkpoint's run: {}; give the checkpoint's "
        "values or leave them out (a resumed run may change only {})",
        args.resume, changed.size(), changed.size() == 1 ? "" : "s", changed.size() == 1 ? "s" : "",
        fmt::join(changed, ", "), options_allowed_on_resume()));
  for (const auto& flag : given.data) {
    if (flag == "--data") args.data = typed.data;
    if (flag == "--test") args.test = typed.test;
  }
  if (given.epochs && typed.epochs != args.epochs && args.schedule == "cosine")
    throw Error(
        "--epochs cannot change on --resume with the cosine schedule: its length is the run's "
        "epoch count");
  if (given.epochs) args.epochs = typed.epochs;
  return resumed;
}

// A resumed run on other data is refused (unless --force): its weights, optimiser state and
// split all belong to the checkpoint's data. Checkpoints without a fingerprint are not checked.
void check_resumed_data(const TrainArgs& args, const Checkpoint& resumed, const Dataset& train) {
  const json run = json::parse(resumed.run);
  if (!run.contains(kFingerprintKey)) return;
  DataFingerprint before;
  try {
    before = fingerprint_from_json(run.at(kFingerprintKey));
  } catch (const Error& e) {
    throw Error(fmt::format("{}: {}", args.resume, e.what()));
  }
  const DataFingerprint now = fingerprint(train);
  if (now.same_data(before) || args.force) return;
  throw Error(
      fmt::format("--resume {}: the checkpoint was trained on {}, but --data is {}; resume on the "
                  "checkpoint's data, or give --force to continue on this data",
                  args.resume, before.describe(), now.describe()));
}

// A resumed run's history (the checkpoint holds none) is its metrics file's epochs up to the
// checkpoint, so that the file holds each epoch once and --report covers the whole run. A file
// that cannot give them starts again at the resumed epoch, with a warning that says why.
void resume_history(Trainer& trainer, const TrainArgs& args) {
  const std::int64_t epoch = trainer.state().epoch;
  const auto lost = [&] {
    return fmt::format(
        "{} not in the history{}",
        epoch == 1 ? std::string("epoch 1 is") : fmt::format("epochs 1 to {} are", epoch),
        args.report.empty() ? "" : " (nor in --report)");
  };
  if (args.metrics.empty()) {
    if (!args.report.empty() && epoch > 0)
      fmt::print(stderr,
                 "backprop: warning: {}: give --metrics with the interrupted run's metrics file\n",
                 lost());
    return;
  }
  ResumedHistory h = read_resumed_history(args.metrics, epoch);
  if (!h.problem.empty()) {
    fmt::print(stderr,
               "backprop: warning: --metrics {}; the file starts again at epoch {}, and {}\n",
               h.problem, epoch + 1, lost());
  } else if (h.dropped_lines > 0 && !args.quiet) {
    fmt::print("metrics: {} cut back to the checkpoint's {} epoch{} ({} later line{} dropped)\n",
               args.metrics, epoch, epoch == 1 ? "" : "s", h.dropped_lines,
               h.dropped_lines == 1 ? "" : "s");
  }
  trainer.state().history = std::move(h.epochs);
}

int run_train_on(TrainArgs args, const GivenOptions& given, Processes& procs) {
  const std::atomic<bool>& stop = install_stop_handlers();
  // Only the first process prints and writes; the others print nothing but errors.
  const bool primary = procs.primary();
  if (!primary) args.quiet = true;
  // Every value is checked before anything is read: a typo costs no loading time.
  if (given.lr && args.lr == 0.0f)
    throw Error(
        "--lr 0: must be a finite number greater than 0 (leave --lr out for the "
        "optimizer's default)");
  check_train_options(args);
  std::optional<Checkpoint> resumed;
  if (!args.resume.empty()) {
    resumed = resume_run(args, given);
  }
  if (procs.ranks() > 1 && args.shards == 0) {
    if (resumed)
      throw Error(
          fmt::format("{}: the checkpoint's run was not sharded (--shards 0), so it "
                      "resumes as one process only (without mpirun)",
                      args.resume));
    // One shard per process: each shard costs a pass over the gradient, so more shards than
    // processes only buy the freedom to resume with more (docs/distributed.md).
    args.shards = procs.ranks();
    if (!args.quiet)
      fmt::print(
          "shards: {} (the default under MPI: one per process; the model is that of any run with "
          "--shards {}, with 1 to {} processes)\n",
          args.shards, args.shards, args.shards);
  }
  check_train_options(args);
  if (args.shards > 0) check_shards(args.shards, args.batch, procs.ranks());
  if (args.force && !resumed) throw Error("--force applies to --resume only");
  const std::string checkpoint_path =
      args.checkpoint.empty() ? args.output + ".checkpoint" : args.checkpoint;
  std::unique_ptr<OutputLock> lock;  // held by the process that writes
  if (primary) {
    refuse_stdout({"-o", args.output}, "a model file");
    refuse_stdout({"--checkpoint", checkpoint_path}, "a checkpoint");
    refuse_stdout({"--metrics", args.metrics}, "the metrics file");
    refuse_stdout({"--report", args.report}, "the HTML report");
    // No output may be an input or another output (a checkpoint may replace the one it resumes);
    // the lock keeps a second run off the same files.
    lock = claim_outputs(
        {{"--data", args.data}, {"--test", args.test}, {"--init", args.init}},
        {{"-o", args.output},
         {args.checkpoint.empty() ? "the interrupt checkpoint" : "--checkpoint", checkpoint_path},
         {"--metrics", args.metrics},
         {"--report", args.report}});
    check_distinct({{"--resume", args.resume}},
                   {{"-o", args.output}, {"--metrics", args.metrics}, {"--report", args.report}});
    // Fail on unwritable outputs now, not after an hour of training.
    check_writable(args.output);
    if (!args.metrics.empty()) check_writable(args.metrics);
    if (!args.report.empty()) check_writable(args.report);
    check_writable(checkpoint_path);
  }

  CsvOptions csv = csv_options(args);
  // A table's encoding is fitted on the training split, and the split of a new run follows the
  // defaults the table's size decides (the checkpoint's run has them already).
  std::string table_line;
  csv.fit_rows = [&](const Dataset& d) {
    const auto training_rows = [&](double fraction) {
      return static_cast<std::int64_t>(split_validation(d, fraction, args.seed).train.size());
    };
    if (!resumed) table_line = choose_table_defaults(args, given, training_rows);
    return split_validation(d, args.val_split, args.seed).train;
  };
  const std::string data_path = readable_data_path("--data", args.data);
  const std::string test_path = readable_data_path("--test", args.test);
  TrainingData data = load_training_data(data_path, test_path, csv, data_flag_names());
  // A stream read into memory is named as the user named it.
  if (data_path != args.data) data.train.source = args.data;
  if (data.test && test_path != args.test) data.test->source = args.test;
  if (!data.csv && !given.csv_only.empty())
    throw Error(fmt::format("{} applies to CSV data only, but --data '{}' is IDX",
                            given.csv_only.front(), args.data));
  if (stop.load()) throw Error("interrupted before training started");
  const Dataset& train = data.train;
  if (resumed) check_resumed_data(args, *resumed, train);
  if (train.task == Task::classification && train.class_names.size() == 1)
    throw Error(fmt::format(
        "{}: the label column \"{}\" holds one class only (\"{}\"), and a classifier needs at "
        "least 2; check --label (the column to predict), or give --task regression for a "
        "numeric target",
        train.source, train.label_name, train.class_names.front()));
  if (data.csv && !args.quiet) {
    const CsvSchema& schema = data.csv_report.schema;
    fmt::print("data: {} ({} rows, {} features); {}; {}-separated{}; task: {} ({})\n", train.source,
               train.rows, train.features, data.csv_report.header_reason,
               delimiter_name(schema.delimiter), schema.decimal == ',' ? ", decimal comma" : "",
               to_string(train.task), data.csv_report.task_reason);
    for (const std::string& note : train.notes) fmt::print("data: {}\n", note);
    if (data.test)
      for (const std::string& note : data.test->notes) fmt::print("test: {}\n", note);
    if (!table_line.empty()) fmt::print("{}\n", table_line);
  }
  check_train_options(args);  // the values the table chose
  if (args.shards > 0) check_shards(args.shards, args.batch, procs.ranks());
  const Split split = split_validation(train, args.val_split, args.seed);
  // Early stopping chosen by default needs a validation set that a tiny table may not give.
  if (split.validation.empty() && !table_line.empty() &&
      std::find(given.all.begin(), given.all.end(), "--patience") == given.all.end())
    args.patience = 0;

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
    info.csv_ignored = data.csv_report.schema.ignored;
    info.csv_id = data.csv_report.schema.id_column;
    info.csv_delimiter = data.csv_report.schema.delimiter;
    info.csv_decimal = data.csv_report.schema.decimal;
    info.encoding = data.csv_report.schema.encoding;
  }
  const Normalization norm =
      data.csv ? parse_normalization(args.normalize) : Normalization::unit_range;
  info.preprocessing = Preprocessing::fit(norm, train, split.train);
  info.preprocessing.fit_targets(train, split.train);

  Network net(info.architecture, args.batch);
  if (resumed) {
    if (resumed->model.info.architecture.widths != info.architecture.widths)
      throw Error(fmt::format("{}: the checkpoint's architecture {} differs from the data's {}",
                              args.resume, resumed->model.info.architecture.describe(),
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

  if (args.lr == 0.0f) args.lr = default_learning_rate(parse_optimizer(args.optimizer));
  TrainOptions options = train_options(args);
  options.layer_stats = !args.no_layer_stats;
  if (args.nesterov && options.optimizer.kind != OptimizerKind::momentum)
    throw Error("--nesterov applies to --optimizer momentum only");
  if (args.patience > 0 && split.validation.empty())
    throw Error("early stopping (--patience) needs a validation set: give --val-split");

  const int threads = thread_count(args.threads);
  ThreadPool pool(threads);
  Trainer trainer(net, info.preprocessing, options, train, split.train, pool);
  if (!split.validation.empty()) trainer.set_validation(train, split.validation);
  if (data.test) trainer.set_test(*data.test);
  if (resumed) restore_trainer(trainer, *resumed);
  trainer.exchange = procs.exchange();

  info.training = training_provenance(args);
  info.training["data"] = train.source;
  json run = to_json(args);
  run[kFingerprintKey] = to_json(fingerprint(train));
  const std::string run_json = run.dump();

  if (!args.quiet) {
    fmt::print("network: {} ({} parameters); {} lr {}, batch {}, {} epochs, {} thread{}{}{}\n",
               info.architecture.describe(), info.architecture.parameter_count(), args.optimizer,
               args.lr, args.batch, args.epochs, threads, threads == 1 ? "" : "s",
               procs.ranks() > 1 ? fmt::format(" per process, {} processes", procs.ranks()) : "",
               args.shards > 0 ? fmt::format(", {} shards", args.shards) : "");
    fmt::print(
        "train: {} samples{}{}\n", split.train.size(),
        split.validation.empty() ? "" : fmt::format(", validation: {}", split.validation.size()),
        data.test ? fmt::format(", test: {} ({})", data.test->rows, data.test->source) : "");
    if (resumed)
      fmt::print("resuming from {} at epoch {}, step {}\n", args.resume, resumed->state.epoch + 1,
                 resumed->state.step_in_epoch);
  }
  ProgressBar progress(isatty(STDERR_FILENO) != 0 && !args.quiet);
  trainer.on_step = [&](std::int64_t step, std::int64_t steps) {
    progress.update(trainer.state().epoch + 1, args.epochs, step, steps, trainer.state());
  };
  trainer.on_health = [&](const HealthFinding& f) {
    progress.clear();
    if (!args.quiet) fmt::print(stderr, "backprop: warning: {}\n", f.message);
  };
  // The report evaluates the test set, or without one the training data.
  const auto write_run_report = [&] {
    if (args.report.empty() || !primary) return;
    ReportInput in;
    in.info = &info;
    in.network = &net;
    in.history = trainer.state().history;
    in.data = data.test ? &*data.test : &train;
    in.data_role = data.test ? "test set" : "training data";
    in.model_path = args.output;
    in.metrics_path = args.metrics;
    in.version = kVersion;
    write_report(args.report, in, pool);
    if (!args.quiet) fmt::print("report: {}\n", args.report);
  };
  if (primary && resumed) resume_history(trainer, args);
  // A side output that fails (a full disk, a vanished directory) is dropped with a warning and
  // training goes on: the model is what the run is for, and it is still written at the end;
  // the exit status then says that something was lost (side_output_failed).
  std::optional<MetricsLog> metrics;
  if (primary && !args.metrics.empty()) metrics.emplace(args.metrics, trainer.state().history);
  bool checkpoints = !args.checkpoint.empty();
  std::vector<std::string> failed;
  const auto side_output_failed = [&](const char* flag, const Error& e) {
    progress.clear();
    fmt::print(stderr, "backprop: warning: {} stopped: {}; training goes on and {} will be saved\n",
               flag, e.what(), args.output);
    failed.push_back(fmt::format("{} failed ({})", flag, e.what()));
  };
  trainer.on_epoch = [&](const EpochMetrics& m) {
    progress.clear();
    // After SIGPIPE standard output is a closed pipe: nothing more goes there.
    if (!args.quiet && stop_signal() != SIGPIPE) {
      fmt::print("{}\n", epoch_line(m, args.epochs));
      std::fflush(stdout);
    }
    if (!primary) return;
    try {
      if (metrics) metrics->append(m);
    } catch (const Error& e) {
      metrics.reset();
      side_output_failed("--metrics", e);
    }
    const bool last = m.epoch >= args.epochs;
    try {
      if (checkpoints && (m.epoch % args.checkpoint_every == 0 || last))
        save_checkpoint(checkpoint_path, net, info, trainer, run_json);
    } catch (const Error& e) {
      checkpoints = false;
      side_output_failed("--checkpoint", e);
    }
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
    if (!primary) throw;
    save_model(args.output, net, info);
    fmt::print(stderr, "backprop: the last finite weights (see the error below) were saved to {}\n",
               args.output);
    try {
      write_run_report();
    } catch (const Error& e) {
      fmt::print(stderr, "backprop: the report was not written: {}\n", e.what());
    }
    throw;
  }
  progress.clear();
  if (outcome == TrainOutcome::interrupted) {
    if (!primary) return kInterrupted;
    save_checkpoint(checkpoint_path, net, info, trainer, run_json);
    std::string resume = fmt::format("backprop train --resume {}", checkpoint_path);
    if (args.output != "model.safetensors") resume += fmt::format(" -o {}", args.output);
    if (!args.metrics.empty()) resume += fmt::format(" --metrics {}", args.metrics);
    if (!args.checkpoint.empty()) resume += fmt::format(" --checkpoint {}", args.checkpoint);
    if (!args.report.empty()) resume += fmt::format(" --report {}", args.report);
    fmt::print(stderr,
               "backprop: interrupted ({}) at epoch {}, step {}/{}; checkpoint saved to {}\n"
               "backprop: resume with: {}\n",
               stop_signal() != 0 ? fmt::format("signal {}", stop_signal())
                                  : std::string("a signal to another process of the job"),
               trainer.state().epoch + 1, trainer.state().step_in_epoch, trainer.steps_per_epoch(),
               checkpoint_path, resume);
    return kInterrupted;
  }
  // The state counts the epochs, also of a resumed run whose history is not complete.
  if (trainer.state().epoch > 0) {
    info.training["epochs"] = std::to_string(trainer.state().epoch);
    if (args.patience > 0) info.training["best_epoch"] = std::to_string(trainer.state().best_epoch);
  }
  const std::vector<EpochMetrics>& history = trainer.state().history;
  if (!history.empty() && std::isfinite(history.back().test_accuracy))
    info.training["test_accuracy"] = fmt::format("{:.4f}", history.back().test_accuracy);
  if (!primary) return kSuccess;
  save_model(args.output, net, info);
  if (!args.quiet && stop_signal() != SIGPIPE) {
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
    fmt::print("saved {}\n", args.output);
  }
  try {
    write_run_report();
  } catch (const Error& e) {
    failed.push_back(fmt::format("--report failed ({})", e.what()));
  }
  if (!failed.empty()) {
    fmt::print(stderr, "backprop: error: the model was saved to {}, but {}\n", args.output,
               fmt::join(failed, "; "));
    return kFailure;
  }
  return kSuccess;
}

int run_train(const TrainArgs& args, const GivenOptions& given) {
  Processes procs;
  try {
    return run_train_on(args, given, procs);
  } catch (const DivergenceError&) {
    throw;  // every process diverges at the same step: each ends on its own
  } catch (const std::exception& e) {
    // Possibly this process's alone (a full disk on rank 0): end the others with it.
    if (procs.ranks() > 1) {
      fmt::print(stderr, "backprop: error (process {} of {}): {}\n", procs.rank(), procs.ranks(),
                 e.what());
      std::fflush(stderr);
      procs.abort_others(kFailure);
    }
    throw;
  }
}

}  // namespace

void add_train_command(CLI::App& app, int& exit_code) {
  auto* cmd =
      app.add_subcommand("train",
                         "Train a network (with no options: the seed's 784-128-10 sigmoid network "
                         "on Fashion-MNIST)");
  cmd->allow_extras();  // reject_extras() names them, with the closest option
  auto args = std::make_shared<TrainArgs>();
  cmd->callback([cmd, args, given = add_train_options(cmd, *args), &exit_code] {
    reject_extras(*cmd);
    exit_code = run_train(*args, given());
  });
}

}  // namespace backprop::cli
