#include "train/sharded_step.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "backprop/error.hpp"
#include "backprop/rng.hpp"

namespace backprop {

void check_shards(std::int64_t shards, std::int64_t batch, int ranks) {
  if (!is_power_of_two(shards))
    throw Error(fmt::format("--shards {} must be a power of two (1, 2, 4, 8, ...)", shards));
  if (shards > batch)
    throw Error(fmt::format("--shards {} is larger than --batch {}: every shard needs a row",
                            shards, batch));
  if (!is_power_of_two(ranks) || ranks > shards)
    throw Error(fmt::format(
        "{} processes cannot share {} shards with the same bits as one process: the process "
        "count must be a power of two and at most --shards (run with -np 1, 2, 4, ... but at "
        "most {}, or raise --shards)",
        ranks, shards, shards));
}

ShardedStep::ShardedStep(const Network& net, std::int64_t shards, std::int64_t batch,
                         GradientExchange& exchange)
    : shards_(shards),
      local_(shards / std::max(exchange.ranks(), 1)),
      first_(static_cast<std::int64_t>(exchange.rank()) * local_),
      exchange_(exchange),
      buffers_((batch + shards - 1) / shards, net.architecture().inputs(),
               net.architecture().outputs()),
      grads_(static_cast<std::int64_t>(net.gradients().size())),
      stats_(3) {
  check_shards(shards, batch, exchange.ranks());
}

ShardedOutcome ShardedStep::run(Network& net, const Dataset& data, const Preprocessing& prep,
                                std::span<const std::int64_t> rows, std::uint64_t dropout_key,
                                ThreadPool& pool, bool stop) {
  const auto total = static_cast<std::int64_t>(rows.size());
  const std::int64_t r = net.architecture().outputs();
  for (std::int64_t s = first_; s < first_ + local_; ++s) {
    const ShardRows part = shard_rows(total, shards_, s);
    std::span<float> g = grads_.leaf();
    std::span<double> st = stats_.leaf();
    if (part.count == 0) {  // the last minibatch of an epoch can be smaller than the shards
      std::fill(g.begin(), g.end(), 0.0f);
      std::fill(st.begin(), st.end(), 0.0);
    } else {
      const Batch<float> batch = buffers_.gather(
          data, prep,
          rows.subspan(static_cast<std::size_t>(part.first), static_cast<std::size_t>(part.count)),
          &pool);
      const double loss =
          net.forward_backward(batch, hash_key(dropout_key, static_cast<std::uint64_t>(s)), pool);
      // The shard's mean gradient times count / total: its part of the minibatch's mean.
      const float share = static_cast<float>(part.count) / static_cast<float>(total);
      const std::span<const float> mean = net.gradients();
      for (std::size_t j = 0; j < g.size(); ++j) g[j] = mean[j] * share;
      std::int64_t correct = 0;
      if (data.task == Task::classification) {
        const auto yhat = net.output();
        for (std::int64_t i = 0; i < part.count; ++i)
          correct += argmax(yhat.row(i), r) == batch.labels[static_cast<std::size_t>(i)] ? 1 : 0;
      }
      st[0] = loss * static_cast<double>(part.count);
      st[1] = static_cast<double>(correct);
      st[2] = static_cast<double>(part.count);
    }
    grads_.add_leaf();
    stats_.add_leaf();
  }
  std::span<float> g = grads_.result();
  std::span<double> st = stats_.result();
  const auto started = std::chrono::steady_clock::now();
  ShardedOutcome out;
  out.stop = exchange_.combine(g, st, stop);
  exchange_seconds_ +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::copy(g.begin(), g.end(), net.gradients().begin());
  out.loss_sum = st[0];
  out.correct = static_cast<std::int64_t>(st[1]);
  out.rows = static_cast<std::int64_t>(st[2]);
  return out;
}

}  // namespace backprop
