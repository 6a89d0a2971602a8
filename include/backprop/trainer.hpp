#pragma once
// The training loop: epochs of shuffled minibatches, one optimiser step each, metrics per
// epoch, early stopping, and a state that can be saved and resumed bit for bit.
#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "backprop/dataset.hpp"
#include "backprop/error.hpp"
#include "backprop/evaluate.hpp"
#include "backprop/gradient_exchange.hpp"
#include "backprop/health.hpp"
#include "backprop/layer_stats.hpp"
#include "backprop/network.hpp"
#include "backprop/optimizer.hpp"
#include "backprop/preprocessing.hpp"
#include "backprop/schedule.hpp"

namespace backprop {

struct TrainOptions {
  std::int64_t epochs = 10;
  // With shards = S > 0 (a power of two), every minibatch's gradient is the sum of S
  // micro-shards' in a fixed pairwise tree (backprop/gradient_exchange.hpp), computed by the
  // unfused backward pass: the same bits for any number of processes sharing the shards
  // (Trainer::exchange). 0: the whole minibatch in one pass, the fast path.
  std::int64_t shards = 0;
  std::int64_t batch = 64;
  bool shuffle = true;
  std::uint64_t seed = 1;
  OptimizerConfig optimizer;
  Schedule schedule;
  // Early stopping: stop after this many epochs without a lower validation loss, and keep the
  // best epoch's weights (0 turns it off).
  std::int64_t patience = 0;
  // Per-layer statistics once per epoch (EpochMetrics::layers, backprop/layer_stats.hpp) and
  // the health checks that read them (backprop/health.hpp); they change no trained bit.
  bool layer_stats = true;
  // Stop a finite loss that explodes (LossExplosionGuard) like a non-finite one.
  bool stop_on_explosion = true;
};

// One line of the training log. Accuracies are NaN for regression; validation and test
// fields are NaN when there is no such set.
struct EpochMetrics {
  std::int64_t epoch = 0;  // 1-based
  double learning_rate = 0;
  double train_loss = 0;      // mean minibatch loss over the epoch, as trained (with dropout)
  double train_accuracy = 0;  // of the same forward passes
  double val_loss = 0, val_accuracy = 0;
  double test_loss = 0, test_accuracy = 0;
  double seconds = 0;  // the epoch's training steps, without evaluation
  double samples_per_second = 0;
  std::vector<LayerStats> layers;  // one per dense layer; empty when not recorded
};

// One epoch as a JSON object (keys in the order above; NaN and infinity as null): a line of
// the --metrics file. Parsing throws Error.
std::string to_json(const EpochMetrics& m);
EpochMetrics epoch_metrics_from_json(const std::string& text);

// Everything besides the weights and the optimiser that a resumed run needs to continue
// exactly where this one stopped. Shuffles and dropout masks are pure functions of the seed,
// the epoch and the optimiser's step count, so no generator state is kept.
struct TrainState {
  std::int64_t epoch = 0;          // epochs completed
  std::int64_t step_in_epoch = 0;  // minibatches done in the current epoch
  double running_loss = 0;         // sum of minibatch mean loss * rows, this epoch
  std::int64_t running_correct = 0;
  std::int64_t running_seen = 0;
  double running_seconds = 0;
  double best_val_loss = std::numeric_limits<double>::infinity();
  std::int64_t best_epoch = 0;
  std::int64_t stale_epochs = 0;
  std::vector<float> best_parameters;  // flat; empty until validation first improves
  // The epochs run, in order. Not part of a checkpoint: a resumed run starts it empty, or with
  // the epochs its caller puts back (train --resume: those of the metrics file).
  std::vector<EpochMetrics> history;
};

// Thrown when a loss, activation, gradient or updated weight stops being finite. The network
// then holds finite weights: those from before the failing step, or, when the update itself
// overflowed, those from the start of the epoch.
class DivergenceError : public Error {
 public:
  DivergenceError(const std::string& message, std::int64_t epoch, std::int64_t step)
      : Error(message), epoch_(epoch), step_(step) {}
  std::int64_t epoch() const { return epoch_; }
  std::int64_t step() const { return step_; }

