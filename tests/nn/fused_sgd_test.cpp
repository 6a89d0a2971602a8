// The SGD step fused into the backward pass (BasicNetwork::forward_backward_sgd) against the
// two passes it replaces: forward_backward, then the optimiser's SGD loop. They must give the
// same bits for every depth, activation, loss, dropout, thread count and GEMM path. A step whose
// loss is not finite must change nothing, and an update that is not finite must be reported
// with its layer.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "backprop/network.hpp"
#include "backprop/optimizer.hpp"
#include "backprop/rng.hpp"
#include "kernels/gemm.hpp"
#include "test_support.hpp"

namespace backprop {
namespace {

using kernels::GemmPath;
using testing_support::GemmPathGuard;
using testing_support::supported_gemm_paths;

// A random minibatch that owns its storage.
template <class T>
struct OwnedBatch {
  std::vector<T> x, targets;
  std::vector<std::int32_t> labels;
  std::int64_t rows = 0, features = 0, outputs = 0;

  OwnedBatch(const Architecture& arch, std::int64_t b, std::uint64_t seed)
      : rows(b), features(arch.inputs()), outputs(arch.outputs()) {
    Rng rng(seed);
    for (std::int64_t i = 0; i < rows * features; ++i)
      x.push_back(static_cast<T>(2.0 * rng.uniform() - 1.0));
    for (std::int64_t i = 0; i < rows; ++i)
      labels.push_back(static_cast<std::int32_t>(rng.uniform() * static_cast<double>(outputs)) %
                       static_cast<std::int32_t>(outputs));
    for (std::int64_t i = 0; i < rows * outputs; ++i)
      targets.push_back(static_cast<T>(rng.uniform()));
  }
  Batch<T> batch() const {
    return {View<const T>(x.data(), rows, features), labels,
            View<const T>(targets.data(), rows, outputs)};
  }
};

using Case = testing_support::NetworkCase;

Architecture make_arch(const Case& c) { return c.architecture(); }

std::vector<Case> cases() {
  return {
      // W1's network and batch: every product is split across the threads.
      {{784, 128, 10}, Activation::sigmoid, Loss::cross_entropy, 0.0f, 64},
      {{20, 33, 17, 5}, Activation::relu, Loss::cross_entropy, 0.3f, 37},
      {{6, 9, 3}, Activation::tanh, Loss::mse, 0.0f, 5},
      {{300, 200, 70, 2}, Activation::leaky_relu, Loss::mse, 0.0f, 50},
      {{5, 1}, Activation::sigmoid, Loss::mse, 0.0f, 3},  // no hidden layer
      // First layers split at a cache line of their k sum: an odd batch, regression, one row,
      // depth 3 with dropout.
      {{600, 40, 3}, Activation::tanh, Loss::mse, 0.0f, 37},
      {{784, 128, 10}, Activation::relu, Loss::cross_entropy, 0.0f, 1},
      {{520, 30, 20, 4}, Activation::sigmoid, Loss::cross_entropy, 0.2f, 9},
  };
}

bool all_finite(View<const float> w) {
  for (std::int64_t i = 0; i < w.rows; ++i)
    for (std::int64_t j = 0; j < w.cols; ++j)
      if (!std::isfinite(w(i, j))) return false;
  return true;
}

bool same_bits(std::span<const float> a, std::span<const float> b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST(FusedSgd, GivesTheBitsOfBackwardThenTheOptimiser) {
  GemmPathGuard guard;
  constexpr float kLr = 0.3f;
  for (const GemmPath path : supported_gemm_paths()) {
    kernels::set_gemm_path(path);
    for (const int threads : {1, 2, 3}) {
      ThreadPool pool(threads);
      for (const Case& c : cases()) {
        SCOPED_TRACE(testing::Message()
                     << "widths[0]=" << c.widths[0] << " depth " << c.widths.size() - 1 << " path "
                     << kernels::gemm_path_name() << " threads " << threads);
        const Architecture arch = make_arch(c);
        Network unfused(arch, c.batch), fused(arch, c.batch);
        unfused.initialize(3);
        fused.initialize(3);
        const std::vector<float> initial(fused.parameters().begin(), fused.parameters().end());
        OptimizerConfig sgd;
        sgd.kind = OptimizerKind::sgd;
        Optimizer optimizer(sgd, unfused.parameters().size());
        for (std::uint64_t step = 0; step < 4; ++step) {
          const OwnedBatch<float> data(arch, c.batch, 100 + step);
          const double loss = unfused.forward_backward(data.batch(), step, pool);
          ASSERT_TRUE(optimizer.step(unfused.parameters(), unfused.gradients(), kLr, pool));
          const SgdStepOutcome outcome = fused.forward_backward_sgd(data.batch(), step, kLr, pool);
          ASSERT_EQ(outcome.loss, loss) << "step " << step;
          ASSERT_EQ(outcome.first_non_finite_layer, -1) << "step " << step;
          ASSERT_TRUE(same_bits(unfused.parameters(), fused.parameters())) << "step " << step;
          for (std::int64_t l = 0; l < arch.num_layers(); ++l)
            ASSERT_TRUE(same_bits(unfused.bias_grad(l), fused.bias_grad(l))) << "layer " << l;
        }
        // Four steps moved every weight matrix.
        for (std::int64_t l = 0; l < arch.num_layers(); ++l) {
          const auto w = fused.weight(l);
          const float* start = initial.data() + (w.data - fused.parameters().data());
          EXPECT_NE(0, std::memcmp(start, w.data, static_cast<std::size_t>(w.size()) * 4))
              << "layer " << l << " never updated";
        }
      }
    }
  }
}

// The double network (gradient checks) takes the plain loops: its fused step must equal the
// backward pass followed by theta = fma(-lr, g, theta).
TEST(FusedSgd, DoubleNetworkMatchesItsGradient) {
  ThreadPool pool(1);
  const Case c{{7, 6, 5, 3}, Activation::tanh, Loss::cross_entropy, 0.0f, 4};
  const Architecture arch = make_arch(c);
  BasicNetwork<double> unfused(arch, c.batch), fused(arch, c.batch);
  unfused.initialize(5);
  fused.initialize(5);
  const OwnedBatch<double> data(arch, c.batch, 9);
  constexpr double kLr = 0.7;
  unfused.forward_backward(data.batch(), 0, pool);
  auto theta = unfused.parameters();
  const auto g = unfused.gradients();
  for (std::size_t i = 0; i < theta.size(); ++i) theta[i] = std::fma(-kLr, g[i], theta[i]);
  EXPECT_EQ(fused.forward_backward_sgd(data.batch(), 0, kLr, pool).first_non_finite_layer, -1);
  for (std::size_t i = 0; i < theta.size(); ++i) ASSERT_EQ(fused.parameters()[i], theta[i]) << i;
}

TEST(FusedSgd, ANonFiniteLossLeavesTheParametersAlone) {
  ThreadPool pool(2);
  const Case c{{784, 128, 10}, Activation::sigmoid, Loss::cross_entropy, 0.0f, 64};
  const Architecture arch = make_arch(c);
  Network net(arch, c.batch);
  net.initialize(1);
  const std::vector<float> before(net.parameters().begin(), net.parameters().end());
  OwnedBatch<float> data(arch, c.batch, 4);
  data.x[100] = std::numeric_limits<float>::quiet_NaN();
  const SgdStepOutcome outcome = net.forward_backward_sgd(data.batch(), 0, 0.1f, pool);
  EXPECT_FALSE(std::isfinite(outcome.loss));
  EXPECT_TRUE(same_bits(before, net.parameters()));
}

// lr 1e30 against values of order 1e30 in a ReLU network, three ways:
// - feature 0 of every sample is huge and its row of W_0 is zero: the hidden outputs stay of
//   order 1, so only the first layer's update (row 0: x_0 times D) overflows;
// - the first layer's biases are huge instead: the hidden outputs are of order 1e30, so the
//   second layer's update H^T D overflows while the first layer's (inputs of order 1) does not;
// - every feature is huge: both layers overflow, and the first is the one named.
void expect_overflow_names_first_layer(const Case& c);

// The same with a first layer split in two halves of its k sum (600 inputs), whose updates
// are made in pieces beside the output layer.
TEST(FusedSgd, AnUpdateThatOverflowsNamesTheFirstSuchLayer) {
  GemmPathGuard guard;
  for (const Case& c : {Case{{4, 5, 3}, Activation::relu, Loss::cross_entropy, 0.0f, 6},
                        Case{{600, 5, 3}, Activation::relu, Loss::cross_entropy, 0.0f, 6}})
    expect_overflow_names_first_layer(c);
}

void expect_overflow_names_first_layer(const Case& c) {
  const Architecture arch = make_arch(c);
  enum class Huge { feature0, bias, every_feature };
  for (const Huge huge : {Huge::feature0, Huge::bias, Huge::every_feature}) {
    OwnedBatch<float> data(arch, c.batch, 11);
    for (std::int64_t i = 0; i < data.rows; ++i)
      for (std::int64_t j = 0; j < data.features; ++j) {
        float& v = data.x[static_cast<std::size_t>(i * data.features + j)];
        v = std::fabs(v) + 0.5f;  // positive, so a ReLU passes it on
        if (huge == Huge::every_feature || (huge == Huge::feature0 && j == 0)) v *= 1e30f;
      }
    const std::int64_t expected = huge == Huge::bias ? 1 : 0;
    for (const GemmPath path : supported_gemm_paths()) {
      kernels::set_gemm_path(path);
      for (const int threads : {1, 2}) {
        SCOPED_TRACE(testing::Message()
                     << "inputs " << c.widths[0] << " case " << static_cast<int>(huge) << " path "
                     << kernels::gemm_path_name() << " threads " << threads);
        ThreadPool pool(threads);
        Network net(arch, c.batch);
        net.initialize(2);
        if (huge == Huge::feature0)
          for (std::int64_t j = 0; j < net.weight(0).cols; ++j) net.weight(0)(0, j) = 0.0f;
        if (huge == Huge::bias)
          for (float& b : net.bias(0)) b = 1e30f;
        const SgdStepOutcome outcome = net.forward_backward_sgd(data.batch(), 0, 1e30f, pool);
        ASSERT_TRUE(std::isfinite(outcome.loss));
        EXPECT_EQ(outcome.first_non_finite_layer, expected);
        EXPECT_EQ(all_finite(net.weight(0)), huge == Huge::bias);
        EXPECT_EQ(all_finite(net.weight(1)), huge == Huge::feature0);
      }
    }
  }
}

}  // namespace
}  // namespace backprop
