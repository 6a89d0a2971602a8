#pragma once
// One training step's gradient computed as S micro-shards summed in the fixed pairwise tree
// (backprop/gradient_exchange.hpp), so that its bits do not depend on how many processes share
// the shards.
#include <chrono>
#include <cstdint>
#include <span>

#include "backprop/dataset.hpp"
#include "backprop/evaluate.hpp"
#include "backprop/gradient_exchange.hpp"
#include "backprop/network.hpp"
#include "backprop/preprocessing.hpp"
#include "train/batch_buffers.hpp"
#include "train/pairwise_tree.hpp"

namespace backprop {

// The rows [first, first + count) of a minibatch of `rows` that shard `shard` of `shards`
// takes: fixed by the minibatch's size alone.
struct ShardRows {
  std::int64_t first = 0, count = 0;
};
constexpr ShardRows shard_rows(std::int64_t rows, std::int64_t shards, std::int64_t shard) {
  const std::int64_t first = shard * rows / shards;
  return {first, (shard + 1) * rows / shards - first};
}

// Throws Error unless shards is a power of two, at most `batch`, and `ranks` processes can
// share them (a power of two, at most shards).
void check_shards(std::int64_t shards, std::int64_t batch, int ranks);

// The summed statistics of a step (over all shards of all ranks).
struct ShardedOutcome {
  double loss_sum = 0;  // sum over shards of mean shard loss * shard rows
  std::int64_t correct = 0;
  std::int64_t rows = 0;
  bool stop = false;  // some rank asked to stop
};

class ShardedStep {
 public:
  ShardedStep(const Network& net, std::int64_t shards, std::int64_t batch,
              GradientExchange& exchange);
  // The shard count per process and this process's first shard.
  std::int64_t local_shards() const { return local_; }
  std::int64_t first_shard() const { return first_; }
  // Forward and backward passes over this rank's shards of the minibatch of samples `rows` of
  // `data` (the whole global minibatch's indices; only this rank's are gathered), each
  // shard's mean gradient scaled by its share of the minibatch, summed in the tree and
  // combined across ranks: net.gradients() then holds the mean gradient of the minibatch on
  // every rank. Shard s's dropout masks come from hash_key(dropout_key, s).
  ShardedOutcome run(Network& net, const Dataset& data, const Preprocessing& prep,
                     std::span<const std::int64_t> rows, std::uint64_t dropout_key,
                     ThreadPool& pool, bool stop);
  // Seconds spent in GradientExchange::combine so far.
  double exchange_seconds() const { return exchange_seconds_; }

 private:
  std::int64_t shards_, local_, first_;
  GradientExchange& exchange_;
  BatchBuffers buffers_;
  PairwiseAccumulator<float> grads_;
  PairwiseAccumulator<double> stats_;
  double exchange_seconds_ = 0;
};

}  // namespace backprop
