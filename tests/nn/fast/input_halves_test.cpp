// The input halves (src/nn/fast/): which steps they take, and that the forms of one step they
// take agree bit for bit: X in two column panels against X in one piece, and a step on any
// thread count. (tests/nn/fused_sgd_test.cpp and beside_work_test.cpp hold the steps they take
// against the optimiser and the beside work; tests/train/training_test.cpp a whole training.)
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "backprop/network.hpp"
#include "backprop/rng.hpp"
#include "nn/fast/fast_path.hpp"
#include "nn/step_extras.hpp"
#include "test_support.hpp"

namespace backprop {
namespace {

Architecture two_layer(std::int64_t inputs, std::int64_t hidden, float dropout = 0.0f) {
  return testing_support::uniform_architecture({inputs, hidden, 10}, Activation::sigmoid,
                                               Loss::cross_entropy, dropout);
}

bool same_bits(std::span<const float> a, std::span<const float> b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

struct RandomBatch {
  std::vector<float> x;
  std::vector<std::int32_t> labels;
  std::int64_t rows, features;
  RandomBatch(std::int64_t b, std::int64_t p, std::uint64_t seed) : rows(b), features(p) {
    Rng rng(seed);
    for (std::int64_t i = 0; i < b * p; ++i) x.push_back(static_cast<float>(rng.uniform() - 0.5));
    for (std::int64_t i = 0; i < b; ++i) labels.push_back(static_cast<std::int32_t>(i % 10));
  }
  Batch<float> batch() const { return {View<const float>(x.data(), rows, features), labels, {}}; }
};

// The shape rule: a first layer of at least 512 inputs, with at most 16384 values in B x its
// width, whatever the thread count; panels only for the two-layer step without dropout that
// fuses plain SGD, which computes its output layer in row halves too.
TEST(InputHalves, TakeStepsByTheirShapeOnly) {
  EXPECT_EQ(FastPath<float>::make(two_layer(511, 128), 64), nullptr);
  EXPECT_EQ(FastPath<float>::make(testing_support::uniform_architecture(
                                      {784, 10}, Activation::sigmoid, Loss::cross_entropy),
                                  64),
            nullptr);  // no hidden layer
  const auto w1 = FastPath<float>::make(two_layer(784, 128), 256);
  ASSERT_NE(w1, nullptr);
  EXPECT_TRUE(w1->takes(64, nullptr));    // W1: 64 x 128
  EXPECT_TRUE(w1->takes(128, nullptr));   // 16384 values
  EXPECT_FALSE(w1->takes(129, nullptr));  // more
  // The panels' column: a whole number of cache lines near the middle of the k sum.
  EXPECT_EQ(FastPath<float>::input_panel_column(two_layer(784, 128), 64, true), 400);
  EXPECT_EQ(FastPath<float>::input_panel_column(two_layer(600, 32), 48, true), 304);
  EXPECT_EQ(FastPath<float>::input_panel_column(two_layer(512, 7), 1, true), 256);
  EXPECT_EQ(FastPath<float>::input_panel_column(two_layer(784, 128), 64, false), 0);  // Adam
  EXPECT_EQ(FastPath<float>::input_panel_column(two_layer(784, 128, 0.2f), 64, true), 0);
  EXPECT_EQ(FastPath<float>::input_panel_column(two_layer(784, 512), 128, true), 0);  // W2
  EXPECT_EQ(FastPath<float>::input_panel_column(two_layer(500, 128), 64, true), 0);
}

// A minibatch in two column panels (as the trainer's pipeline gathers it for the input halves)
// trains to the bits of the same minibatch in one X; a step that cannot take panels refuses
// them, naming why.
TEST(InputHalves, ColumnPanelsGiveTheBitsOfOneX) {
  const Architecture arch = two_layer(784, 128);
  const std::int64_t rows = 64;
  const RandomBatch data(rows, 784, 21);
  Network one_x(arch, rows), panels(arch, rows);
  one_x.initialize(8);
  panels.initialize(8);
  const std::int64_t k0 = FastPath<float>::input_panel_column(arch, rows, true);
  ASSERT_GT(k0, 0);
  std::vector<float> left, right;
  for (std::int64_t i = 0; i < rows; ++i)
    for (std::int64_t j = 0; j < 784; ++j)
      (j < k0 ? left : right).push_back(data.x[static_cast<std::size_t>(i * 784 + j)]);
  Batch<float> split = data.batch();
  split.x = View<const float>(left.data(), rows, k0);
  const StepExtras<float> in_panels{{}, View<const float>(right.data(), rows, 784 - k0)};
  for (const int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    const SgdStepOutcome a = one_x.forward_backward_sgd(data.batch(), 0, 0.1f, pool);
    const SgdStepOutcome b = panels.forward_backward_sgd(split, 0, 0.1f, pool, &in_panels);
    EXPECT_EQ(a.loss, b.loss);
    EXPECT_TRUE(same_bits(one_x.parameters(), panels.parameters()));
  }
  ThreadPool pool(2);
  // Panels of the wrong widths, and panels for a step that does not take them.
  Batch<float> wrong = split;
  wrong.x = View<const float>(left.data(), rows, k0 - 16);
  const StepExtras<float> wrong_panels{{}, View<const float>(right.data(), rows, 784 - k0 + 16)};
  EXPECT_NE(testing_support::error_of([&] {
              panels.forward_backward_sgd(wrong, 0, 0.1f, pool, &wrong_panels);
            }).find("meet at column 400"),
            std::string::npos);
  EXPECT_NE(testing_support::error_of([&] {
              panels.forward_backward(split, 0, pool, &in_panels);
            }).find("two column panels"),
            std::string::npos);
}

// Every form of the step the input halves take, on 1, 2 and 3 threads: depth 2 with fused SGD
// (the output layer in row halves), with gradients only (Adam's step), and depth 3 with dropout.
TEST(InputHalves, EveryThreadCountGivesTheSameBits) {
  const std::vector<testing_support::NetworkCase> cases = {
      {{784, 128, 10}, Activation::sigmoid, Loss::cross_entropy, 0.0f, 64},
      {{600, 40, 3}, Activation::tanh, Loss::mse, 0.0f, 37},
      {{520, 30, 20, 4}, Activation::relu, Loss::cross_entropy, 0.2f, 9},
  };
  for (const auto& c : cases) {
    for (const bool fused : {true, false}) {
      SCOPED_TRACE(testing::Message() << "widths[0]=" << c.widths[0] << " depth "
                                      << c.widths.size() - 1 << (fused ? " fused" : ""));
      const Architecture arch = c.architecture();
      ASSERT_NE(FastPath<float>::make(arch, c.batch), nullptr);
      std::vector<std::vector<float>> results;
      for (const int threads : {1, 2, 3}) {
        ThreadPool pool(threads);
        Network net(arch, c.batch);
        net.initialize(4);
        for (std::uint64_t step = 0; step < 3; ++step) {
          Rng rng(50 + step);
          std::vector<float> x, y;
          std::vector<std::int32_t> labels;
          for (std::int64_t i = 0; i < c.batch * arch.inputs(); ++i)
            x.push_back(static_cast<float>(rng.uniform() - 0.5));
          for (std::int64_t i = 0; i < c.batch; ++i)
            labels.push_back(static_cast<std::int32_t>(i % arch.outputs()));
          for (std::int64_t i = 0; i < c.batch * arch.outputs(); ++i)
            y.push_back(static_cast<float>(rng.uniform()));
          const Batch<float> batch{View<const float>(x.data(), c.batch, arch.inputs()), labels,
                                   View<const float>(y.data(), c.batch, arch.outputs())};
          if (fused) {
            net.forward_backward_sgd(batch, step, 0.1f, pool);
          } else {
            net.forward_backward(batch, step, pool);
            results.emplace_back(net.gradients().begin(), net.gradients().end());
          }
        }
        results.emplace_back(net.parameters().begin(), net.parameters().end());
      }
      const std::size_t per_run = results.size() / 3;
      for (std::size_t r = 1; r < 3; ++r)
        for (std::size_t i = 0; i < per_run; ++i)
          ASSERT_TRUE(same_bits(results[i], results[r * per_run + i])) << "threads " << r + 1;
    }
  }
}

}  // namespace
}  // namespace backprop
