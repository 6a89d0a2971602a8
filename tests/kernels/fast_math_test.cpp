// The vectorised float exp, sigmoid and tanh against the C library's, over their whole range.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "kernels/fast_math.hpp"

namespace backprop {
namespace {

std::vector<float> grid(float lo, float hi, int n) {
  std::vector<float> x;
  for (int i = 0; i <= n; ++i)
    x.push_back(lo + (hi - lo) * static_cast<float>(i) / static_cast<float>(n));
  x.push_back(0.0f);
  x.push_back(-0.0f);
  return x;
}

TEST(FastMath, ExpWithinThreeTenthsOfAMillionth) {
  const auto x = grid(-87.0f, 88.0f, 200001);
  std::vector<float> y(x.size());
  fast::exp(y.data(), x.data(), static_cast<std::int64_t>(x.size()));
  double worst = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double want = std::exp(static_cast<double>(x[i]));
    worst = std::max(worst, std::abs(static_cast<double>(y[i]) - want) / want);
  }
  EXPECT_LT(worst, 3e-7);
}

TEST(FastMath, ExpClampsInsteadOfOverflowing) {
  const std::vector<float> x = {-1000.0f, -88.5f, 100.0f, 1000.0f};
  std::vector<float> y(x.size());
  fast::exp(y.data(), x.data(), 4);
  for (const float v : y) EXPECT_TRUE(std::isfinite(v));
  EXPECT_LT(y[0], 1e-37f);
  EXPECT_GT(y[3], 1e38f);
}

// A NaN in gives NaN out, in every position of a vector and its tail (the sanitized build
// checks that no step on the way is undefined, such as a NaN converted to an integer).
TEST(FastMath, NaNGivesNaN) {
  std::vector<float> x(37, 0.5f);
  for (const std::size_t i : {0u, 5u, 16u, 36u}) x[i] = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> e(x.size()), s(x.size()), t(x.size());
  const auto n = static_cast<std::int64_t>(x.size());
  fast::exp(e.data(), x.data(), n);
  fast::sigmoid(s.data(), x.data(), n);
  fast::tanh(t.data(), x.data(), n);
  for (std::size_t i = 0; i < x.size(); ++i) {
    EXPECT_EQ(std::isnan(e[i]), std::isnan(x[i])) << i;
    EXPECT_EQ(std::isnan(s[i]), std::isnan(x[i])) << i;
    EXPECT_EQ(std::isnan(t[i]), std::isnan(x[i])) << i;
  }
}

TEST(FastMath, SigmoidAndTanhMatchTheLibrary) {
  const auto x = grid(-100.0f, 100.0f, 100001);
  std::vector<float> s(x.size()), t(x.size());
  fast::sigmoid(s.data(), x.data(), static_cast<std::int64_t>(x.size()));
  fast::tanh(t.data(), x.data(), static_cast<std::int64_t>(x.size()));
  double worst_s = 0, worst_t = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const auto xd = static_cast<double>(x[i]);
    worst_s = std::max(worst_s, std::abs(static_cast<double>(s[i]) - 1.0 / (1.0 + std::exp(-xd))));
    worst_t = std::max(worst_t, std::abs(static_cast<double>(t[i]) - std::tanh(xd)));
    ASSERT_GE(s[i], 0.0f);
    ASSERT_LE(s[i], 1.0f);
    ASSERT_LE(std::abs(t[i]), 1.0f);
  }
  EXPECT_LT(worst_s, 1e-7);  // absolute: sigmoid is in [0, 1]
  EXPECT_LT(worst_t, 3e-7);
}

}  // namespace
}  // namespace backprop
