// Training end to end on generated data: XOR and two interleaved spirals are not linearly
// separable, so reaching the stated accuracy needs a working hidden layer and backward pass.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <numbers>
#include <numeric>
#include <utility>

#include "backprop/evaluate.hpp"
#include "backprop/rng.hpp"
#include "backprop/trainer.hpp"
#include "nn/fast/fast_path.hpp"

namespace backprop {
namespace {

Dataset make_classification(std::vector<float> values, std::vector<std::int32_t> labels,
                            std::int64_t features) {
  Dataset d;
  d.features = features;
  d.rows = static_cast<std::int64_t>(labels.size());
  d.values = std::move(values);
  d.labels = std::move(labels);
  d.class_names = {"0", "1"};
  d.source = "generated";
  return d;
}

Dataset xor_data() { return make_classification({0, 0, 0, 1, 1, 0, 1, 1}, {0, 1, 1, 0}, 2); }

// Two spirals: class k's points at angle t, radius t, rotated by k * pi.
Dataset spirals(std::int64_t per_class, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<float> values;
  std::vector<std::int32_t> labels;
  for (std::int64_t i = 0; i < per_class; ++i)
    for (int k = 0; k < 2; ++k) {
      const double t =
          0.5 + 3.0 * std::numbers::pi * static_cast<double>(i) / static_cast<double>(per_class);
      const double angle = t + k * std::numbers::pi;
      values.push_back(
          static_cast<float>(t * std::cos(angle) / 10.0 + 0.02 * (rng.uniform() - 0.5)));
      values.push_back(
          static_cast<float>(t * std::sin(angle) / 10.0 + 0.02 * (rng.uniform() - 0.5)));
      labels.push_back(k);
    }
  return make_classification(std::move(values), std::move(labels), 2);
}

std::vector<std::int64_t> all_rows(const Dataset& d) {
  std::vector<std::int64_t> rows(static_cast<std::size_t>(d.rows));
  std::iota(rows.begin(), rows.end(), 0);
  return rows;
}

double train_and_measure(const Dataset& data, Architecture arch, TrainOptions options, int threads,
                         std::vector<float>* params_out = nullptr) {
  Network net(arch, options.batch);
  net.initialize(options.seed);
  const Preprocessing prep = Preprocessing::identity(data.features);
  ThreadPool pool(threads);
  Trainer trainer(net, prep, options, data, all_rows(data), pool);
  EXPECT_EQ(trainer.run(), TrainOutcome::completed);
  if (params_out) params_out->assign(net.parameters().begin(), net.parameters().end());
  return evaluate(net, data, prep, {}, pool).accuracy;
}

TEST(Training, LearnsXor) {
  Architecture arch{{2, 8, 2}, {Activation::tanh}, Loss::cross_entropy};
  TrainOptions options;
  options.epochs = 500;
  options.batch = 4;
  options.optimizer.kind = OptimizerKind::momentum;
  options.schedule.base_lr = 0.1f;
  EXPECT_EQ(train_and_measure(xor_data(), arch, options, 1), 1.0);
}

TEST(Training, LearnsTwoSpiralsAbove95Percent) {
  const Dataset data = spirals(200, 3);
  Architecture arch{{2, 64, 64, 2}, {Activation::relu, Activation::relu}, Loss::cross_entropy};
  TrainOptions options;
  options.epochs = 300;
  options.batch = 32;
  options.optimizer.kind = OptimizerKind::adam;
  options.schedule.base_lr = 0.01f;
  EXPECT_GE(train_and_measure(data, arch, options, 2), 0.95);
}

TEST(Training, ALinearModelCannotLearnXor) {
  // The control: without a hidden layer XOR stays at or below 3 of 4, so the test above is
  // evidence of the hidden layer's gradients, not of a lucky initialisation.
  Architecture arch{{2, 2}, {}, Loss::cross_entropy};
  TrainOptions options;
  options.epochs = 500;
  options.batch = 4;
  options.schedule.base_lr = 0.5f;
  EXPECT_LE(train_and_measure(xor_data(), arch, options, 1), 0.75);
}

TEST(Training, BitIdenticalForOneAndTwoThreads) {
  // Widths and batch large enough that every product, and the 128 x 512 elementwise passes
  // (ops::for_row_blocks), are split across the pool's threads. Adam takes the gradients after
  // the backward pass; plain SGD is applied inside it. Without dropout the activation
  // derivatives are applied inside the input-gradient products; with it, in passes of their own.
  const Dataset data = spirals(256, 9);
  Architecture arch{{2, 512, 192, 2}, {Activation::sigmoid, Activation::tanh}, Loss::cross_entropy};
  for (const auto& [kind, dropout] :
       {std::pair{OptimizerKind::adam, 0.1f}, std::pair{OptimizerKind::sgd, 0.1f},
        std::pair{OptimizerKind::sgd, 0.0f}}) {
    SCOPED_TRACE(testing::Message() << to_string(kind) << " dropout " << dropout);
    arch.dropout = dropout;
    TrainOptions options;
    options.epochs = 3;
    options.batch = 128;
    options.optimizer.kind = kind;
    options.schedule.base_lr = kind == OptimizerKind::adam ? 0.01f : 0.5f;
    std::vector<float> one, two, again;
    train_and_measure(data, arch, options, 1, &one);
    train_and_measure(data, arch, options, 2, &two);
    train_and_measure(data, arch, options, 2, &again);
    ASSERT_EQ(one.size(), two.size());
    EXPECT_EQ(0, std::memcmp(one.data(), two.data(), one.size() * sizeof(float)));
    EXPECT_EQ(0, std::memcmp(two.data(), again.data(), two.size() * sizeof(float)));
    options.seed = 2;  // and the seed matters
    std::vector<float> other;
    train_and_measure(data, arch, options, 2, &other);
    EXPECT_NE(0, std::memcmp(one.data(), other.data(), one.size() * sizeof(float)));
  }
}

// A first layer of 600 inputs, which training sums in two halves of its k sum, one per core
// (the input halves of src/nn/fast/), with the minibatches in two column panels and the output
// layer in row halves: the same bits on 1, 2 and 3 threads, and it learns (labels that depend
// on a few of the features).
TEST(Training, FirstLayerInInputHalvesIsBitIdenticalForAnyThreadCountAndLearns) {
  Rng rng(12);
  std::vector<float> values;
  std::vector<std::int32_t> labels;
  for (int i = 0; i < 400; ++i) {
    float signal = 0.0f;
    for (int j = 0; j < 600; ++j) {
      const auto v = static_cast<float>(rng.uniform() - 0.5);
      values.push_back(v);
      if (j % 100 == 7) signal += v;  // features 7, 107, ..., on both sides of k0
    }
    labels.push_back(signal > 0.0f ? 1 : 0);
  }
  const Dataset data = make_classification(std::move(values), std::move(labels), 600);
  const Architecture arch{{600, 32, 2}, {Activation::sigmoid}, Loss::cross_entropy};
  TrainOptions options;
  options.epochs = 30;
  options.batch = 48;  // the last minibatch of an epoch has 16 rows
  options.schedule.base_lr = 0.5f;
  ASSERT_EQ(FastPath<float>::input_panel_column(arch, options.batch, true), 304);
  std::vector<float> one, two, three;
  const double accuracy = train_and_measure(data, arch, options, 1, &one);
  train_and_measure(data, arch, options, 2, &two);
  train_and_measure(data, arch, options, 3, &three);
  EXPECT_GT(accuracy, 0.9);
  ASSERT_EQ(one.size(), two.size());
  EXPECT_EQ(0, std::memcmp(one.data(), two.data(), one.size() * sizeof(float)));
  EXPECT_EQ(0, std::memcmp(one.data(), three.data(), one.size() * sizeof(float)));
}

TEST(Inference, BitIdenticalForAnyThreadCount) {
  // 4096 x 64 hidden and 4096 x 16 output values: the bias, activation and softmax passes are
  // split into row blocks on pools of 2 and 3 threads, and must give the bits of 1 thread.
  const Dataset data = spirals(2048, 5);
  for (const auto f : {Activation::sigmoid, Activation::tanh, Activation::relu}) {
    SCOPED_TRACE(to_string(f));
    Architecture arch{{2, 64, 16}, {f}, Loss::cross_entropy};
    Network net(arch, data.rows);
    net.initialize(3);
    const Preprocessing prep = Preprocessing::identity(2);
    std::vector<std::vector<float>> outputs;
    for (const int threads : {1, 2, 3}) {
      ThreadPool pool(threads);
      outputs.push_back(predict(net, data, prep, pool));
    }
    ASSERT_EQ(outputs[0].size(), static_cast<std::size_t>(data.rows * 16));
    EXPECT_EQ(outputs[0], outputs[1]);
    EXPECT_EQ(outputs[0], outputs[2]);
    // Rows are probability vectors (the softmax ran on every block).
    for (std::int64_t i = 0; i < data.rows; i += 511) {
      const float* p = outputs[0].data() + i * 16;
      EXPECT_NEAR(std::accumulate(p, p + 16, 0.0), 1.0, 1e-5) << i;
    }
  }
}

TEST(Training, EarlyStoppingKeepsTheBestEpoch) {
  const Dataset data = spirals(100, 4);
  Architecture arch{{2, 16, 2}, {Activation::tanh}, Loss::cross_entropy};
  TrainOptions options;
  options.epochs = 200;
  options.batch = 8;
  options.patience = 3;
  options.schedule.base_lr = 2.0f;  // large steps: validation loss soon stops improving
  Network net(arch, options.batch);
  net.initialize(1);
  const Preprocessing prep = Preprocessing::identity(2);
  ThreadPool pool(1);
  std::vector<std::int64_t> train_rows, val_rows;
  for (std::int64_t i = 0; i < data.rows; ++i) (i % 5 == 0 ? val_rows : train_rows).push_back(i);
  Trainer trainer(net, prep, options, data, train_rows, pool);
  trainer.set_validation(data, val_rows);
  const TrainOutcome outcome = trainer.run();
  const TrainState& s = trainer.state();
  if (outcome == TrainOutcome::early_stopped) {
    EXPECT_EQ(s.stale_epochs, options.patience);
    EXPECT_LT(s.epoch, options.epochs);
  }
  // Whatever the outcome, the weights are the best epoch's: re-measuring gives its loss.
  const double val_loss = evaluate(net, data, prep, val_rows, pool).loss;
  EXPECT_DOUBLE_EQ(val_loss, s.best_val_loss);
  double lowest = s.history.front().val_loss;
  for (const auto& m : s.history) lowest = std::min(lowest, m.val_loss);
  EXPECT_DOUBLE_EQ(s.best_val_loss, lowest);
}

TEST(Training, StopRequestInterruptsAfterTheCurrentStep) {
  const Dataset data = spirals(100, 5);
  Architecture arch{{2, 8, 2}, {Activation::relu}, Loss::cross_entropy};
  TrainOptions options;
  options.epochs = 3;
  options.batch = 10;
  Network net(arch, options.batch);
  net.initialize(1);
  const Preprocessing prep = Preprocessing::identity(2);
  ThreadPool pool(1);
  Trainer trainer(net, prep, options, data, all_rows(data), pool);
  std::atomic<bool> stop{false};
  trainer.stop_requested = &stop;
  trainer.on_step = [&](std::int64_t step, std::int64_t) {
    if (step == 7) stop = true;
  };
  EXPECT_EQ(trainer.run(), TrainOutcome::interrupted);
  EXPECT_EQ(trainer.state().epoch, 0);
  EXPECT_EQ(trainer.state().step_in_epoch, 7);
  EXPECT_EQ(trainer.optimizer().steps(), 7u);
}

// Trains a 2-8-2 ReLU network (initialised with seed 1) with lr 1e30 on `data` and returns the
// DivergenceError that must end the run.
DivergenceError diverge(const Dataset& data, Network& net, int threads) {
  TrainOptions options;
  options.epochs = 5;
  options.batch = 10;
  options.schedule.base_lr = 1e30f;
  net.initialize(1);
  const Preprocessing prep = Preprocessing::identity(2);
  ThreadPool pool(threads);
  Trainer trainer(net, prep, options, data, all_rows(data), pool);
  try {
    trainer.run();
  } catch (const DivergenceError& e) {
    return e;
  }
  ADD_FAILURE() << "expected a DivergenceError";
  return DivergenceError("none", 0, 0);
}

const Architecture kDivergingArch{{2, 8, 2}, {Activation::relu}, Loss::cross_entropy};

TEST(Training, DivergenceIsReportedWithEpochStepAndCause) {
  Network net(kDivergingArch, 10);
  const DivergenceError e = diverge(spirals(50, 6), net, 1);
  const std::string message = e.what();
  EXPECT_NE(message.find("diverged at epoch"), std::string::npos) << message;
  EXPECT_NE(message.find("learning rate"), std::string::npos) << message;
  EXPECT_GE(e.step(), 1);
  for (const float v : net.parameters())
    ASSERT_TRUE(std::isfinite(v)) << "weights from before the failing step";
}

// Plain SGD is applied inside the backward pass, so an overflowing update is seen only in its
// result: positive features of order 1e30 through a ReLU layer with lr 1e30 overflow both
// layers on the first step. The error names the first layer, and the weights go back to those
// the epoch started with (here: the initial ones).
TEST(Training, AnOverflowingSgdUpdateNamesItsLayerAndResetsTheWeights) {
  std::vector<float> values;
  std::vector<std::int32_t> labels;
  for (int i = 0; i < 20; ++i) {
    values.push_back(1e30f * static_cast<float>(1 + i % 3));
    values.push_back(1e30f * static_cast<float>(1 + i % 5));
    labels.push_back(i % 2);
  }
  const Dataset data = make_classification(std::move(values), std::move(labels), 2);
  Network net(kDivergingArch, 10), initial(kDivergingArch, 10);
  initial.initialize(1);
  const DivergenceError e = diverge(data, net, 2);
  const std::string message = e.what();
  EXPECT_NE(message.find("epoch 1, step 1: the update made the parameters of layer 1 (W1, b1)"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("reset"), std::string::npos) << message;
  EXPECT_EQ(e.epoch(), 1);
  EXPECT_EQ(e.step(), 1);
  EXPECT_EQ(0, std::memcmp(net.parameters().data(), initial.parameters().data(),
                           net.parameters().size() * sizeof(float)));
}

// Regression with r = 2 targets per row (Dataset::targets is N x r): a linear network learns
// Y = X A exactly, so its loss and evaluate's MSE fall to ~0, which needs every target of every
// row in its place. A target count that does not fit the outputs is an error.
TEST(Training, LearnsSeveralRegressionTargetsPerRow) {
  Dataset data;
  data.task = Task::regression;
  data.features = 3;
  data.source = "generated";
  Rng rng(5);
  const float a[3][2] = {{1.0f, -2.0f}, {0.5f, 0.0f}, {-1.0f, 3.0f}};
  for (std::int64_t i = 0; i < 64; ++i, ++data.rows) {
    float x[3];
    for (float& v : x) v = static_cast<float>(rng.uniform() * 2.0 - 1.0);
    data.values.insert(data.values.end(), x, x + 3);
    for (int j = 0; j < 2; ++j)
      data.targets.push_back(x[0] * a[0][j] + x[1] * a[1][j] + x[2] * a[2][j]);
  }
  Architecture arch{{3, 2}, {}, Loss::mse};
  Network net(arch, 16);
  net.initialize(1);
  TrainOptions options;
  options.epochs = 300;
  options.batch = 16;
  options.optimizer.kind = OptimizerKind::adam;
  options.schedule.base_lr = 0.05f;
  const Preprocessing prep = Preprocessing::identity(data.features);
  ThreadPool pool(1);
  Trainer trainer(net, prep, options, data, all_rows(data), pool);
  trainer.run();
  const Evaluation e = evaluate(net, data, prep, {}, pool);
  EXPECT_LT(e.mse, 1e-4);
  EXPECT_GT(e.r2, 0.999);
  EXPECT_NEAR(net.weight(0)(0, 1), -2.0f, 0.02f);
  EXPECT_NEAR(net.weight(0)(2, 1), 3.0f, 0.02f);

  data.targets.pop_back();
  EXPECT_THROW(check_compatible(net, data), Error);
}

}  // namespace
}  // namespace backprop
