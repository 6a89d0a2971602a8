// Health checks: each warning and each stop fires where it should, on small generated data, and
// none fires on a healthy run.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <numeric>

#include "backprop/health.hpp"
#include "backprop/rng.hpp"
#include "backprop/trainer.hpp"

namespace backprop {
namespace {

// Two Gaussian blobs per class in `features` dimensions, or random labels.
Dataset blobs(std::int64_t rows, std::int64_t features, std::int32_t classes, std::uint64_t seed,
              bool random_labels = false, float scale = 1.0f) {
  Rng rng(seed);
  Dataset d;
  d.rows = rows;
  d.features = features;
  for (std::int32_t c = 0; c < classes; ++c) d.class_names.push_back(std::to_string(c));
  for (std::int64_t i = 0; i < rows; ++i) {
    const auto label = static_cast<std::int32_t>(i % classes);
    for (std::int64_t j = 0; j < features; ++j) {
      const double centre = (j % classes == label) ? 1.5 : -0.5;
      const double noise = rng.uniform() - 0.5;
      d.values.push_back(scale * static_cast<float>(random_labels ? 2 * noise : centre + noise));
    }
    d.labels.push_back(random_labels ? static_cast<std::int32_t>(rng.uniform() * classes) : label);
  }
  d.source = "generated";
  return d;
}

std::vector<std::int64_t> all_rows(const Dataset& d) {
  std::vector<std::int64_t> rows(static_cast<std::size_t>(d.rows));
  std::iota(rows.begin(), rows.end(), 0);
  return rows;
}

struct Outcome {
  std::vector<HealthFinding> findings;
  bool diverged = false;
  std::string error;
  std::vector<EpochMetrics> history;
};

// Trains `net` (already initialised) and collects what the health checks said.
Outcome train(Network& net, const Dataset& data, TrainOptions options) {
  const Preprocessing prep = Preprocessing::identity(data.features);
  ThreadPool pool(1);
  Trainer trainer(net, prep, options, data, all_rows(data), pool);
  Outcome run;
  trainer.on_health = [&](const HealthFinding& f) { run.findings.push_back(f); };
  try {
    trainer.run();
  } catch (const DivergenceError& e) {
    run.diverged = true;
    run.error = e.what();
  }
  run.history = trainer.state().history;
  return run;
}

std::vector<std::string> checks(const Outcome& r) {
  std::vector<std::string> out;
  for (const auto& f : r.findings) out.push_back(f.check + "@" + std::to_string(f.layer));
  return out;
}

TrainOptions options(float lr, std::int64_t epochs, OptimizerKind kind = OptimizerKind::sgd) {
  TrainOptions o;
  o.epochs = epochs;
  o.batch = 16;
  o.optimizer.kind = kind;
  o.schedule.base_lr = lr;
  return o;
}

TEST(Health, AHealthyRunGivesNoFinding) {
  const Dataset data = blobs(800, 8, 4, 1);
  for (const Activation f : {Activation::sigmoid, Activation::relu, Activation::tanh}) {
    SCOPED_TRACE(to_string(f));
    Network net(Architecture{{8, 16, 16, 4}, {f, f}, Loss::cross_entropy}, 16);
    net.initialize(3);
    const Outcome r = train(net, data, options(0.1f, 8));
    EXPECT_FALSE(r.diverged) << r.error;
    EXPECT_TRUE(r.findings.empty()) << ::testing::PrintToString(checks(r));
    EXPECT_GT(r.history.back().train_accuracy, 0.9);
  }
}

// Sigmoid units bound the hidden layer, so a huge step takes the logits (and the loss) to
// large finite values, not to infinity.
TEST(Health, AFiniteExplodingLossStopsTheRunAndKeepsTheEpochStartWeights) {
  const Dataset data = blobs(800, 8, 4, 2);
  Network net(Architecture{{8, 16, 4}, {Activation::sigmoid}, Loss::cross_entropy}, 16);
  net.initialize(5);
  const std::vector<float> initial(net.parameters().begin(), net.parameters().end());
  const Outcome r = train(net, data, options(1e4f, 3));
  ASSERT_TRUE(r.diverged);
  EXPECT_NE(r.error.find("the loss exploded while staying finite"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("epoch 1, step"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("learning rate"), std::string::npos) << r.error;
  EXPECT_EQ(0,
            std::memcmp(net.parameters().data(), initial.data(), initial.size() * sizeof(float)));
  // The same run with a sane step does not stop.
  Network ok(Architecture{{8, 16, 4}, {Activation::sigmoid}, Loss::cross_entropy}, 16);
  ok.initialize(5);
  EXPECT_FALSE(train(ok, data, options(0.5f, 3)).diverged);
}

TEST(Health, TheExplosionStopCanBeTurnedOff) {
  const Dataset data = blobs(800, 8, 4, 2);
  Network net(Architecture{{8, 16, 4}, {Activation::sigmoid}, Loss::cross_entropy}, 16);
  net.initialize(5);
  TrainOptions o = options(1e4f, 1);
  o.stop_on_explosion = false;
  o.layer_stats = false;
  const Outcome r = train(net, data, o);
  EXPECT_FALSE(r.diverged) << r.error;
  EXPECT_GT(r.history.back().train_loss, 100.0);  // what the guard stops
}

TEST(Health, ALayerWhoseUnitsAreAllDeadStopsTheRun) {
  const Dataset data = blobs(400, 8, 4, 3);
  Network net(Architecture{{8, 16, 4}, {Activation::relu}, Loss::cross_entropy}, 16);
  net.initialize(1);
  for (float& b : net.bias(0)) b = -100.0f;  // no input reaches z > 0
  const Outcome r = train(net, data, options(0.1f, 3));
  ASSERT_TRUE(r.diverged);
  EXPECT_NE(r.error.find("epoch 1: every unit of layer 1 (8 -> 16, relu) is dead"),
            std::string::npos)
      << r.error;
  EXPECT_NE(r.error.find("leaky_relu"), std::string::npos) << r.error;
  ASSERT_EQ(r.history.size(), 1u);
  EXPECT_EQ(r.history[0].layers[0].dead_fraction, 1.0);
}

TEST(Health, HalfTheUnitsDeadIsAWarningOnce) {
  const Dataset data = blobs(400, 8, 4, 3);
  Network net(Architecture{{8, 16, 4}, {Activation::relu}, Loss::cross_entropy}, 16);
  net.initialize(1);
  auto b = net.bias(0);
  for (std::size_t j = 0; j < 12; ++j) b[j] = -100.0f;  // 12 of 16 units dead for good
  const Outcome r = train(net, data, options(0.1f, 3));
  EXPECT_FALSE(r.diverged) << r.error;
  const auto c = checks(r);
  ASSERT_EQ(std::count(c.begin(), c.end(), "dead_units@1"), 1) << ::testing::PrintToString(c);
  const auto& f = r.findings.front();
  EXPECT_EQ(f.epoch, 1);
  EXPECT_NE(f.message.find("epoch 1, layer 1 (8 -> 16, relu): 75% of the units are dead"),
            std::string::npos)
      << f.message;
}

TEST(Health, SaturatedSigmoidUnitsAreAWarning) {
  const Dataset data = blobs(400, 8, 4, 4, false, 200.0f);  // unscaled inputs
  Network net(Architecture{{8, 16, 4}, {Activation::sigmoid}, Loss::cross_entropy}, 16);
  net.initialize(1);
  const Outcome r = train(net, data, options(0.01f, 2));
  const auto c = checks(r);
  EXPECT_NE(std::find(c.begin(), c.end(), "saturated_units@1"), c.end())
      << ::testing::PrintToString(c) << " " << r.history.back().layers[0].saturated_fraction;
  for (const auto& f : r.findings)
    if (f.check == "saturated_units") {
      EXPECT_NE(f.message.find("--normalize standard"), std::string::npos) << f.message;
    }
}

TEST(Health, VanishingGradientsInAnEarlyLayerAreAWarning) {
  const Dataset data = blobs(400, 8, 4, 5);
  // Ten sigmoid layers: each passes back at most a quarter of the gradient (sigma' <= 1/4).
  Architecture arch{{8}, {}, Loss::cross_entropy};
  for (int l = 0; l < 10; ++l) {
    arch.widths.push_back(16);
    arch.activations.push_back(Activation::sigmoid);
  }
  arch.widths.push_back(4);
  Network net(arch, 16);
  net.initialize(1);
  const Outcome r = train(net, data, options(0.1f, 1));
  const auto c = checks(r);
  std::string norms;
  for (const auto& s : r.history.back().layers) norms += fmt::format(" {:.3g}", s.grad_norm);
  EXPECT_NE(std::find(c.begin(), c.end(), "vanishing_gradients@1"), c.end())
      << ::testing::PrintToString(c) << norms;
  // The layers next to the output still learn.
  EXPECT_EQ(std::find(c.begin(), c.end(), "vanishing_gradients@10"), c.end())
      << ::testing::PrintToString(c) << norms;
}

TEST(Health, ALossThatDoesNotImproveIsAWarning) {
  const Dataset data = blobs(400, 8, 4, 6);
  Network net(Architecture{{8, 16, 4}, {Activation::sigmoid}, Loss::cross_entropy}, 16);
  net.initialize(1);
  const Outcome r = train(net, data, options(1e-9f, 4));
  const auto c = checks(r);
  ASSERT_NE(std::find(c.begin(), c.end(), "loss_not_improving@0"), c.end())
      << ::testing::PrintToString(c);
  for (const auto& f : r.findings)
    if (f.check == "loss_not_improving") {
      EXPECT_EQ(f.epoch, 1 + HealthMonitor::kStaleEpochs);
    }
}

TEST(Health, ChanceAccuracyWhileTheLossStallsIsAWarning) {
  const Dataset data = blobs(2000, 8, 4, 7, true);  // labels independent of the features
  Network net(Architecture{{8, 16, 4}, {Activation::tanh}, Loss::cross_entropy}, 16);
  net.initialize(1);
  const Outcome r = train(net, data, options(0.05f, 8));  // the loss soon stops falling
  const auto c = checks(r);
  EXPECT_NE(std::find(c.begin(), c.end(), "chance_accuracy@0"), c.end())
      << ::testing::PrintToString(c);
}

// The monitor alone, on hand-made epochs.
EpochMetrics epoch(std::int64_t e, double loss, double acc, std::vector<LayerStats> layers = {}) {
  EpochMetrics m;
  m.epoch = e;
  m.train_loss = loss;
  m.train_accuracy = acc;
  m.val_loss = m.val_accuracy = m.test_loss = m.test_accuracy = std::nan("");
  m.layers = std::move(layers);
  return m;
}

TEST(Health, TheMonitorWarnsOncePerLayerAndCheck) {
  const Architecture arch{{4, 8, 8, 2}, {Activation::relu, Activation::relu}, Loss::cross_entropy};
  HealthMonitor monitor(arch, Task::classification, Baseline{0.69, 0.5, 1000});
  LayerStats dead;
  dead.layer = 2;
  dead.dead_fraction = 0.75;
  LayerStats fine;
  fine.layer = 1;
  fine.dead_fraction = 0.0;
  auto first = monitor.check_epoch(epoch(1, 0.5, 0.8, {fine, dead}));
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].check, "dead_units");
  EXPECT_EQ(first[0].layer, 2);
  EXPECT_FALSE(first[0].stop);
  EXPECT_TRUE(monitor.check_epoch(epoch(2, 0.4, 0.85, {fine, dead})).empty());
  // Accuracy within 3 standard deviations of 0.5 over 1000 samples (0.047) is chance. It is a
  // finding after two epochs in a row at chance whose loss fell by less than 1%: not while the
  // loss falls fast (epoch 3), not across an epoch above chance (4).
  EXPECT_TRUE(monitor.check_epoch(epoch(3, 0.3, 0.54, {fine})).empty());
  EXPECT_TRUE(monitor.check_epoch(epoch(4, 0.299, 0.55, {fine})).empty());
  EXPECT_TRUE(monitor.check_epoch(epoch(5, 0.298, 0.54, {fine})).empty());
  const auto chance = monitor.check_epoch(epoch(6, 0.297, 0.53, {fine}));
  ASSERT_EQ(chance.size(), 1u);
  EXPECT_EQ(chance[0].check, "chance_accuracy");
}

TEST(Health, TheExplosionGuardWatchesARunningMean) {
  LossExplosionGuard guard(2.3);
  EXPECT_FALSE(guard.observe(2.0, 64));  // the start
  EXPECT_DOUBLE_EQ(guard.limit(), 230.0);
  // One sample far off (an overconfident mistake at batch 1) is not an explosion.
  EXPECT_FALSE(guard.observe(40.0, 1));
  EXPECT_FALSE(guard.observe(200.0, 64));  // running mean 2 + 0.2 (200 - 2) < 230
  EXPECT_TRUE(guard.observe(1e6, 64));
}

TEST(Health, TheBaselineIsTheEntropyOfTheClassFrequencies) {
  Dataset d;
  d.rows = 4;
  d.features = 1;
  d.values = {0, 0, 0, 0};
  d.labels = {0, 0, 0, 1};
  d.class_names = {"a", "b"};
  const std::vector<std::int64_t> rows{0, 1, 2, 3};
  const Baseline b = baseline_of(d, Preprocessing::identity(1), rows);
  EXPECT_NEAR(b.loss, -(0.75 * std::log(0.75) + 0.25 * std::log(0.25)), 1e-12);
  EXPECT_DOUBLE_EQ(b.accuracy, 0.75);
  EXPECT_EQ(b.samples, 4);
}

}  // namespace
}  // namespace backprop
