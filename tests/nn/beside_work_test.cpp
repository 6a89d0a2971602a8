// BesideWork: the tasks a training step runs on the pool while its calling thread computes the
// output layer. Each must run exactly once per step, and the step must give the same bits as
// without them, for every depth, loss, dropout and thread count, fused SGD or not.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "backprop/network.hpp"
#include "backprop/rng.hpp"
#include "nn/step_extras.hpp"
#include "test_support.hpp"

namespace backprop {
namespace {

using Case = testing_support::NetworkCase;

std::vector<Case> cases() {
  return {
      {{784, 128, 10}, Activation::sigmoid, Loss::cross_entropy, 0.0f, 64},  // W1
      {{20, 33, 17, 5}, Activation::relu, Loss::cross_entropy, 0.3f, 37},
      {{6, 9, 3}, Activation::tanh, Loss::mse, 0.0f, 5},
      {{5, 4}, Activation::sigmoid, Loss::cross_entropy, 0.0f, 3},  // no hidden layer
  };
}

struct Data {
  std::vector<float> x, targets;
  std::vector<std::int32_t> labels;
  Batch<float> batch;
  Data(const Architecture& arch, std::int64_t rows, std::uint64_t seed) {
    Rng rng(seed);
    for (std::int64_t i = 0; i < rows * arch.inputs(); ++i)
      x.push_back(static_cast<float>(2.0 * rng.uniform() - 1.0));
    for (std::int64_t i = 0; i < rows; ++i)
      labels.push_back(static_cast<std::int32_t>(i % arch.outputs()));
    for (std::int64_t i = 0; i < rows * arch.outputs(); ++i)
      targets.push_back(static_cast<float>(rng.uniform()));
    batch = {View<const float>(x.data(), rows, arch.inputs()), labels,
             View<const float>(targets.data(), rows, arch.outputs())};
  }
};

bool same_bits(std::span<const float> a, std::span<const float> b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// A contiguous view (the network's outputs) as a span.
std::span<const float> elements(View<const float> v) {
  return {v.data, static_cast<std::size_t>(v.size())};
}

// `count` tasks, each counting its runs and writing a buffer of its own (as a gather does).
struct CountingTasks {
  explicit CountingTasks(std::int64_t count)
      : runs(static_cast<std::size_t>(count)), scratch(static_cast<std::size_t>(count) * 4096) {}
  void operator()(std::int64_t i) {
    runs[static_cast<std::size_t>(i)].fetch_add(1);
    for (std::size_t k = 0; k < 4096; ++k) scratch[static_cast<std::size_t>(i) * 4096 + k] += 1.0f;
  }
  bool each_ran(int times) const {
    for (const auto& r : runs)
      if (r.load() != times) return false;
    return true;
  }
  std::vector<std::atomic<int>> runs;
  std::vector<float> scratch;
};

TEST(BesideWork, RunsEveryTaskOnceAndChangesNoBit) {
  constexpr float kLr = 0.1f;
  constexpr int kSteps = 3;
  for (const int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    for (const Case& c : cases()) {
      for (const bool fused : {false, true}) {
        SCOPED_TRACE(testing::Message()
                     << "widths[0]=" << c.widths[0] << " depth " << c.widths.size() - 1
                     << " threads " << threads << (fused ? " fused SGD" : " gradients"));
        const Architecture arch =
            testing_support::uniform_architecture(c.widths, c.activation, c.loss, c.dropout);
        Network plain(arch, c.batch), beside(arch, c.batch);
        plain.initialize(5);
        beside.initialize(5);
        CountingTasks counting(11);
        const TaskRef task(counting);
        for (int step = 0; step < kSteps; ++step) {
          const Data data(arch, c.batch, 40 + static_cast<std::uint64_t>(step));
          const auto key = static_cast<std::uint64_t>(step);
          const StepExtras<float> work{{11, &task}};
          if (fused) {
            const SgdStepOutcome a = plain.forward_backward_sgd(data.batch, key, kLr, pool);
            const SgdStepOutcome b = beside.forward_backward_sgd(data.batch, key, kLr, pool, &work);
            ASSERT_EQ(a.loss, b.loss);
            ASSERT_EQ(a.first_non_finite_layer, b.first_non_finite_layer);
          } else {
            ASSERT_EQ(plain.forward_backward(data.batch, key, pool),
                      beside.forward_backward(data.batch, key, pool, &work));
            ASSERT_TRUE(same_bits(plain.gradients(), beside.gradients())) << "step " << step;
          }
          ASSERT_TRUE(same_bits(plain.parameters(), beside.parameters())) << "step " << step;
          ASSERT_TRUE(same_bits(elements(plain.output()), elements(beside.output())));
          ASSERT_TRUE(counting.each_ran(step + 1)) << "step " << step;
        }
      }
    }
  }
}

// A small classifier for the tests below.
Network small_network() {
  Network net(
      testing_support::uniform_architecture({4, 6, 3}, Activation::tanh, Loss::cross_entropy), 8);
  net.initialize(1);
  return net;
}

TEST(BesideWork, RunsEvenWhenTheLossIsNotFinite) {
  ThreadPool pool(2);
  Network net = small_network();
  Data data(net.architecture(), 8, 7);
  data.x[5] = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> before(net.parameters().begin(), net.parameters().end());
  CountingTasks counting(5);
  const TaskRef task(counting);
  const StepExtras<float> work{{5, &task}};
  const SgdStepOutcome outcome = net.forward_backward_sgd(data.batch, 0, 0.1f, pool, &work);
  EXPECT_FALSE(std::isfinite(outcome.loss));
  EXPECT_TRUE(same_bits(before, net.parameters()));  // a step with a NaN loss changes nothing
  EXPECT_TRUE(counting.each_ran(1));
}

TEST(BesideWork, AnExceptionInATaskReachesTheCaller) {
  ThreadPool pool(2);
  Network net = small_network();
  const Data data(net.architecture(), 8, 7);
  const auto failing = [](std::int64_t i) {
    if (i == 2) throw Error("task 2 failed");
  };
  const TaskRef task(failing);
  const StepExtras<float> work{{4, &task}};
  EXPECT_EQ(testing_support::error_of([&] { net.forward_backward(data.batch, 0, pool, &work); }),
            "task 2 failed");
}

}  // namespace
}  // namespace backprop
