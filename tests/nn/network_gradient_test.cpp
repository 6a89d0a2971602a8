// Every backward pass against central finite differences, in double: whole networks of depth
// 1-4 with each activation and loss, and dropout through a fixed mask. The guard that the
// gradient is not all zero keeps a dead backward pass (which would "match" a dead loss) out.
#include <gtest/gtest.h>

#include "backprop/gradcheck.hpp"
#include "test_support.hpp"

namespace backprop {
namespace {

using Case = testing_support::NetworkCase;

std::string case_name(const testing::TestParamInfo<Case>& info) {
  std::string name;
  for (const auto w : info.param.widths) name += std::to_string(w) + "_";
  name += to_string(info.param.activation) + "_" + to_string(info.param.loss);
  if (info.param.dropout > 0.0f) name += "_dropout";
  return name;
}

class NetworkGradient : public testing::TestWithParam<Case> {};

TEST_P(NetworkGradient, MatchesCentralDifferences) {
  const Case& c = GetParam();
  const Architecture arch =
      testing_support::uniform_architecture(c.widths, c.activation, c.loss, c.dropout);
  GradcheckOptions options;
  options.seed = 7;
  options.batch = 5;
  const GradcheckReport report = gradient_check(arch, options);
  ASSERT_EQ(report.tensors.size(), 2 * (c.widths.size() - 1));
  for (const auto& t : report.tensors) {
    EXPECT_EQ(t.checked, t.entries) << t.name;
    EXPECT_LT(t.max_relative_error, 1e-6) << t.name;
    EXPECT_GT(t.max_abs_gradient, 1e-8) << t.name << ": gradient is (nearly) all zero";
  }
}

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  const std::vector<std::vector<std::int64_t>> shapes = {
      {6, 3}, {6, 5, 3}, {7, 6, 5, 3}, {5, 6, 4, 5, 3}};  // depth 1 to 4 (dense layers)
  for (const auto& widths : shapes)
    for (const auto a :
         {Activation::sigmoid, Activation::tanh, Activation::relu, Activation::leaky_relu}) {
      if (widths.size() == 2 && a != Activation::sigmoid)
        continue;  // no hidden layer: one case is enough
      cases.push_back({widths, a, Loss::cross_entropy, 0.0f});
      auto regression = widths;
      regression.back() = 1;  // one predicted value
      cases.push_back({regression, a, Loss::mse, 0.0f});
    }
  // Regression with several outputs, and dropout through a fixed mask.
  cases.push_back({{4, 6, 2}, Activation::tanh, Loss::mse, 0.0f});
  cases.push_back({{6, 8, 7, 3}, Activation::relu, Loss::cross_entropy, 0.3f});
  cases.push_back({{6, 8, 7, 3}, Activation::sigmoid, Loss::cross_entropy, 0.5f});
  cases.push_back({{6, 8, 1}, Activation::tanh, Loss::mse, 0.25f});
  // A first layer wide enough for a training step to split its k sum (ops::dense_forward_halves).
  cases.push_back({{520, 4, 3}, Activation::sigmoid, Loss::cross_entropy, 0.0f});
  cases.push_back({{530, 3, 2}, Activation::relu, Loss::mse, 0.0f});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(AllDepthsAndActivations, NetworkGradient, testing::ValuesIn(all_cases()),
                         case_name);

TEST(Gradcheck, DetectsAWrongGradient) {
  // The measure itself must respond: at a trained network's weights a fine step agrees, and a
  // step so coarse that truncation error dominates is reported as a mismatch.
  Architecture arch{{4, 5, 3}, {Activation::sigmoid}, Loss::cross_entropy};
  Network net(arch, 4);
  net.initialize(3);
  GradcheckOptions options;
  const auto good = gradient_check(net, options);
  EXPECT_LT(good.max_relative_error(), 1e-6);
  options.step = 0.5;
  const auto coarse = gradient_check(net, options);
  EXPECT_GT(coarse.max_relative_error(), 1e-4);
}

TEST(Gradcheck, ReportsProgressOncePerCheckedEntry) {
  Architecture arch{{6, 5, 3}, {Activation::tanh}, Loss::cross_entropy};
  for (const std::int64_t max_entries : {0, 4}) {
    GradcheckOptions options;
    options.max_entries = max_entries;
    std::int64_t calls = 0, last = 0, announced = 0;
    options.progress = [&](std::int64_t done, std::int64_t total) {
      ++calls;
      EXPECT_EQ(done, last + 1);  // one call per entry, in order
      last = done;
      announced = total;
    };
    const GradcheckReport report = gradient_check(arch, options);
    std::int64_t checked = 0;
    for (const auto& t : report.tensors) checked += t.checked;
    EXPECT_EQ(calls, checked) << "max_entries " << max_entries;
    EXPECT_EQ(announced, checked) << "the total announced is the number checked";
  }
}

}  // namespace
}  // namespace backprop
