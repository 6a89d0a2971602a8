// The sharded step (backprop/gradient_exchange.hpp): the fixed pairwise tree, its split into
// per-process subtrees and a top, the shards' rows, and the gradient it yields against the
// whole minibatch's and against finite differences.
#include "train/sharded_step.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <vector>

#include "backprop/rng.hpp"
#include "test_support.hpp"
#include "train/pairwise_tree.hpp"

namespace backprop {
namespace {

using testing_support::error_of;

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// The tree written out by hand for eight leaves.
float tree_of_eight(const std::vector<float>& v) {
  return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
}

TEST(PairwiseTree, AddsInTheFixedTree) {
  // Values whose sum depends on the order of addition.
  const std::vector<float> leaves = {1e8f, 1.0f, -1e8f, 1.0f, 3.0f, 0.5f, 1e-3f, -2.5f};
  float left_to_right = 0;
  for (float v : leaves) left_to_right += v;
  ASSERT_FALSE(same_bits(left_to_right, tree_of_eight(leaves)));  // the order is visible

  std::vector<float> blocks = leaves;
  pairwise_sum_blocks(blocks.data(), 8, 1, 1);
  EXPECT_TRUE(same_bits(blocks[0], tree_of_eight(leaves)));

  PairwiseAccumulator<float> acc(1);
  for (float v : leaves) {
    acc.leaf()[0] = v;
    acc.add_leaf();
  }
  EXPECT_TRUE(same_bits(acc.result()[0], tree_of_eight(leaves)));
}

// Rank r of N sums its S/N leaves (the bottom levels) and the N block sums are added in the
// top levels: the bits of the whole tree for every N, which is what the MPI exchange relies on.
TEST(PairwiseTree, SplitIntoSubtreesGivesTheSameBits) {
  constexpr std::int64_t kShards = 16, kLength = 37;
  Rng rng(3);
  std::vector<std::vector<float>> leaves(kShards, std::vector<float>(kLength));
  for (auto& leaf : leaves)
    for (float& v : leaf)
      v = static_cast<float>((rng.uniform() - 0.5) * std::exp2(rng.uniform() * 40 - 20));
  PairwiseAccumulator<float> whole(kLength);
  for (const auto& leaf : leaves) {
    std::copy(leaf.begin(), leaf.end(), whole.leaf().begin());
    whole.add_leaf();
  }
  const std::span<float> expected = whole.result();
  for (std::int64_t ranks : {1, 2, 4, 8, 16}) {
    const std::int64_t per_rank = kShards / ranks;
    std::vector<float> blocks(static_cast<std::size_t>(ranks * kLength));
    for (std::int64_t r = 0; r < ranks; ++r) {
      PairwiseAccumulator<float> acc(kLength);
      for (std::int64_t s = r * per_rank; s < (r + 1) * per_rank; ++s) {
        const auto& leaf = leaves[static_cast<std::size_t>(s)];
        std::copy(leaf.begin(), leaf.end(), acc.leaf().begin());
        acc.add_leaf();
      }
      const std::span<float> block = acc.result();
      std::copy(block.begin(), block.end(), blocks.begin() + r * kLength);
    }
    pairwise_sum_blocks(blocks.data(), ranks, kLength, kLength);
    for (std::int64_t j = 0; j < kLength; ++j)
      ASSERT_TRUE(
          same_bits(blocks[static_cast<std::size_t>(j)], expected[static_cast<std::size_t>(j)]))
          << ranks << " ranks, element " << j;
  }
}

TEST(ShardRows, EveryRowOnceInOrder) {
  for (std::int64_t rows = 1; rows <= 70; ++rows)
    for (std::int64_t shards : {1, 2, 4, 8, 16}) {
      std::int64_t next = 0;
      for (std::int64_t s = 0; s < shards; ++s) {
        const ShardRows part = shard_rows(rows, shards, s);
        EXPECT_EQ(part.first, next);
        EXPECT_GE(part.count, rows / shards);
        EXPECT_LE(part.count, rows / shards + 1);
        next += part.count;
      }
      EXPECT_EQ(next, rows);
    }
}

TEST(ShardedStep, RefusesLayoutsWithoutTheSameBits) {
  EXPECT_NE(error_of([] { check_shards(6, 64, 1); }).find("--shards 6 must be a power of two"),
            std::string::npos);
  EXPECT_NE(error_of([] { check_shards(16, 8, 1); }).find("larger than --batch 8"),
            std::string::npos);
  EXPECT_NE(error_of([] { check_shards(8, 64, 3); }).find("3 processes cannot share 8 shards"),
            std::string::npos);
  EXPECT_NE(error_of([] { check_shards(8, 64, 16); }).find("16 processes cannot share 8 shards"),
            std::string::npos);
  EXPECT_NO_THROW(check_shards(8, 64, 8));
}

Dataset blobs(std::int64_t rows, std::int64_t features, std::int32_t classes) {
  Dataset d;
  d.rows = rows;
  d.features = features;
  d.source = "blobs.csv";
  Rng rng(11);
  for (std::int64_t i = 0; i < rows; ++i) {
    const auto c = static_cast<std::int32_t>(i % classes);
    for (std::int64_t j = 0; j < features; ++j)
      d.values.push_back(static_cast<float>(rng.uniform() * 2.0 - 1.0 + (j % classes == c)));
    d.labels.push_back(c);
  }
  for (std::int32_t c = 0; c < classes; ++c) d.class_names.push_back(std::to_string(c));
  return d;
}

struct Fixture {
  static constexpr std::int64_t kRows = 27, kFeatures = 6, kClasses = 3;
  Architecture arch;
  Dataset data = blobs(40, kFeatures, kClasses);
  Preprocessing prep = Preprocessing::identity(kFeatures);
  std::vector<std::int64_t> rows;
  ThreadPool pool{2};
  Fixture() {
    arch.widths = {kFeatures, 5, 4, kClasses};
    arch.activations = {Activation::tanh, Activation::sigmoid};
    arch.loss = Loss::cross_entropy;
    arch.validate();
    rows.resize(kRows);
    std::iota(rows.begin(), rows.end(), 5);  // not the first rows: gathering by index is tested
  }
};

// The S shard gradients, each scaled by its share of the minibatch and summed, are the mean
// gradient of the whole minibatch (to float rounding), and the summed loss is its loss.
TEST(ShardedStep, GradientIsTheWholeMinibatchGradient) {
  Fixture f;
  Network whole(f.arch, Fixture::kRows);
  whole.initialize(5);
  BatchBuffers buffers(Fixture::kRows, Fixture::kFeatures, Fixture::kClasses);
  const Batch<float> batch = buffers.gather(f.data, f.prep, f.rows);
  const double loss = whole.forward_backward(batch, 0, f.pool);
  for (std::int64_t shards : {1, 2, 4, 8}) {
    Network net(f.arch, Fixture::kRows);
    net.initialize(5);
    LocalExchange local;
    ShardedStep step(net, shards, Fixture::kRows, local);
    const ShardedOutcome out = step.run(net, f.data, f.prep, f.rows, 0, f.pool, false);
    EXPECT_EQ(out.rows, Fixture::kRows);
    EXPECT_NEAR(out.loss_sum / static_cast<double>(out.rows), loss, 1e-6);
    const auto g = net.gradients();
    const auto w = whole.gradients();
    for (std::size_t j = 0; j < g.size(); ++j)
      ASSERT_NEAR(g[j], w[j], 2e-6 + 1e-5 * std::abs(static_cast<double>(w[j])))
          << shards << " shards, element " << j;
  }
}

// Central differences of the minibatch's loss, in double, against the gradient the shard path
// gives (float): the shard path differentiates the loss of the whole minibatch.
TEST(ShardedStep, FiniteDifferencesAgree) {
  Fixture f;
  Network net(f.arch, Fixture::kRows);
  net.initialize(8);
  LocalExchange local;
  ShardedStep step(net, 4, Fixture::kRows, local);
  step.run(net, f.data, f.prep, f.rows, 0, f.pool, false);

  BasicNetwork<double> exact(f.arch, Fixture::kRows);
  std::copy(net.parameters().begin(), net.parameters().end(), exact.parameters().begin());
  std::vector<double> x;
  std::vector<std::int32_t> labels;
  for (std::int64_t i : f.rows) {
    for (std::int64_t j = 0; j < Fixture::kFeatures; ++j)
      x.push_back(
          static_cast<double>(f.data.values[static_cast<std::size_t>(i * Fixture::kFeatures + j)]));
    labels.push_back(f.data.labels[static_cast<std::size_t>(i)]);
  }
  Batch<double> batch;
  batch.x = View<const double>(x.data(), Fixture::kRows, Fixture::kFeatures);
  batch.labels = labels;
  const auto params = exact.parameters();
  std::int64_t checked = 0;
  for (std::size_t j = 0; j < params.size(); j += 3) {
    const double saved = params[j];
    const double h = 1e-5;
    params[j] = saved + h;
    const double up = exact.loss(batch, f.pool);
    params[j] = saved - h;
    const double down = exact.loss(batch, f.pool);
    params[j] = saved;
    const double numeric = (up - down) / (2 * h);
    ASSERT_NEAR(net.gradients()[j], numeric, 1e-5 + 1e-4 * std::abs(numeric)) << "element " << j;
    checked += numeric != 0.0 ? 1 : 0;
  }
  EXPECT_GT(checked, 20);  // weights, not just padding
}

}  // namespace
}  // namespace backprop
