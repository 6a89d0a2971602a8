// Per-layer statistics: recording them changes no trained bit, the gradient norm read from a
// fused SGD update agrees with the stored gradient of the unfused path, and dead, saturated and
// activation statistics are those of the probe samples.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <numeric>

#include "backprop/layer_stats.hpp"
#include "backprop/rng.hpp"
#include "backprop/trainer.hpp"

namespace backprop {
namespace {

Dataset gaussian(std::int64_t rows, std::int64_t features, std::int32_t classes,
                 std::uint64_t seed) {
  Rng rng(seed);
  Dataset d;
  d.rows = rows;
  d.features = features;
  for (std::int32_t c = 0; c < classes; ++c) d.class_names.push_back(std::to_string(c));
  for (std::int64_t i = 0; i < rows; ++i) {
    const auto label = static_cast<std::int32_t>(i % classes);
    for (std::int64_t j = 0; j < features; ++j)
      d.values.push_back(
          static_cast<float>((j % classes == label ? 1.0 : 0.0) + rng.uniform() - 0.5));
    d.labels.push_back(label);
  }
  d.source = "generated";
  return d;
}

std::vector<std::int64_t> all_rows(const Dataset& d) {
  std::vector<std::int64_t> rows(static_cast<std::size_t>(d.rows));
  std::iota(rows.begin(), rows.end(), 0);
  return rows;
}

struct Trained {
  std::vector<float> parameters;
  std::vector<EpochMetrics> history;
};

Trained train(const Architecture& arch, const TrainOptions& options, const Dataset& data,
              int threads = 2) {
  Network net(arch, options.batch);
  net.initialize(7);
  const Preprocessing prep = Preprocessing::identity(data.features);
  ThreadPool pool(threads);
  Trainer trainer(net, prep, options, data, all_rows(data), pool);
  trainer.run();
  return {{net.parameters().begin(), net.parameters().end()}, trainer.state().history};
}

TEST(LayerStats, RecordingThemChangesNoTrainedBit) {
  const Dataset data = gaussian(600, 32, 4, 1);
  const Architecture two{{32, 24, 4}, {Activation::sigmoid}, Loss::cross_entropy};
  const Architecture three{
      {32, 24, 16, 4}, {Activation::relu, Activation::tanh}, Loss::cross_entropy};
  for (const auto kind : {OptimizerKind::sgd, OptimizerKind::momentum, OptimizerKind::adam})
    for (const Architecture* arch : {&two, &three}) {
      SCOPED_TRACE(to_string(kind) + " " + arch->describe());
      TrainOptions o;
      o.epochs = 3;
      o.batch = 32;
      o.optimizer.kind = kind;
      o.schedule.base_lr = kind == OptimizerKind::adam ? 1e-3f : 0.1f;
      o.layer_stats = false;
      const Trained off = train(*arch, o, data);
      o.layer_stats = true;
      const Trained on = train(*arch, o, data);
      ASSERT_EQ(on.parameters.size(), off.parameters.size());
      EXPECT_EQ(0, std::memcmp(on.parameters.data(), off.parameters.data(),
                               on.parameters.size() * sizeof(float)));
      for (std::size_t e = 0; e < on.history.size(); ++e) {
        EXPECT_EQ(on.history[e].train_loss, off.history[e].train_loss);
        EXPECT_TRUE(off.history[e].layers.empty());
        ASSERT_EQ(on.history[e].layers.size(), static_cast<std::size_t>(arch->num_layers()));
        for (const auto& s : on.history[e].layers) {
          EXPECT_GT(s.weight_norm, 0);
          EXPECT_GT(s.grad_norm, 0);
          EXPECT_GT(s.update_ratio, 0);
        }
      }
    }
}

// Momentum with mu = 0 takes the plain SGD step through the unfused path (gradients stored);
// plain SGD fuses it (dW read back from W_after - W_before = -lr dW). Same sampled step, so
// the same norm up to the rounding of the update.
TEST(LayerStats, TheGradientNormFromTheFusedUpdateMatchesTheStoredGradient) {
  const Dataset data = gaussian(600, 32, 4, 2);
  const Architecture arch{
      {32, 24, 16, 4}, {Activation::sigmoid, Activation::sigmoid}, Loss::cross_entropy};
  TrainOptions o;
  o.epochs = 1;
  o.batch = 32;
  o.schedule.base_lr = 0.1f;
  const Trained fused = train(arch, o, data);
  o.optimizer.kind = OptimizerKind::momentum;
  o.optimizer.momentum = 0.0f;
  const Trained stored = train(arch, o, data);
  for (std::size_t l = 0; l < 3; ++l) {
    const LayerStats& a = fused.history[0].layers[l];
    const LayerStats& b = stored.history[0].layers[l];
    EXPECT_NEAR(a.grad_norm, b.grad_norm, 1e-3 * b.grad_norm) << "layer " << l + 1;
    EXPECT_NEAR(a.update_ratio, b.update_ratio, 1e-3 * b.update_ratio) << "layer " << l + 1;
    EXPECT_NEAR(a.update_ratio, 0.1 * a.grad_norm / a.weight_norm, 1e-3 * a.update_ratio);
  }
}

TEST(LayerStats, DeadSaturatedAndActivationStatisticsAreThoseOfTheProbe) {
  const Architecture arch{
      {2, 4, 3, 2}, {Activation::relu, Activation::sigmoid}, Loss::cross_entropy};
  Dataset data;
  data.rows = 3;
  data.features = 2;
  data.values = {1, 0, 0, 1, 1, 1};
  data.labels = {0, 1, 0};
  data.class_names = {"a", "b"};
  Network net(arch, 4);
  // Layer 1: unit j gets x0 * w0j + x1 * w1j + bj; units 0, 1 live, 2, 3 dead (negative bias).
  auto w1 = net.weight(0);
  for (std::int64_t j = 0; j < 4; ++j) {
    w1(0, j) = 1.0f;
    w1(1, j) = 1.0f;
  }
  const float b1[] = {0.0f, -0.5f, -5.0f, -3.0f};
  std::copy(std::begin(b1), std::end(b1), net.bias(0).begin());
  // Layer 2: unit 0 saturated (z = 100 h0 + 10 > 6 always), units 1, 2 not (z = 0).
  auto w2 = net.weight(1);
  for (std::int64_t i = 0; i < 4; ++i) w2(i, 0) = 100.0f;
  net.bias(1)[0] = 10.0f;
  ThreadPool pool(1);
  const std::vector<std::int64_t> rows{0, 1, 2};
  LayerStatsRecorder recorder(arch, data, Preprocessing::identity(2), rows,
                              net.parameters().size());
  const auto stats = recorder.finish_epoch(net, pool);
  ASSERT_EQ(stats.size(), 3u);
  EXPECT_EQ(stats[0].layer, 1);
  EXPECT_DOUBLE_EQ(stats[0].dead_fraction, 0.5);
  EXPECT_TRUE(std::isnan(stats[0].saturated_fraction));
  // h = relu(x0 + x1 + b): rows give sums 1, 1, 2 -> unit 0: 1,1,2; unit 1: .5,.5,1.5; others 0.
  const double h[] = {1, 0.5, 0, 0, 1, 0.5, 0, 0, 2, 1.5, 0, 0};
  double mean = 0, sq = 0;
  for (const double v : h) {
    mean += v / 12;
    sq += v * v / 12;
  }
  EXPECT_NEAR(stats[0].activation_mean, mean, 1e-6);
  EXPECT_NEAR(stats[0].activation_std, std::sqrt(sq - mean * mean), 1e-6);
  EXPECT_NEAR(stats[1].saturated_fraction, 1.0 / 3.0, 1e-12);
  EXPECT_TRUE(std::isnan(stats[1].dead_fraction));
  EXPECT_TRUE(std::isnan(stats[2].activation_mean));  // the output layer
  // No sampled step: no gradient statistics, but the weight norm.
  EXPECT_TRUE(std::isnan(stats[0].grad_norm));
  EXPECT_NEAR(stats[0].weight_norm, std::sqrt(8.0), 1e-12);
}

TEST(LayerStats, TheyRoundTripThroughTheMetricsJson) {
  EpochMetrics m;
  m.epoch = 3;
  m.train_loss = 0.5;
  m.val_loss = m.val_accuracy = m.test_loss = m.test_accuracy = std::nan("");
  LayerStats s;
  s.layer = 1;
  s.weight_norm = 2.5;
  s.grad_norm = 0.125;
  s.update_ratio = 0.01;
  s.dead_fraction = 0.25;
  s.activation_mean = 0.5;
  s.activation_std = 0.75;
  m.layers = {s};
  const std::string text = to_json(m);
  EXPECT_NE(text.find("\"layers\":[{\"layer\":1,\"weight_norm\":2.5,\"grad_norm\":0.125"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\"saturated_fraction\":null"), std::string::npos) << text;
  const EpochMetrics back = epoch_metrics_from_json(text);
  ASSERT_EQ(back.layers.size(), 1u);
  EXPECT_EQ(back.layers[0].dead_fraction, 0.25);
  EXPECT_TRUE(std::isnan(back.layers[0].saturated_fraction));
  EXPECT_EQ(back.layers[0].activation_std, 0.75);
  // Without statistics the line has no "layers" key, as before.
  m.layers.clear();
  EXPECT_EQ(to_json(m).find("layers"), std::string::npos);
}

}  // namespace
}  // namespace backprop
