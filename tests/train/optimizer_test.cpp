// Each optimiser's step against its formula computed independently here, over several steps,
// and the schedules against theirs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "backprop/error.hpp"
#include "backprop/optimizer.hpp"
#include "backprop/schedule.hpp"

namespace backprop {
namespace {

const std::vector<float> kStart = {0.5f, -1.25f, 2.0f, 0.0f, -0.75f};
// A different gradient at every step, so that momentum and moments matter.
std::vector<float> gradient(int step) {
  std::vector<float> g;
  for (std::size_t i = 0; i < kStart.size(); ++i)
    g.push_back(std::sin(static_cast<float>(i) + 0.7f * static_cast<float>(step)) *
                (1.0f + static_cast<float>(i)));
  return g;
}

// The same gradient in double, for the reference formulas.
std::vector<double> gradient_d(int step) {
  const auto g = gradient(step);
  return {g.begin(), g.end()};
}

std::vector<float> run(OptimizerConfig config, float lr, int steps) {
  std::vector<float> theta = kStart;
  Optimizer opt(config, theta.size());
  ThreadPool pool(1);
  for (int t = 0; t < steps; ++t) opt.step(theta, gradient(t), lr, pool);
  EXPECT_EQ(opt.steps(), static_cast<std::uint64_t>(steps));
  return theta;
}

void expect_near(const std::vector<float>& got, const std::vector<double>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(double(got[i]), want[i], 1e-5 * (1 + std::abs(want[i]))) << i;
  bool moved = false;
  for (std::size_t i = 0; i < got.size(); ++i) moved = moved || got[i] != kStart[i];
  EXPECT_TRUE(moved);
}

constexpr int kSteps = 6;
constexpr double kLr = 0.1;
constexpr double kWd = 0.01;

TEST(Optimizer, SgdWithWeightDecay) {
  OptimizerConfig c;
  c.kind = OptimizerKind::sgd;
  c.weight_decay = static_cast<float>(kWd);
  std::vector<double> theta(kStart.begin(), kStart.end());
  for (int t = 0; t < kSteps; ++t) {
    const auto g = gradient_d(t);
    for (std::size_t i = 0; i < theta.size(); ++i) theta[i] -= kLr * (g[i] + kWd * theta[i]);
  }
  expect_near(run(c, static_cast<float>(kLr), kSteps), theta);
}

TEST(Optimizer, MomentumAndNesterov) {
  for (const bool nesterov : {false, true}) {
    OptimizerConfig c;
    c.kind = OptimizerKind::momentum;
    c.momentum = 0.9f;
    c.nesterov = nesterov;
    std::vector<double> theta(kStart.begin(), kStart.end()), v(theta.size(), 0.0);
    for (int t = 0; t < kSteps; ++t) {
      const auto g = gradient_d(t);
      for (std::size_t i = 0; i < theta.size(); ++i) {
        v[i] = 0.9 * v[i] + g[i];
        theta[i] -= kLr * (nesterov ? g[i] + 0.9 * v[i] : v[i]);
      }
    }
    expect_near(run(c, static_cast<float>(kLr), kSteps), theta);
  }
}

TEST(Optimizer, AdamAndAdamW) {
  for (const auto kind : {OptimizerKind::adam, OptimizerKind::adamw}) {
    OptimizerConfig c;
    c.kind = kind;
    c.weight_decay = static_cast<float>(kWd);
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
    std::vector<double> theta(kStart.begin(), kStart.end()), m(theta.size(), 0.0),
        v(theta.size(), 0.0);
    for (int t = 1; t <= kSteps; ++t) {
      const auto g = gradient_d(t - 1);
      for (std::size_t i = 0; i < theta.size(); ++i) {
        double gi = g[i];
        if (kind == OptimizerKind::adamw) {
          theta[i] -= kLr * kWd * theta[i];
        } else {
          gi += kWd * theta[i];
        }
        m[i] = b1 * m[i] + (1 - b1) * gi;
        v[i] = b2 * v[i] + (1 - b2) * gi * gi;
        const double mhat = m[i] / (1 - std::pow(b1, t));
        const double vhat = v[i] / (1 - std::pow(b2, t));
        theta[i] -= kLr * mhat / (std::sqrt(vhat) + eps);
      }
    }
    expect_near(run(c, static_cast<float>(kLr), kSteps), theta);
  }
}

TEST(Optimizer, RestoreContinuesExactly) {
  OptimizerConfig c;
  c.kind = OptimizerKind::adam;
  std::vector<float> straight = kStart, resumed = kStart;
  ThreadPool pool(1);
  Optimizer a(c, straight.size());
  for (int t = 0; t < 4; ++t) a.step(straight, gradient(t), 0.1f, pool);
  Optimizer first(c, resumed.size());
  for (int t = 0; t < 2; ++t) first.step(resumed, gradient(t), 0.1f, pool);
  Optimizer second(c, resumed.size());
  second.restore(first.steps(), first.state());
  for (int t = 2; t < 4; ++t) second.step(resumed, gradient(t), 0.1f, pool);
  EXPECT_EQ(straight, resumed);
  EXPECT_THROW(second.restore(1, std::vector<float>(3)), Error);
}

// Long buffers take the vectorised loops and several chunks on two threads; the 5-element runs
// above take the scalar tail. Element i of a long run must match element i % 5 of a short one.
std::vector<OptimizerConfig> every_kind() {
  std::vector<OptimizerConfig> configs;
  for (const auto kind :
       {OptimizerKind::sgd, OptimizerKind::momentum, OptimizerKind::adam, OptimizerKind::adamw}) {
    OptimizerConfig c;
    c.kind = kind;
    c.weight_decay = 0.01f;
    configs.push_back(c);
  }
  OptimizerConfig nesterov;
  nesterov.kind = OptimizerKind::momentum;
  nesterov.nesterov = true;
  configs.push_back(nesterov);
  return configs;
}

std::vector<float> tiled(const std::vector<float>& pattern, std::size_t n) {
  std::vector<float> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = pattern[i % pattern.size()];
  return out;
}

constexpr std::size_t kLong = 40'003;  // three chunks and a ragged vector tail

TEST(Optimizer, LongBuffersOnTwoThreadsMatchTheShortRun) {
  for (const auto& c : every_kind()) {
    SCOPED_TRACE(to_string(c.kind) + (c.nesterov ? " nesterov" : ""));
    const std::vector<float> want = run(c, 0.1f, kSteps);
    std::vector<float> theta = tiled(kStart, kLong);
    Optimizer opt(c, kLong);
    ThreadPool pool(2);
    for (int t = 0; t < kSteps; ++t)
      ASSERT_TRUE(opt.step(theta, tiled(gradient(t), kLong), 0.1f, pool));
    for (std::size_t i = 0; i < kLong; ++i)
      ASSERT_NEAR(theta[i], want[i % want.size()], 1e-6f * (1.0f + std::abs(want[i % 5]))) << i;
  }
}

TEST(Optimizer, StepReportsANonFiniteGradientOrUpdate) {
  for (const auto& c : every_kind()) {
    SCOPED_TRACE(to_string(c.kind) + (c.nesterov ? " nesterov" : ""));
    ThreadPool pool(2);
    // A NaN or an infinity anywhere in the gradient: in a vector body and in the scalar tail.
    for (const std::size_t at : {std::size_t{0}, std::size_t{20'001}, kLong - 1}) {
      for (const float bad : {std::nanf(""), INFINITY, -INFINITY}) {
        std::vector<float> theta = tiled(kStart, kLong);
        std::vector<float> g = tiled(gradient(0), kLong);
        g[at] = bad;
        Optimizer opt(c, kLong);
        EXPECT_FALSE(opt.step(theta, g, 0.1f, pool)) << "at " << at << " value " << bad;
      }
    }
    // Finite gradients whose updates grow the weights until they leave the float range: each
    // step's answer must be exactly "every updated weight is finite".
    std::vector<float> theta = tiled(kStart, kLong);
    Optimizer opt(c, kLong);
    const std::vector<float> g = tiled(gradient(0), kLong);
    int steps = 0;
    for (bool finite = true; finite && steps < 40; ++steps) {
      finite = opt.step(theta, g, 3e37f, pool);
      const bool all =
          std::all_of(theta.begin(), theta.end(), [](float x) { return std::isfinite(x); });
      ASSERT_EQ(finite, all) << "step " << steps + 1;
    }
    EXPECT_LT(steps, 40) << "the weights never overflowed";
    EXPECT_GT(steps, 1) << "the first steps stay finite";
    // And a finite step says so.
    Optimizer fine(c, kLong);
    std::vector<float> ok = tiled(kStart, kLong);
    EXPECT_TRUE(fine.step(ok, tiled(gradient(0), kLong), 0.1f, pool));
  }
}

TEST(Optimizer, RejectsBadSettings) {
  OptimizerConfig c;
  c.momentum = 1.0f;
  EXPECT_THROW(Optimizer(c, 3), Error);
  c = {};
  c.weight_decay = -1.0f;
  EXPECT_THROW(Optimizer(c, 3), Error);
  EXPECT_THROW(parse_optimizer("rmsprop"), Error);
}

TEST(Schedule, ConstantStepCosine) {
  Schedule s;
  s.base_lr = 0.2f;
  EXPECT_FLOAT_EQ(s.learning_rate(7), 0.2f);
  s.kind = ScheduleKind::step;
  s.step_epochs = 3;
  s.gamma = 0.5f;
  EXPECT_FLOAT_EQ(s.learning_rate(2), 0.2f);
  EXPECT_FLOAT_EQ(s.learning_rate(3), 0.1f);
  EXPECT_FLOAT_EQ(s.learning_rate(7), 0.05f);
  s.kind = ScheduleKind::cosine;
  s.total_epochs = 10;
  s.min_lr = 0.0f;
  EXPECT_FLOAT_EQ(s.learning_rate(0), 0.2f);
  EXPECT_NEAR(s.learning_rate(5), 0.1f, 1e-6);
  EXPECT_NEAR(s.learning_rate(4), 0.1 * (1 + std::cos(std::numbers::pi * 0.4)), 1e-6);
  s.base_lr = -1.0f;
  EXPECT_THROW(s.validate(), Error);
}

}  // namespace
}  // namespace backprop