 private:
  std::int64_t epoch_, step_;
};

enum class TrainOutcome { completed, early_stopped, interrupted };

class MinibatchPipeline;  // the epoch's minibatches (internal: src/train/)
class ShardedStep;

class Trainer {
 public:
  // `train_rows` index the samples of `train` to learn from. Data sets must outlive the trainer.
  Trainer(Network& network, const Preprocessing& prep, const TrainOptions& options,
          const Dataset& train, std::vector<std::int64_t> train_rows, ThreadPool& pool);
  ~Trainer();

  void set_validation(const Dataset& data, std::vector<std::int64_t> rows);
  void set_test(const Dataset& data);

  // Called after each epoch with its metrics (the state already counts the epoch as done).
  std::function<void(const EpochMetrics&)> on_epoch;
  // Called after each step with (steps done in this epoch, steps per epoch).
  std::function<void(std::int64_t, std::int64_t)> on_step;
  // Called with each health warning (HealthMonitor) at the end of an epoch; a finding that
  // stops the run is thrown as a DivergenceError instead.
  std::function<void(const HealthFinding&)> on_health;
  // When set and true, the run stops after the current step with outcome `interrupted`.
  const std::atomic<bool>* stop_requested = nullptr;
  // With options.shards > 0: the processes sharing each step's shards (set before run();
  // default: this process alone). Every process then stops at the same step when any one's
  // stop_requested is set.
  GradientExchange* exchange = nullptr;
  // With options.shards > 0: the seconds spent combining shard sums across processes.
  double exchange_seconds() const;

  // Trains until options.epochs are done, early stopping triggers, or a stop is requested.
  // Throws DivergenceError (weights from before the failing step intact).
  TrainOutcome run();

  std::int64_t steps_per_epoch() const;
  TrainState& state() { return state_; }
  const TrainState& state() const { return state_; }
  Optimizer& optimizer() { return optimizer_; }
  const Optimizer& optimizer() const { return optimizer_; }
  const TrainOptions& options() const { return options_; }

 private:
  void run_epoch_steps();
  // One step of a sharded run (trainer_sharded.cpp); false when the processes agreed to stop.
  bool run_sharded_step(std::int64_t steps, float lr);
  bool stop_now() const;
  void finish_epoch();
  [[noreturn]] void report_divergence(double loss, std::int64_t step) const;
  [[noreturn]] void report_update_divergence(std::int64_t step, float lr);
  [[noreturn]] void report_fused_update_divergence(std::int64_t step, float lr, std::int64_t layer);
  [[noreturn]] void throw_update_divergence(std::int64_t step, float lr, const std::string& cause);
  [[noreturn]] void report_explosion(std::int64_t step, float lr);
  // Back to the weights epoch `epoch` started with, then DivergenceError(message).
  [[noreturn]] void stop_with_reset(const std::string& message, std::int64_t epoch,
                                    std::int64_t step);

  Network& net_;
  const Preprocessing& prep_;
  TrainOptions options_;
  const Dataset& train_;
  std::vector<std::int64_t> train_rows_;
  std::vector<std::int64_t> order_;  // this epoch's sample order
  ThreadPool& pool_;
  Optimizer optimizer_;
  std::unique_ptr<MinibatchPipeline> batches_;
  AlignedBuffer<float> epoch_start_;  // the parameters when the current epoch (or resume) began
  TrainState state_;
  const Dataset* val_ = nullptr;
  std::vector<std::int64_t> val_rows_;
  const Dataset* test_ = nullptr;
  std::optional<LayerStatsRecorder> stats_;  // with options.layer_stats
  HealthMonitor health_;
  LossExplosionGuard explosion_;
  LocalExchange local_exchange_;
  std::unique_ptr<ShardedStep> sharded_;  // with options.shards > 0, from the first run()
  bool stop_agreed_ = false;              // a sharded run's stop, agreed at a step's exchange
};

}  // namespace backprop
