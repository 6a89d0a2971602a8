// The sharded step of the training loop (TrainOptions::shards): the minibatch's gradient from
// ShardedStep, then the optimiser, with metrics and the stop flag agreed by every process.
#include <cmath>

#include "backprop/rng.hpp"
#include "backprop/trainer.hpp"
#include "train/sharded_step.hpp"

namespace backprop {

namespace {
constexpr std::uint64_t kDropoutStream = 0x64726f706f7574;  // "dropout", as in trainer.cpp
}  // namespace

double Trainer::exchange_seconds() const { return sharded_ ? sharded_->exchange_seconds() : 0.0; }

bool Trainer::stop_now() const {
  // A sharded run stops only where every process agreed to, at a step's exchange.
  if (options_.shards > 0) return stop_agreed_;
  return stop_requested != nullptr && stop_requested->load();
}

bool Trainer::run_sharded_step(std::int64_t steps, float lr) {
  const std::int64_t step = state_.step_in_epoch;
  const bool sampled = stats_ && step == LayerStatsRecorder::sampled_step(steps);
  if (sampled) stats_->before_step(net_);
  const auto n = static_cast<std::int64_t>(order_.size());
  const std::int64_t first = step * options_.batch;
  const std::span<const std::int64_t> rows(
      order_.data() + first, static_cast<std::size_t>(std::min(options_.batch, n - first)));
  const std::uint64_t dropout_key = hash_key(options_.seed, kDropoutStream, optimizer_.steps());
  const bool stop = stop_requested != nullptr && stop_requested->load();
  const ShardedOutcome out = sharded_->run(net_, train_, prep_, rows, dropout_key, pool_, stop);
  stop_agreed_ = out.stop;
  const double loss = out.loss_sum / static_cast<double>(out.rows);
  if (!std::isfinite(loss)) report_divergence(loss, step);
  state_.running_correct += out.correct;
  state_.running_loss += out.loss_sum;
  state_.running_seen += out.rows;
  if (!optimizer_.step(net_.parameters(), net_.gradients(), lr, pool_))
    report_update_divergence(step, lr);
  if (sampled) stats_->after_step(net_, lr, true);
  if (options_.stop_on_explosion && explosion_.observe(loss, out.rows)) report_explosion(step, lr);
  ++state_.step_in_epoch;
  if (on_step) on_step(state_.step_in_epoch, steps);
  return !(stop_agreed_ && state_.step_in_epoch < steps);
}

}  // namespace backprop
