// MinibatchPipeline: each minibatch, whether gathered ahead in parts beside the previous step or
// when its step begins, equals a plain gather of its rows; errors of a part gathered ahead are
// reported by the take() of its step, as a plain gather would report them.
#include "train/minibatch_pipeline.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <numeric>
#include <utility>
#include <vector>

#include "backprop/rng.hpp"
#include "test_support.hpp"

namespace backprop {
namespace {

using testing_support::error_of;

Dataset byte_data(std::int64_t rows, std::int64_t features, std::int32_t classes) {
  Dataset d;
  d.rows = rows;
  d.features = features;
  d.source = "bytes.idx";
  Rng rng(9);
  for (std::int64_t i = 0; i < rows * features; ++i)
    d.bytes.push_back(static_cast<std::uint8_t>(rng.uniform() * 256.0));
  for (std::int64_t i = 0; i < rows; ++i)
    d.labels.push_back(static_cast<std::int32_t>(i % classes));
  for (std::int32_t c = 0; c < classes; ++c) d.class_names.push_back(std::to_string(c));
  return d;
}

Dataset value_data(std::int64_t rows, std::int64_t features) {
  Dataset d;
  d.rows = rows;
  d.features = features;
  d.task = Task::regression;
  d.source = "values.csv";
  Rng rng(4);
  for (std::int64_t i = 0; i < rows * features; ++i)
    d.values.push_back(static_cast<float>(rng.uniform() * 10.0 - 5.0));
  for (std::int64_t i = 0; i < rows; ++i) d.targets.push_back(static_cast<float>(i) * 0.5f);
  return d;
}

std::vector<std::int64_t> shuffled(std::int64_t n, std::uint64_t seed) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  Rng rng(seed);
  shuffle(order, rng);
  return order;
}

// Compares a minibatch with a plain gather of the same rows, bit for bit.
void expect_same(const MinibatchPipeline::Minibatch& taken, const Dataset& data,
                 const Preprocessing& prep, std::span<const std::int64_t> rows) {
  const Batch<float>& got = taken.batch;
  const View<const float> x_right = taken.x_right;
  BatchBuffers plain(static_cast<std::int64_t>(rows.size()), data.features, 1);
  const Batch<float> want = plain.gather(data, prep, rows);
  ASSERT_EQ(got.x.rows, want.x.rows);
  // X in one piece, or in two column panels (the input halves of src/nn/fast/).
  const std::int64_t left = got.x.cols;
  const std::int64_t right = x_right.data != nullptr ? x_right.cols : 0;
  ASSERT_EQ(left + right, want.x.cols);
  if (right > 0) {
    ASSERT_EQ(x_right.rows, want.x.rows);
  }
  for (std::int64_t i = 0; i < want.x.rows; ++i) {
    ASSERT_EQ(0, std::memcmp(got.x.row(i), want.x.row(i), static_cast<std::size_t>(left) * 4))
        << "row " << i;
    if (right > 0) {
      ASSERT_EQ(
          0, std::memcmp(x_right.row(i), want.x.row(i) + left, static_cast<std::size_t>(right) * 4))
          << "row " << i << " (second panel)";
    }
  }
  ASSERT_TRUE(
      std::equal(got.labels.begin(), got.labels.end(), want.labels.begin(), want.labels.end()));
  ASSERT_EQ(got.targets.rows, want.targets.rows);
  for (std::int64_t i = 0; i < want.targets.rows; ++i)
    ASSERT_EQ(got.targets(i, 0), want.targets(i, 0));
}

// An epoch as the trainer runs it: take(s), then step s's beside work on the pool (here with
// nothing else to do), on every step or, with `ahead_every` > 1, on some of them only.
void run_epoch(MinibatchPipeline& pipeline, const Dataset& data, const Preprocessing& prep,
               std::span<const std::int64_t> order, std::int64_t batch, ThreadPool& pool,
               int ahead_every) {
  pipeline.start(data, prep, order, batch);
  const std::int64_t steps = pipeline.steps();
  ASSERT_EQ(steps, (static_cast<std::int64_t>(order.size()) + batch - 1) / batch);
  for (std::int64_t s = 0; s < steps; ++s) {
    SCOPED_TRACE(testing::Message() << "step " << s);
    const MinibatchPipeline::Minibatch got = pipeline.take(s, pool);
    const auto first = static_cast<std::size_t>(s * batch);
    const std::size_t count =
        std::min<std::size_t>(static_cast<std::size_t>(batch), order.size() - first);
    expect_same(got, data, prep, order.subspan(first, count));
    if (s % ahead_every != 0) continue;
    const auto part = [&](std::int64_t i) { pipeline.gather_ahead(s, i); };
    const TaskRef task(part);
    const BesideWork work = pipeline.ahead(s, task);
    if (s + 1 == steps) {
      EXPECT_EQ(work.count, 0);
      continue;
    }
    const std::int64_t next_rows =
        std::min<std::int64_t>(batch, static_cast<std::int64_t>(order.size()) - (s + 1) * batch);
    EXPECT_EQ(work.count, got.x_right.data != nullptr
                              ? 2  // one part per panel
                              : (next_rows + MinibatchPipeline::kRowsPerPart - 1) /
                                    MinibatchPipeline::kRowsPerPart);
    pool.run(work.count, *work.task);
    // The minibatch still being trained on is untouched by the gather of the next one.
    expect_same(got, data, prep, order.subspan(first, count));
  }
}

// Step s's beside work, run on the pool at once.
void gather_ahead_now(MinibatchPipeline& pipeline, std::int64_t step, ThreadPool& pool) {
  const auto part = [&](std::int64_t i) { pipeline.gather_ahead(step, i); };
  const TaskRef task(part);
  const BesideWork work = pipeline.ahead(step, task);
  pool.run(work.count, *work.task);
}

// Epochs of a byte and a value data set (103 rows, `features` each) on pools of 1-3 threads,
// with the beside work run after every step or every other one; a panel column > 0: X in two column
// panels from there on.
void expect_epochs_equal_plain_gathers(std::int64_t byte_features, std::int64_t value_features,
                                       std::int64_t byte_panels, std::int64_t value_panels,
                                       std::initializer_list<std::int64_t> batches) {
  const Dataset bytes = byte_data(103, byte_features, 10);
  const Dataset values = value_data(103, value_features);
  const auto training_rows = shuffled(103, 1);
  Preprocessing scaled = Preprocessing::fit(Normalization::standard, values, training_rows);
  scaled.fit_targets(values, training_rows);
  const auto order = shuffled(103, 2);
  for (const int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    for (const std::int64_t batch : batches) {
      for (const int ahead_every : {1, 2}) {
        SCOPED_TRACE(testing::Message() << "threads " << threads << " batch " << batch
                                        << " ahead every " << ahead_every);
        MinibatchPipeline a(batch, bytes.features, 10, byte_panels);
        run_epoch(a, bytes, Preprocessing::fit(Normalization::unit_range, bytes, order), order,
                  batch, pool, ahead_every);
        MinibatchPipeline b(batch, values.features, 1, value_panels);
        run_epoch(b, values, scaled, order, batch, pool, ahead_every);
      }
    }
  }
}

TEST(MinibatchPipeline, EveryMinibatchEqualsAPlainGather) {
  // 29 rows: three full parts and a partial one; the last minibatch is 16 rows.
  expect_epochs_equal_plain_gathers(37, 5, 0, 0, {29, 8, 1});
}

// X in two page-aligned column panels (as the input halves of src/nn/fast/ take it), gathered
// ahead one panel a task, each minibatch still the plain gather's.
TEST(MinibatchPipeline, ColumnPanelsEqualAPlainGather) {
  expect_epochs_equal_plain_gathers(600, 520, 304, 272, {29, 1});
  const Dataset bytes = byte_data(103, 600, 10);
  const auto order = shuffled(103, 2);
  // Each panel starts a page, and the first ends before the second begins.
  ThreadPool pool(1);
  MinibatchPipeline pipeline(29, bytes.features, 10, 304);
  const Preprocessing identity = Preprocessing::identity(bytes.features);  // outlives the epoch
  pipeline.start(bytes, identity, order, 29);
  const auto [batch, x_right] = pipeline.take(0, pool);
  ASSERT_EQ(batch.x.cols, 304);
  ASSERT_EQ(x_right.cols, 296);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(batch.x.data) % 4096, 0u);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(x_right.data) % 4096, 0u);
  EXPECT_LE(batch.x.row(28) + 304, x_right.data);
}

