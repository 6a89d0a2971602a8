// The library's floating-point mode (src/float_mode.hpp): subnormals flushed to zero on every
// thread that runs its arithmetic, the caller's own mode restored afterwards, and Adam's
// decaying moments reaching exactly zero instead of subnormals.
#include "core/float_mode.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <vector>

#include "backprop/dataset.hpp"
#include "backprop/matrix.hpp"
#include "backprop/optimizer.hpp"
#include "backprop/preprocessing.hpp"
#include "backprop/thread_pool.hpp"

namespace {

using backprop::FloatModeScope;
using backprop::ThreadPool;

#ifdef BACKPROP_HAS_MXCSR

// 1e-30 * 1e-10 = 1e-40 is subnormal (below FLT_MIN, 1.2e-38): flushed, it is 0.
float tiny_product() {
  volatile float a = 1e-30f;
  volatile float b = 1e-10f;
  return a * b;
}

TEST(FloatMode, TheCallersModeIsUnchangedOutsideTheLibrary) {
  ASSERT_FALSE(FloatModeScope::active_on_this_thread());
  EXPECT_GT(tiny_product(), 0.0f);  // a test thread computes with subnormals, as C++ does
  {
    const FloatModeScope scope;
    EXPECT_TRUE(FloatModeScope::active_on_this_thread());
    EXPECT_EQ(tiny_product(), 0.0f);
    {
      const FloatModeScope nested;
      EXPECT_TRUE(FloatModeScope::active_on_this_thread());
    }
    EXPECT_TRUE(FloatModeScope::active_on_this_thread());  // the inner scope restored its own
  }
  EXPECT_FALSE(FloatModeScope::active_on_this_thread());
  EXPECT_GT(tiny_product(), 0.0f);
}

TEST(FloatMode, EveryTaskRunsFlushedOnEveryThreadCount) {
  for (const int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    for (int rep = 0; rep < 20; ++rep) {
      std::atomic<int> unflushed{0};
      std::atomic<int> ran{0};
      pool.run(64, [&](std::int64_t) {
        if (!FloatModeScope::active_on_this_thread() || tiny_product() != 0.0f) ++unflushed;
        ++ran;
      });
      ASSERT_EQ(ran.load(), 64);
      ASSERT_EQ(unflushed.load(), 0) << threads << " threads";
      ASSERT_FALSE(FloatModeScope::active_on_this_thread()) << "run() left the caller's mode set";
    }
  }
}

// Weights whose gradient turns exactly zero after one step: m <- 0.9 m falls below FLT_MIN
// (1.2e-38) after ~820 steps and would be subnormal until ~970 (0.1 * 0.9^900 = 6.8e-43); the
// other half get a gradient of 1e-20, whose square (1e-40) is subnormal. Adam's state then
// holds exact zeros where it would hold subnormals, and the caller's mode is untouched.
TEST(FloatMode, AdamsDecayingMomentsBecomeZeroNotSubnormal) {
  backprop::OptimizerConfig config;
  config.kind = backprop::OptimizerKind::adam;
  constexpr std::size_t n = 40000;  // several chunks, so both threads update some
  backprop::Optimizer adam(config, n);
  ThreadPool pool(2);
  std::vector<float> params(n, 0.5f);
  std::vector<float> grads(n, 1.0f);
  ASSERT_TRUE(adam.step(params, grads, 1e-3f, pool));
  for (std::size_t i = 0; i < n; ++i) grads[i] = i % 2 == 0 ? 0.0f : 1e-20f;
  for (int step = 0; step < 900; ++step) ASSERT_TRUE(adam.step(params, grads, 1e-3f, pool));
  EXPECT_FALSE(FloatModeScope::active_on_this_thread());
  const auto state = adam.state();  // m (n values), then v (n values)
  ASSERT_EQ(state.size(), 2 * n);
  for (const float s : state) ASSERT_NE(std::fpclassify(s), FP_SUBNORMAL) << s;
  for (std::size_t i = 0; i < n; i += 2) ASSERT_EQ(state[i], 0.0f) << "m[" << i << "]";
  for (std::size_t i = 1; i < n; i += 2) ASSERT_GT(state[i], 0.0f) << "m[" << i << "]";
  for (const float p : params) ASSERT_TRUE(std::isfinite(p));
}

// A CSV-style data set whose values include subnormals: the minibatch X is the same on a
// 1-thread pool (which gathers on the caller without run()) as on a 2-thread pool and without
// a pool, with the subnormals read as zero, and the caller's mode is left as it was.
TEST(FloatMode, GatheringSubnormalInputsGivesTheSameBatchOnAnyThreadCount) {
  backprop::Dataset data;
  data.rows = 64;
  data.features = 40;
  data.values.resize(static_cast<std::size_t>(data.rows * data.features));
  for (std::size_t i = 0; i < data.values.size(); ++i)
    data.values[i] = i % 3 == 0 ? 1e-40f * static_cast<float>(i % 7 + 1) : 0.25f;
  data.labels.assign(static_cast<std::size_t>(data.rows), 0);
  data.class_names = {"a"};
  const auto prep = backprop::Preprocessing::identity(data.features);
  std::vector<std::int64_t> rows(static_cast<std::size_t>(data.rows));
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<std::int64_t>(i);
  const auto gathered = [&](int threads) {
    std::vector<float> x(data.values.size(), -1.0f);
    backprop::MatrixView view(x.data(), data.rows, data.features, data.features);
    if (threads == 0) {
      backprop::gather_batch(view, data, prep, rows);
    } else {
      ThreadPool pool(threads);
      backprop::gather_batch(view, data, prep, rows, pool);
    }
    return x;
  };
  const std::vector<float> serial = gathered(0);
  EXPECT_FALSE(FloatModeScope::active_on_this_thread());
  for (std::size_t i = 0; i < serial.size(); ++i) {
    ASSERT_EQ(serial[i], i % 3 == 0 ? 0.0f : 0.25f) << i;  // (x - 0) * 1 with x read as 0
  }
  EXPECT_EQ(gathered(1), serial);
  EXPECT_EQ(gathered(2), serial);
  EXPECT_FALSE(FloatModeScope::active_on_this_thread());
}

#else

TEST(FloatMode, NotAvailableOnThisArchitecture) {
  GTEST_SKIP() << "no MXCSR: subnormals are computed as such";
}

#endif

}  // namespace
