// train_model: a whole Dataset in, a Model out that has learned it, carries its preprocessing
// and names, and survives save_model / load_model unchanged.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "backprop/dataset.hpp"
#include "backprop/evaluate.hpp"
#include "backprop/model.hpp"
#include "backprop/trainer.hpp"
#include "cli/cli_test_util.hpp"
#include "test_support.hpp"

namespace backprop {
namespace {

using testing_support::error_of;

// Two classes split by the line x1 + x2 = 10, features around (10, 0) with spreads 4 and 1.
Dataset two_classes(int n) {
  std::mt19937 rng(3);
  std::normal_distribution<float> a(10.0f, 4.0f), b(0.0f, 1.0f);
  std::vector<float> values;
  std::vector<std::int32_t> labels;
  for (int i = 0; i < n; ++i) {
    const float x1 = a(rng), x2 = b(rng);
    values.insert(values.end(), {x1, x2});
    labels.push_back(x1 + x2 > 10.0f ? 1 : 0);
  }
  return classification_dataset(values, 2, labels, {"low", "high"});
}

TrainOptions options() {
  TrainOptions o;
  o.epochs = 20;
  o.batch = 16;
  o.optimizer.kind = OptimizerKind::adam;
  o.schedule.base_lr = 0.02f;
  return o;
}

const Architecture kNet{.widths = {2, 8, 2}, .activations = {Activation::tanh}};

TEST(TrainModel, LearnsAndKeepsWhatAModelNeeds) {
  const Dataset data = two_classes(400);
  Model model = train_model(data, kNet, options());
  ThreadPool pool(1);
  const Evaluation e = evaluate(*model.network, data, model.info.preprocessing, {}, pool);
  EXPECT_GT(e.accuracy, 0.95);
  EXPECT_EQ(model.info.class_names, data.class_names);
  EXPECT_EQ(model.info.feature_names, data.feature_names);
  EXPECT_EQ(model.info.input_format, "csv");
  EXPECT_EQ(model.info.training.at("epochs"), "20");
  // Standardisation fitted on the data: the offset is each feature's mean.
  ASSERT_EQ(model.info.preprocessing.kind, Normalization::standard);
  double mean1 = 0;
  for (std::int64_t i = 0; i < data.rows; ++i) mean1 += static_cast<double>(data.raw(i, 0));
  mean1 /= static_cast<double>(data.rows);
  EXPECT_NEAR(static_cast<double>(model.info.preprocessing.offset[0]), mean1, 1e-3);

  // Saved and loaded, it predicts the same bits.
  test::TempDir tmp;
  const auto path = tmp.path() / "m.safetensors";
  save_model(path, *model.network, model.info);
  Model loaded = load_model(path, 64);
  EXPECT_EQ(predict(*loaded.network, data, loaded.info.preprocessing, pool),
            predict(*model.network, data, model.info.preprocessing, pool));
}

TEST(TrainModel, TheSameSeedGivesTheSameModel) {
  const Dataset data = two_classes(100);
  const Model a = train_model(data, kNet, options());
  const Model b = train_model(data, kNet, options(), Normalization::standard, 2);
  const auto pa = a.network->parameters(), pb = b.network->parameters();
  EXPECT_TRUE(std::equal(pa.begin(), pa.end(), pb.begin(), pb.end()));
}

TEST(TrainModel, LearnsARegression) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> x(-3.0f, 3.0f);
  std::vector<float> values, targets;
  for (int i = 0; i < 300; ++i) {
    const float x1 = x(rng), x2 = x(rng);
    values.insert(values.end(), {x1, x2});
    targets.push_back(100.0f + 20.0f * x1 - 10.0f * x2);
  }
  const Dataset data = regression_dataset(values, 2, targets);
  TrainOptions o = options();
  o.epochs = 60;
  const Model model =
      train_model(data, {.widths = {2, 1}, .activations = {}, .loss = Loss::mse}, o);
  ThreadPool pool(1);
  const Evaluation e = evaluate(*model.network, data, model.info.preprocessing, {}, pool);
  EXPECT_GT(e.r2, 0.99);
  EXPECT_NE(model.info.preprocessing.target_scale, 1.0f);  // targets standardised
}

TEST(TrainModel, AnArchitectureThatDoesNotFitIsRefused) {
  const Dataset data = two_classes(50);
  EXPECT_EQ(
      error_of([&] {
        train_model(data, {.widths = {2, 8, 3}, .activations = {Activation::tanh}}, options());
      }),
      "in-memory data: 2 classes, but the network has 3 outputs");
  EXPECT_EQ(
      error_of([&] {
        train_model(data, {.widths = {3, 8, 2}, .activations = {Activation::tanh}}, options());
      }),
      "in-memory data: 2 features per sample, but the network takes 3 inputs");
  EXPECT_EQ(error_of([&] { train_model(data, kNet, options(), Normalization::standard, 0); }),
            "threads 0 must be at least 1");
}

}  // namespace
}  // namespace backprop