TEST(MinibatchPipeline, StartForgetsTheMinibatchGatheredAhead) {
  const Dataset data = byte_data(40, 9, 3);
  const Preprocessing prep = Preprocessing::identity(data.features);
  ThreadPool pool(2);
  MinibatchPipeline pipeline(10, data.features, 3);
  const auto first = shuffled(40, 5);
  pipeline.start(data, prep, first, 10);
  pipeline.take(0, pool);
  gather_ahead_now(pipeline, 0, pool);
  // A new epoch (another order) before step 1: its minibatch 1 comes from the new order.
  const auto second = shuffled(40, 6);
  pipeline.start(data, prep, second, 10);
  expect_same(pipeline.take(1, pool), data, prep, std::span(second).subspan(10, 10));
}

// In row parts (4 features) and in column panels (600, the second from column 304).
TEST(MinibatchPipeline, ARowOutOfRangeIsReportedByTheTakeOfItsStep) {
  for (const auto& [features, column] : {std::pair<std::int64_t, std::int64_t>{4, 0}, {600, 304}}) {
    SCOPED_TRACE(testing::Message() << features << " features, panel column " << column);
    const Dataset data = byte_data(30, features, 2);
    const Preprocessing prep = Preprocessing::identity(data.features);
    ThreadPool pool(2);
    MinibatchPipeline pipeline(10, data.features, 2, column);
    auto order = shuffled(30, 3);
    order[13] = 30;  // in minibatch 1
    pipeline.start(data, prep, order, 10);
    pipeline.take(0, pool);
    gather_ahead_now(pipeline, 0, pool);  // the failing parts throw nothing here
    const std::string message = error_of([&] { pipeline.take(1, pool); });
    EXPECT_NE(message.find("bytes.idx"), std::string::npos) << message;
    EXPECT_NE(message.find("row 30 is outside the data set's 30 rows"), std::string::npos)
        << message;
  }
}

TEST(MinibatchPipeline, RefusesStepsOutsideTheEpochAndBatchesLargerThanItsBuffers) {
  const Dataset data = byte_data(30, 4, 2);
  const Preprocessing prep = Preprocessing::identity(data.features);
  ThreadPool pool(1);
  MinibatchPipeline pipeline(10, data.features, 2);
  const auto order = shuffled(30, 3);
  EXPECT_NE(error_of([&] { pipeline.take(0, pool); }).find("minibatch 0"), std::string::npos);
  pipeline.start(data, prep, order, 10);
  EXPECT_NE(error_of([&] { pipeline.take(3, pool); }).find("minibatch 3 of an epoch of 3"),
            std::string::npos);
  EXPECT_NE(error_of([&] { pipeline.start(data, prep, order, 0); }).find("at least 1"),
            std::string::npos);
  pipeline.start(data, prep, order, 11);
  EXPECT_NE(error_of([&] { pipeline.take(0, pool); }).find("11 rows does not fit buffers for 10"),
            std::string::npos);
}

}  // namespace
}  // namespace backprop
