#include "backprop/trainer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "backprop/rng.hpp"
#include "nn/fast/fast_path.hpp"
#include "nn/step_extras.hpp"
#include "train/minibatch_pipeline.hpp"
#include "train/sharded_step.hpp"

namespace backprop {

namespace {

constexpr std::uint64_t kShuffleStream = 0x73687566666c65;  // "shuffle"
constexpr std::uint64_t kDropoutStream = 0x64726f706f7574;  // "dropout"

double nan() { return std::numeric_limits<double>::quiet_NaN(); }

// The advice that ends every divergence message.
std::string likely_causes(float lr) {
  return fmt::format(
      "Likely causes: the learning rate ({}) is too high, or the inputs are not scaled (try "
      "--normalize standard)",
      lr);
}

}  // namespace

Trainer::Trainer(Network& network, const Preprocessing& prep, const TrainOptions& options,
                 const Dataset& train, std::vector<std::int64_t> train_rows, ThreadPool& pool)
    : net_(network),
      prep_(prep),
      options_(options),
      train_(train),
      train_rows_(std::move(train_rows)),
      order_(train_rows_.size()),
      pool_(pool),
      optimizer_(options.optimizer, network.parameters().size()),
      // X in the column panels a fast path asks for (optimizer_ is built above).
      batches_(std::make_unique<MinibatchPipeline>(
          options.batch, network.architecture().inputs(), network.architecture().outputs(),
          FastPath<float>::input_panel_column(network.architecture(), options.batch,
                                              optimizer_.is_plain_sgd()))),
      epoch_start_(network.parameters().size()),
      health_(network.architecture(), train.task, baseline_of(train, prep, train_rows_)),
      explosion_(health_.baseline().loss) {
  options_.schedule.validate();
  if (options_.epochs < 1)
    throw Error(fmt::format("--epochs {} must be at least 1", options_.epochs));
  if (options_.batch < 1) throw Error(fmt::format("--batch {} must be at least 1", options_.batch));
  if (options_.batch > net_.max_batch())
    throw Error(fmt::format("batch size {} is larger than the network's buffers ({})",
                            options_.batch, net_.max_batch()));
  if (train_rows_.empty()) throw Error(fmt::format("{}: no training samples", train.source));
  if (options_.batch > static_cast<std::int64_t>(train_rows_.size()))
    throw Error(fmt::format("batch size {} is larger than the {} training samples", options_.batch,
                            train_rows_.size()));
  check_compatible(net_, train_);
  if (options_.layer_stats)
    stats_.emplace(net_.architecture(), train_, prep_, train_rows_, net_.parameters().size());
}

Trainer::~Trainer() = default;

void Trainer::set_validation(const Dataset& data, std::vector<std::int64_t> rows) {
  check_compatible(net_, data);
  val_ = &data;
  val_rows_ = std::move(rows);
}

void Trainer::set_test(const Dataset& data) {
  check_compatible(net_, data);
  test_ = &data;
}

std::int64_t Trainer::steps_per_epoch() const {
  const auto n = static_cast<std::int64_t>(train_rows_.size());
  return (n + options_.batch - 1) / options_.batch;  // the last minibatch may be smaller
}

void Trainer::report_divergence(double loss, std::int64_t step) const {
  const std::int64_t epoch = state_.epoch + 1;
  std::string where;
  const std::int64_t act = net_.first_non_finite_activation();
  const auto& w = net_.architecture().widths;
  if (act >= 0) {
    where = fmt::format("the activations of layer {} ({} -> {}) are the first that are not finite",
                        act + 1, w[static_cast<std::size_t>(act)],
                        w[static_cast<std::size_t>(act + 1)]);
  } else {
    where = "the loss is not finite";
  }
  throw DivergenceError(
      fmt::format("training diverged at epoch {}, step {}: loss {}; {}. {}", epoch, step + 1, loss,
                  where, likely_causes(options_.schedule.learning_rate(state_.epoch))),
      epoch, step + 1);
}

void Trainer::report_update_divergence(std::int64_t step, float lr) {
  // The gradients are still those of this step.
  const std::int64_t grad = net_.first_non_finite_gradient();
  throw_update_divergence(
      step, lr,
      grad >= 0
          ? fmt::format("the gradient of layer {} (W{}, b{}) is the first that is not finite",
                        grad + 1, grad + 1, grad + 1)
          : std::string("the update made weights infinite or NaN (the gradients were finite)"));
}

void Trainer::report_fused_update_divergence(std::int64_t step, float lr, std::int64_t layer) {
  // The update was applied as the gradients were computed, so only its result was seen.
  throw_update_divergence(
      step, lr,
      fmt::format("the update made the parameters of layer {} (W{}, b{}) the first that are not "
                  "finite (its gradient, or lr times it, was infinite or NaN)",
                  layer + 1, layer + 1, layer + 1));
}

void Trainer::throw_update_divergence(std::int64_t step, float lr, const std::string& cause) {
  // The weights are no longer those of any finite step, so they are reset.
  std::copy(epoch_start_.data(), epoch_start_.data() + epoch_start_.size(),
            net_.parameters().begin());
  const std::int64_t epoch = state_.epoch + 1;
  throw DivergenceError(
      fmt::format("training diverged at epoch {}, step {}: {}. {}. The weights were reset to "
                  "those epoch {} started (or resumed) with",
                  epoch, step + 1, cause, likely_causes(lr), epoch),
      epoch, step + 1);
}

void Trainer::report_explosion(std::int64_t step, float lr) {
  const bool classify = train_.task == Task::classification;
  stop_with_reset(
      fmt::format("training diverged at epoch {}, step {}: the loss exploded while staying "
                  "finite (running mean {:.4g}, above {} times the larger of the loss at the "
                  "start, {:.4g}, and the loss of predicting {}, {:.4g}). {}.",
                  state_.epoch + 1, step + 1, explosion_.running_loss(),
                  LossExplosionGuard::kExplosionFactor, explosion_.start_loss(),
                  classify ? "the class frequencies" : "the mean target", explosion_.baseline(),
                  likely_causes(lr)),
      state_.epoch + 1, step + 1);
}

void Trainer::stop_with_reset(const std::string& message, std::int64_t epoch, std::int64_t step) {
  std::copy(epoch_start_.data(), epoch_start_.data() + epoch_start_.size(),
            net_.parameters().begin());
  throw DivergenceError(
      fmt::format("{} The weights were reset to those epoch {} started (or resumed) with", message,
                  epoch),
      epoch, step);
}

void Trainer::run_epoch_steps() {
  const std::int64_t steps = steps_per_epoch();
  std::copy(train_rows_.begin(), train_rows_.end(), order_.begin());
  if (options_.shuffle) {
    Rng rng(hash_key(options_.seed, kShuffleStream, static_cast<std::uint64_t>(state_.epoch)));
    shuffle(order_, rng);
  }
  if (!sharded_) batches_->start(train_, prep_, order_, options_.batch);
  const float lr = options_.schedule.learning_rate(state_.epoch);
  // The weights at the start of the epoch: what a divergence inside the update falls back to.
  std::copy(net_.parameters().begin(), net_.parameters().end(), epoch_start_.data());
  const bool classify = train_.task == Task::classification;
  const std::int64_t r = net_.architecture().outputs();
  auto started = std::chrono::steady_clock::now();
  while (state_.step_in_epoch < steps) {
    if (sharded_) {
      if (run_sharded_step(steps, lr)) continue;
      break;
    }
    const std::int64_t step = state_.step_in_epoch;
    const bool sampled = stats_ && step == LayerStatsRecorder::sampled_step(steps);
    if (sampled) stats_->before_step(net_);
    const auto [batch, x_right] = batches_->take(step, pool_);
    const std::int64_t rows = batch.x.rows;
    // The next minibatch is gathered while this step computes its output layer.
    const auto gather_next = [&](std::int64_t part) { batches_->gather_ahead(step, part); };
    const TaskRef gather_next_task(gather_next);
    const StepExtras<float> extras{batches_->ahead(step, gather_next_task), x_right};
    const std::uint64_t dropout_key = hash_key(options_.seed, kDropoutStream, optimizer_.steps());
    // Plain SGD is applied inside the backward pass (no gradient buffer to write and read
    // back); every other optimiser takes the gradients after it.
    const bool fused = optimizer_.is_plain_sgd();
    SgdStepOutcome fused_step;
    if (fused) fused_step = net_.forward_backward_sgd(batch, dropout_key, lr, pool_, &extras);
    const double loss =
        fused ? fused_step.loss : net_.forward_backward(batch, dropout_key, pool_, &extras);
    if (!std::isfinite(loss)) report_divergence(loss, step);
    if (classify) {
      const auto yhat = net_.output();
      for (std::int64_t i = 0; i < rows; ++i)
        state_.running_correct +=
            argmax(yhat.row(i), r) == batch.labels[static_cast<std::size_t>(i)] ? 1 : 0;
    }
    state_.running_loss += loss * static_cast<double>(rows);
    state_.running_seen += rows;
    // The update is checked as it is made (finite gradients can still take a weight to
    // infinity when lr * g overflows).
    if (fused) {
      optimizer_.count_step();
      if (fused_step.first_non_finite_layer >= 0)
        report_fused_update_divergence(step, lr, fused_step.first_non_finite_layer);
    } else if (!optimizer_.step(net_.parameters(), net_.gradients(), lr, pool_)) {
      report_update_divergence(step, lr);
    }
    if (sampled) stats_->after_step(net_, lr, !fused);
    if (options_.stop_on_explosion && explosion_.observe(loss, rows)) report_explosion(step, lr);
    ++state_.step_in_epoch;
    if (on_step) on_step(state_.step_in_epoch, steps);
    if (stop_requested != nullptr && stop_requested->load() && state_.step_in_epoch < steps) break;
  }
  const auto now = std::chrono::steady_clock::now();
  state_.running_seconds += std::chrono::duration<double>(now - started).count();
}

void Trainer::finish_epoch() {
  EpochMetrics m;
  m.epoch = state_.epoch + 1;
  m.learning_rate = static_cast<double>(options_.schedule.learning_rate(state_.epoch));
  const auto seen = static_cast<double>(state_.running_seen);
  m.train_loss = state_.running_loss / seen;
  m.train_accuracy = train_.task == Task::classification
                         ? static_cast<double>(state_.running_correct) / seen
                         : nan();
  m.seconds = state_.running_seconds;
  m.samples_per_second = m.seconds > 0 ? seen / m.seconds : 0.0;
  m.val_loss = m.val_accuracy = m.test_loss = m.test_accuracy = nan();
  if (stats_) m.layers = stats_->finish_epoch(net_, pool_);
  if (val_ != nullptr) {
    const Evaluation e = evaluate(net_, *val_, prep_, val_rows_, pool_);
    m.val_loss = e.loss;
    m.val_accuracy = e.task == Task::classification ? e.accuracy : nan();
  }
  if (test_ != nullptr) {
    const Evaluation e = evaluate(net_, *test_, prep_, {}, pool_);
    m.test_loss = e.loss;
    m.test_accuracy = e.task == Task::classification ? e.accuracy : nan();
  }
  state_.epoch += 1;
  state_.step_in_epoch = 0;
  state_.running_loss = 0;
  state_.running_correct = 0;
  state_.running_seen = 0;
  state_.running_seconds = 0;
  if (val_ != nullptr && options_.patience > 0) {
    if (m.val_loss < state_.best_val_loss) {
      state_.best_val_loss = m.val_loss;
      state_.best_epoch = m.epoch;
      state_.stale_epochs = 0;
      state_.best_parameters.assign(net_.parameters().begin(), net_.parameters().end());
    } else {
      state_.stale_epochs += 1;
    }
  }
  state_.history.push_back(m);
  if (on_epoch) on_epoch(m);
  for (const HealthFinding& f : health_.check_epoch(m)) {
    if (f.stop) stop_with_reset(f.message + ".", m.epoch, steps_per_epoch());
    if (on_health) on_health(f);
  }
}

TrainOutcome Trainer::run() {
  if (options_.shards > 0 && !sharded_)
    sharded_ = std::make_unique<ShardedStep>(net_, options_.shards, options_.batch,
                                             exchange != nullptr ? *exchange : local_exchange_);
  while (state_.epoch < options_.epochs) {
    run_epoch_steps();
    if (state_.step_in_epoch < steps_per_epoch()) return TrainOutcome::interrupted;
    finish_epoch();
    if (options_.patience > 0 && val_ != nullptr && state_.stale_epochs >= options_.patience) {
      std::copy(state_.best_parameters.begin(), state_.best_parameters.end(),
                net_.parameters().begin());
      return TrainOutcome::early_stopped;
    }
    if (stop_now() && state_.epoch < options_.epochs) return TrainOutcome::interrupted;
  }
  if (options_.patience > 0 && !state_.best_parameters.empty())
    std::copy(state_.best_parameters.begin(), state_.best_parameters.end(),
              net_.parameters().begin());
  return TrainOutcome::completed;
}

}  // namespace backprop
