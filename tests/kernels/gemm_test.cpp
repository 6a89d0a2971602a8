// The fast gemm() against the plain reference on a table of shapes, for every instruction-set
// path this CPU can run; NaN-safety of accumulate=false; views with strides; and bit-identical
// results whatever the number of threads. Then gemm_update() (C += alpha A B, the fused
// optimiser step): against its reference, as one fma of the plain product, and its report of
// non-finite results. Then the block epilogue: once per element, after the product.
#include "kernels/gemm.hpp"
#include "kernels/gemm_kernels.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "backprop/error.hpp"
#include "backprop/thread_pool.hpp"

namespace {

using backprop::ConstMatrixView;
using backprop::MatrixView;
using backprop::ThreadPool;
using backprop::kernels::gemm;
using backprop::kernels::gemm_reference;
using backprop::kernels::gemm_update;
using backprop::kernels::gemm_update_reference;
using backprop::kernels::GemmPath;
using backprop::kernels::Transpose;
using backprop::testing_support::GemmPathGuard;
using backprop::testing_support::supported_gemm_paths;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kSentinel = 12345.0f;  // written into the padding of C; must survive

// A rows x cols matrix inside a buffer whose rows are `pad` floats longer than needed. The
// padding of inputs holds NaN, so reading it would poison the result.
struct Padded {
  std::int64_t rows, cols, stride;
  std::vector<float> data;
  Padded(std::int64_t r, std::int64_t c, std::int64_t pad, float fill)
      : rows(r),
        cols(c),
        stride(c + pad),
        data(static_cast<std::size_t>(std::max<std::int64_t>(r * (c + pad), 1)), fill) {}
  MatrixView view() { return {data.data(), rows, cols, stride}; }
  ConstMatrixView cview() const { return {data.data(), rows, cols, stride}; }
  float& at(std::int64_t i, std::int64_t j) {
    return data[static_cast<std::size_t>(i * stride + j)];
  }
  float at(std::int64_t i, std::int64_t j) const {
    return data[static_cast<std::size_t>(i * stride + j)];
  }
};

Padded random_matrix(std::int64_t r, std::int64_t c, std::int64_t pad, std::mt19937& rng,
                     float pad_value = kNaN) {
  Padded m(r, c, pad, pad_value);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (std::int64_t i = 0; i < r; ++i) {
    for (std::int64_t j = 0; j < c; ++j) m.at(i, j) = dist(rng);
  }
  return m;
}

float max_abs(const Padded& m) {
  float v = 0.0f;
  for (std::int64_t i = 0; i < m.rows; ++i) {
    for (std::int64_t j = 0; j < m.cols; ++j) v = std::max(v, std::fabs(m.at(i, j)));
  }
  return v;
}

struct Case {
  std::int64_t m, n, k;
  Transpose ta, tb;
  std::int64_t pad;  // extra floats per row in A, B and C
  bool accumulate;
};

// Random operands for a case: A and B with NaN in their padding, C with `c_pad` in its.
struct Operands {
  Padded a, b, c0;
};

Operands random_operands(const Case& cs, std::mt19937& rng, float c_pad = kSentinel) {
  const bool ta = cs.ta == Transpose::yes;
  const bool tb = cs.tb == Transpose::yes;
  Padded a = random_matrix(ta ? cs.k : cs.m, ta ? cs.m : cs.k, cs.pad, rng);
  Padded b = random_matrix(tb ? cs.n : cs.k, tb ? cs.k : cs.n, cs.pad, rng);
  Padded c0 = random_matrix(cs.m, cs.n, cs.pad, rng, c_pad);
  return {std::move(a), std::move(b), std::move(c0)};
}

std::string describe(const Case& c) {
  return std::to_string(c.m) + "x" + std::to_string(c.n) + "x" + std::to_string(c.k) + " " +
         (c.ta == Transpose::yes ? "T" : "N") + (c.tb == Transpose::yes ? "T" : "N") +
         " pad=" + std::to_string(c.pad) + (c.accumulate ? " accumulate" : "") +
         " path=" + backprop::kernels::gemm_path_name();
}

// Runs one case through gemm() and gemm_reference() and compares them element by element.
void check_case(const Case& cs, ThreadPool& pool, std::mt19937& rng) {
  auto [a, b, c0] = random_operands(cs, rng);
  if (!cs.accumulate) {
    for (std::int64_t i = 0; i < cs.m; ++i) {
      for (std::int64_t j = 0; j < cs.n; ++j) c0.at(i, j) = kNaN;
    }
  }
  Padded fast = c0;
  Padded ref = c0;
  gemm(fast.view(), a.cview(), cs.ta, b.cview(), cs.tb, cs.accumulate, pool);
  gemm_reference(ref.view(), a.cview(), cs.ta, b.cview(), cs.tb, cs.accumulate);

  const double c0max = cs.accumulate ? static_cast<double>(max_abs(c0)) : 0.0;
  const double tol = 1e-5 * (std::sqrt(static_cast<double>(std::max<std::int64_t>(cs.k, 1))) *
                                 static_cast<double>(max_abs(a)) * static_cast<double>(max_abs(b)) +
                             c0max);
  double worst = 0.0;
  for (std::int64_t i = 0; i < cs.m; ++i) {
    for (std::int64_t j = 0; j < cs.n; ++j) {
      const float f = fast.at(i, j);
      const float r = ref.at(i, j);
      ASSERT_TRUE(std::isfinite(f)) << describe(cs) << " at (" << i << "," << j << ")";
      worst = std::max(worst, std::fabs(static_cast<double>(f) - static_cast<double>(r)));
      ASSERT_LE(std::fabs(static_cast<double>(f) - static_cast<double>(r)), tol)
          << describe(cs) << " at (" << i << "," << j << ")";
    }
    for (std::int64_t j = cs.n; j < cs.n + cs.pad; ++j) {
      ASSERT_EQ(fast.at(i, j), kSentinel) << describe(cs) << ": padding of C written";
    }
  }
  // Something was computed: a product of random operands is not all zero.
  if (cs.k > 0) {
    ASSERT_GT(max_abs(fast), 0.0f) << describe(cs);
  }
}

std::vector<Case> small_cases() {
  std::vector<Case> cases;
  const std::int64_t dims[] = {1, 2, 3, 7, 8, 9, 13, 16, 17, 31, 32, 33, 47, 65};
  const std::int64_t ks[] = {1, 2, 3, 13, 64, 97};
  int variant = 0;
  for (const std::int64_t m : dims) {
    for (const std::int64_t n : dims) {
      for (const std::int64_t k : ks) {
        // Every transpose combination for every shape; strides and accumulate rotate.
        for (const Transpose ta : {Transpose::no, Transpose::yes}) {
          for (const Transpose tb : {Transpose::no, Transpose::yes}) {
            ++variant;
            cases.push_back(
                {m, n, k, ta, tb, variant % 3 == 0 ? 0 : variant % 7, variant % 2 == 0});
          }
        }
      }
    }
  }
  return cases;
}

TEST(Gemm, MatchesReferenceOnSmallAndEdgeShapes) {
  GemmPathGuard guard;
  ThreadPool pool(2);
  std::mt19937 rng(1);
  const std::vector<Case> cases = small_cases();
  for (const GemmPath path : supported_gemm_paths()) {
    backprop::kernels::set_gemm_path(path);
    for (const Case& cs : cases) {
      check_case(cs, pool, rng);
      if (HasFatalFailure()) return;
    }
  }
}

// The products of the training workloads (W1: 784-128-10 at batch 64; W2: 784-512-256-10 at
// batch 128; inference at batch 1) plus large odd shapes (the 3001-row ones have an A beyond
// 1 MB and few columns, where the kernels prefetch A; the last three read a B whose rows are
// 1 KB or more apart in place, so the AVX-512 kernel copies its panels, with a partial last
// panel and a partial last row tile), each with and without stride and accumulate.
std::vector<Case> workload_cases() {
  constexpr Transpose N = Transpose::no;
  constexpr Transpose T = Transpose::yes;
  const Case base[] = {
      {64, 128, 784, N, N, 0, false},  {64, 10, 128, N, N, 0, false},
      {128, 10, 64, T, N, 0, false},   {64, 128, 10, N, T, 0, false},
      {784, 128, 64, T, N, 0, false},  {128, 512, 784, N, N, 0, false},
      {128, 256, 512, N, N, 0, false}, {128, 10, 256, N, N, 0, false},
      {256, 10, 128, T, N, 0, false},  {128, 256, 10, N, T, 0, false},
      {512, 256, 128, T, N, 0, false}, {128, 512, 256, N, T, 0, false},
      {784, 512, 128, T, N, 0, false}, {1, 128, 784, N, N, 0, false},
      {1, 10, 128, N, N, 0, false},    {2, 128, 784, N, N, 0, false},
      {101, 103, 107, N, N, 0, false}, {101, 103, 107, T, T, 0, false},
      {257, 131, 67, T, N, 0, false},  {67, 257, 131, N, T, 0, false},
      {1, 1000, 300, N, T, 0, false},  {1000, 1, 300, T, N, 0, false},
      {3, 700, 200, N, N, 0, false},   {3001, 17, 101, N, N, 0, false},
      {3001, 40, 101, N, N, 0, false}, {37, 300, 50, N, N, 0, false},
      {45, 270, 33, T, N, 0, false},   {9, 257, 20, N, N, 0, false},
  };
  std::vector<Case> cases;
  for (const Case& c : base) {
    cases.push_back(c);
    Case strided = c;
    strided.pad = 5;
    strided.accumulate = true;
    cases.push_back(strided);
  }
  return cases;
}

TEST(Gemm, MatchesReferenceOnWorkloadShapes) {
  GemmPathGuard guard;
  ThreadPool pool(2);
  std::mt19937 rng(2);
  for (const GemmPath path : supported_gemm_paths()) {
    backprop::kernels::set_gemm_path(path);
    for (const Case& cs : workload_cases()) {
      check_case(cs, pool, rng);
      if (HasFatalFailure()) return;
    }
  }
}

// The cases above that are meant to reach the AVX-512 kernel's panel copy do: B read in place
// with rows at least kCopyPanelMinStride floats apart, blocks of more than one row tile.
TEST(Gemm, WorkloadShapesCoverThePanelCopy) {
  using backprop::kernels::detail::copies_b_panels;
  using backprop::kernels::detail::Product;
  int copied = 0;
  for (const Case& cs : workload_cases()) {
    Product g;
    g.m = cs.m;
    g.n = cs.n;
    g.k = cs.k;
    g.b_cs = cs.tb == Transpose::yes ? cs.k + cs.pad : 1;
    g.b_ks = cs.tb == Transpose::yes ? 1 : cs.n + cs.pad;
    copied += copies_b_panels(g, cs.m) ? 1 : 0;
  }
  // W2's 784x512 and 256-wide layers (NN forward, TN weight gradients) and the three odd shapes,
  // each with and without padding.
  EXPECT_GE(copied, 2 * 7);
  Product w1_forward;  // 64 x 784 times 784 x 128: rows 512 bytes apart, read in place
  w1_forward.m = 64;
  w1_forward.n = 128;
  w1_forward.k = 784;
  w1_forward.b_cs = 1;
  w1_forward.b_ks = 128;
  EXPECT_FALSE(copies_b_panels(w1_forward, 64));
}

TEST(Gemm, KZeroWritesZerosOrLeavesC) {
  ThreadPool pool(2);
  std::vector<float> a(1), b(1);
  std::vector<float> c(12, kNaN);
  MatrixView cv(c.data(), 3, 4);
  gemm(cv, ConstMatrixView(a.data(), 3, 0), Transpose::no, ConstMatrixView(b.data(), 0, 4),
       Transpose::no, false, pool);
  for (const float v : c) EXPECT_EQ(v, 0.0f);
  std::fill(c.begin(), c.end(), 2.5f);
  gemm(cv, ConstMatrixView(a.data(), 0, 3), Transpose::yes, ConstMatrixView(b.data(), 4, 0),
       Transpose::yes, true, pool);
  for (const float v : c) EXPECT_EQ(v, 2.5f);
}

TEST(Gemm, EmptyOutputIsANoOp) {
  ThreadPool pool(2);
  std::vector<float> a(8, 1.0f), b(8, 1.0f), c(1, kSentinel);
  gemm(MatrixView(c.data(), 0, 4), ConstMatrixView(a.data(), 0, 2), Transpose::no,
       ConstMatrixView(b.data(), 2, 4), Transpose::no, false, pool);
  gemm(MatrixView(c.data(), 4, 0), ConstMatrixView(a.data(), 4, 2), Transpose::no,
       ConstMatrixView(b.data(), 2, 0), Transpose::no, false, pool);
  EXPECT_EQ(c[0], kSentinel);
}

TEST(Gemm, MismatchedShapesThrow) {
  ThreadPool pool(1);
  std::vector<float> a(64), b(64), c(64);
  EXPECT_THROW(gemm(MatrixView(c.data(), 2, 3), ConstMatrixView(a.data(), 2, 4), Transpose::no,
                    ConstMatrixView(b.data(), 5, 3), Transpose::no, false, pool),
               backprop::Error);
  EXPECT_THROW(gemm(MatrixView(c.data(), 2, 3), ConstMatrixView(a.data(), 2, 4), Transpose::yes,
                    ConstMatrixView(b.data(), 4, 3), Transpose::no, false, pool),
               backprop::Error);
  EXPECT_THROW(gemm(MatrixView(c.data(), 2, 3), ConstMatrixView(a.data(), 2, 4), Transpose::no,
                    ConstMatrixView(b.data(), 4, 3), Transpose::yes, false, pool),
               backprop::Error);
  // A stride below the width is not a matrix.
  EXPECT_THROW(gemm(MatrixView(c.data(), 2, 3, 2), ConstMatrixView(a.data(), 2, 4), Transpose::no,
                    ConstMatrixView(b.data(), 4, 3), Transpose::no, false, pool),
               backprop::Error);
}

// Runs a case on pools of 1, 2 and 3 threads and requires the same bits from each, for every
// path. Shapes are large enough that gemm() splits them into several tasks.
TEST(Gemm, BitIdenticalForAnyThreadCount) {
  GemmPathGuard guard;
  ThreadPool pool1(1), pool2(2), pool3(3);
  std::mt19937 rng(3);
  for (const GemmPath path : supported_gemm_paths()) {
    backprop::kernels::set_gemm_path(path);
    for (const Case& cs : workload_cases()) {
      const auto [a, b, c0] = random_operands(cs, rng);
      Padded c1 = c0, c2 = c0, c3 = c0;
      gemm(c1.view(), a.cview(), cs.ta, b.cview(), cs.tb, cs.accumulate, pool1);
      for (int rep = 0; rep < 3; ++rep) {
        c2 = c0;
        c3 = c0;
        gemm(c2.view(), a.cview(), cs.ta, b.cview(), cs.tb, cs.accumulate, pool2);
        gemm(c3.view(), a.cview(), cs.ta, b.cview(), cs.tb, cs.accumulate, pool3);
        ASSERT_EQ(0, std::memcmp(c1.data.data(), c2.data.data(), c1.data.size() * sizeof(float)))
            << describe(cs) << " 1 vs 2 threads";
        ASSERT_EQ(0, std::memcmp(c1.data.data(), c3.data.data(), c1.data.size() * sizeof(float)))
            << describe(cs) << " 1 vs 3 threads";
      }
      ASSERT_GT(max_abs(c1), 0.0f);
    }
  }
}

// The AVX2 and AVX-512 kernels do the same arithmetic per element (one FMA chain over k, then
// + C), so they agree bit for bit; a model trained on one reproduces on the other.
TEST(Gemm, Avx2AndAvx512PathsAgreeBitForBit) {
  if (!backprop::kernels::gemm_path_supported(GemmPath::avx512)) GTEST_SKIP() << "no AVX-512";
  GemmPathGuard guard;
  ThreadPool pool(2);
  std::mt19937 rng(4);
  for (const Case& cs : workload_cases()) {
    const auto [a, b, c0] = random_operands(cs, rng);
    Padded x = c0, y = c0;
    backprop::kernels::set_gemm_path(GemmPath::avx2);
    gemm(x.view(), a.cview(), cs.ta, b.cview(), cs.tb, cs.accumulate, pool);
    backprop::kernels::set_gemm_path(GemmPath::avx512);
    gemm(y.view(), a.cview(), cs.ta, b.cview(), cs.tb, cs.accumulate, pool);
    ASSERT_EQ(0, std::memcmp(x.data.data(), y.data.data(), x.data.size() * sizeof(float)))
        << describe(cs);
  }
}

TEST(Gemm, ReportsAndSelectsPaths) {
  GemmPathGuard guard;
  const std::string name = backprop::kernels::gemm_path_name();
  EXPECT_TRUE(name == "avx512" || name == "avx2" || name == "portable") << name;
  EXPECT_TRUE(backprop::kernels::gemm_path_supported(GemmPath::portable));
  for (const GemmPath p : {GemmPath::portable, GemmPath::avx2, GemmPath::avx512}) {
    if (backprop::kernels::gemm_path_supported(p)) {
      backprop::kernels::set_gemm_path(p);
      EXPECT_EQ(backprop::kernels::gemm_path(), p);
      EXPECT_STREQ(backprop::kernels::gemm_path_name(), backprop::kernels::gemm_path_name(p));
    } else {
      EXPECT_THROW(backprop::kernels::set_gemm_path(p), backprop::Error);
    }
  }
}

// ---- gemm_update: C += alpha op(A) op(B) --------------------------------------------------------

constexpr float kAlpha = -0.37f;  // an optimiser's -lr: not 1, so the scaling is exercised

// Every case of both tables, with C holding random values (it is always read).
std::vector<Case> update_cases() {
  std::vector<Case> cases = small_cases();
  const std::vector<Case> workload = workload_cases();
  cases.insert(cases.end(), workload.begin(), workload.end());
  return cases;
}

// The fast update against the double-precision reference, padding of C untouched.
TEST(GemmUpdate, MatchesReferenceOnEveryShape) {
  GemmPathGuard guard;
  ThreadPool pool(2);
  std::mt19937 rng(5);
  for (const GemmPath path : supported_gemm_paths()) {
    backprop::kernels::set_gemm_path(path);
    for (const Case& cs : update_cases()) {
      const auto [a, b, c0] = random_operands(cs, rng);
      Padded fast = c0, ref = c0;
      ASSERT_TRUE(gemm_update(fast.view(), kAlpha, a.cview(), cs.ta, b.cview(), cs.tb, pool))
          << describe(cs) << ": finite result reported as not finite";
      gemm_update_reference(ref.view(), kAlpha, a.cview(), cs.ta, b.cview(), cs.tb);
      const double tol =
          1e-5 * (std::fabs(static_cast<double>(kAlpha)) * std::sqrt(static_cast<double>(cs.k)) *
                      static_cast<double>(max_abs(a) * max_abs(b)) +
                  static_cast<double>(max_abs(c0)));
      for (std::int64_t i = 0; i < cs.m; ++i) {
        for (std::int64_t j = 0; j < cs.n; ++j)
          ASSERT_LE(std::fabs(static_cast<double>(fast.at(i, j) - ref.at(i, j))), tol)
              << describe(cs) << " at (" << i << "," << j << ")";
        for (std::int64_t j = cs.n; j < cs.n + cs.pad; ++j)
          ASSERT_EQ(fast.at(i, j), kSentinel) << describe(cs) << ": padding of C written";
      }
      // The update moved C (a product of random operands is not all zero).
      ASSERT_NE(0, std::memcmp(fast.data.data(), c0.data.data(), c0.data.size() * sizeof(float)))
          << describe(cs);
    }
  }
}

// Each element is fma(alpha, acc, C) with acc exactly what gemm() stores for the plain product:
// what makes the SGD step fused into the backward pass give the optimiser loop's bits.
TEST(GemmUpdate, IsOneFmaOfThePlainProductOnAnyThreadCount) {
  GemmPathGuard guard;
  ThreadPool pool1(1), pool2(2), pool3(3);
  std::mt19937 rng(6);
  for (const GemmPath path : supported_gemm_paths()) {
    backprop::kernels::set_gemm_path(path);
    for (const Case& cs : workload_cases()) {
      const auto [a, b, c0] = random_operands(cs, rng);
      Padded product = c0;
      gemm(product.view(), a.cview(), cs.ta, b.cview(), cs.tb, false, pool1);
      Padded want = c0;
      for (std::int64_t i = 0; i < cs.m; ++i)
        for (std::int64_t j = 0; j < cs.n; ++j)
          want.at(i, j) = std::fma(kAlpha, product.at(i, j), c0.at(i, j));
      for (ThreadPool* pool : {&pool1, &pool2, &pool3}) {
        Padded got = c0;
        ASSERT_TRUE(gemm_update(got.view(), kAlpha, a.cview(), cs.ta, b.cview(), cs.tb, *pool));
        ASSERT_EQ(0,
                  std::memcmp(want.data.data(), got.data.data(), want.data.size() * sizeof(float)))
            << describe(cs) << " on " << pool->size() << " threads";
      }
    }
  }
}

// An inf or NaN anywhere in the updated block (first or last row, a full vector or the partial
// last one) is reported, whatever its cause; NaN in the padding around the operands is not.
TEST(GemmUpdate, ReportsANonFiniteResultWhereverItIs) {
  GemmPathGuard guard;
  ThreadPool pool1(1), pool2(2);
  std::mt19937 rng(7);
  const float inf = std::numeric_limits<float>::infinity();
  const Case shapes[] = {{784, 128, 64, Transpose::yes, Transpose::no, 3, true},
                         {37, 21, 5, Transpose::yes, Transpose::no, 2, true},
                         {9, 50, 7, Transpose::no, Transpose::yes, 1, true},
                         {1, 70, 3, Transpose::no, Transpose::no, 0, true}};
  for (const GemmPath path : supported_gemm_paths()) {
    backprop::kernels::set_gemm_path(path);
    for (ThreadPool* pool : {&pool1, &pool2}) {
      for (const Case& cs : shapes) {
        // NaN in C's padding: never read, so never reported.
        const auto [a, b, c0] = random_operands(cs, rng, kNaN);
        const bool ta = cs.ta == Transpose::yes;
        {
          Padded c = c0;
          EXPECT_TRUE(gemm_update(c.view(), kAlpha, a.cview(), cs.ta, b.cview(), cs.tb, *pool))
              << describe(cs);
        }
        const std::pair<std::int64_t, std::int64_t> spots[] = {
            {0, 0}, {cs.m - 1, cs.n - 1}, {cs.m / 2, cs.n / 3}, {cs.m - 1, 0}};
        for (const auto& [i, j] : spots) {
          for (const float bad : {inf, -inf, kNaN}) {
            Padded c = c0;
            c.at(i, j) = bad;  // a weight that already was not finite
            EXPECT_FALSE(gemm_update(c.view(), kAlpha, a.cview(), cs.ta, b.cview(), cs.tb, *pool))
                << describe(cs) << " C(" << i << "," << j << ") = " << bad;
          }
          Padded bad_a = a;  // a NaN in the operands (a gradient that was not finite)
          bad_a.at(ta ? 0 : i, ta ? i : 0) = kNaN;
          Padded c = c0;
          EXPECT_FALSE(gemm_update(c.view(), kAlpha, bad_a.cview(), cs.ta, b.cview(), cs.tb, *pool))
              << describe(cs) << " NaN in row " << i << " of op(A)";
        }
        // Finite operands whose scaled product overflows: 1e30 * b * 1e30 for b of order 1.
        Padded big_a = a;
        big_a.at(0, 0) = 1e30f;
        Padded c = c0;
        EXPECT_FALSE(gemm_update(c.view(), -1e30f, big_a.cview(), cs.ta, b.cview(), cs.tb, *pool))
            << describe(cs) << " overflow";
      }
    }
  }
}

TEST(GemmUpdate, KZeroLeavesCAndChecksIt) {
  ThreadPool pool(2);
  std::vector<float> a(1), b(1);
  std::vector<float> c(12, 2.5f);
  const MatrixView cv(c.data(), 3, 4);
  EXPECT_TRUE(gemm_update(cv, kAlpha, ConstMatrixView(a.data(), 3, 0), Transpose::no,
                          ConstMatrixView(b.data(), 0, 4), Transpose::no, pool));
  for (const float v : c) EXPECT_EQ(v, 2.5f);
  c[5] = kNaN;
  EXPECT_FALSE(gemm_update(cv, kAlpha, ConstMatrixView(a.data(), 3, 0), Transpose::no,
                           ConstMatrixView(b.data(), 0, 4), Transpose::no, pool));
}

TEST(GemmUpdate, MismatchedShapesThrow) {
  ThreadPool pool(1);
  std::vector<float> a(64), b(64), c(64);
  EXPECT_THROW(gemm_update(MatrixView(c.data(), 2, 3), kAlpha, ConstMatrixView(a.data(), 2, 4),
                           Transpose::no, ConstMatrixView(b.data(), 5, 3), Transpose::no, pool),
               backprop::Error);
}

// ---- gemm with a BlockEpilogue ----------------------------------------------------------------

// Adds 1 + the column index / 1000 to every element of each block it is given, and checks that
// the block it is handed is where (row, col) says in C.
class AddOne final : public backprop::kernels::BlockEpilogue {
 public:
  AddOne(const float* c, std::int64_t ldc, std::int64_t m, std::int64_t n)
      : c_(c), ldc_(ldc), m_(m), n_(n) {}
  void operator()(MatrixView block, std::int64_t row, std::int64_t col) const override {
    if (block.data != c_ + row * ldc_ + col || block.stride != ldc_ || row < 0 || col < 0 ||
        row + block.rows > m_ || col + block.cols > n_ || block.rows < 1 || block.cols < 1)
      misplaced_.store(true);
    for (std::int64_t i = 0; i < block.rows; ++i)
      for (std::int64_t j = 0; j < block.cols; ++j)
        block(i, j) += 1.0f + static_cast<float>(col + j) / 1000.0f;
  }
  bool misplaced() const { return misplaced_.load(); }

 private:
  const float* c_;
  std::int64_t ldc_, m_, n_;
  mutable std::atomic<bool> misplaced_{false};
};

// The epilogue sees every element of C exactly once, after the product: the result equals
// gemm() followed by the same pass over all of C, bit for bit, on every path and thread count.
TEST(GemmEpilogue, RunsOnceOnEveryElementAfterTheProduct) {
  GemmPathGuard guard;
  ThreadPool pool1(1), pool2(2), pool3(3);
  std::mt19937 rng(8);
  for (const GemmPath path : supported_gemm_paths()) {
    backprop::kernels::set_gemm_path(path);
    for (const Case& cs : update_cases()) {
      const auto [a, b, c0] = random_operands(cs, rng);
      Padded want = c0;
      gemm(want.view(), a.cview(), cs.ta, b.cview(), cs.tb, cs.accumulate, pool1);
      for (std::int64_t i = 0; i < cs.m; ++i)
        for (std::int64_t j = 0; j < cs.n; ++j)
          want.at(i, j) += 1.0f + static_cast<float>(j) / 1000.0f;
      for (ThreadPool* pool : {&pool1, &pool2, &pool3}) {
        Padded got = c0;
        const AddOne epilogue(got.data.data(), got.stride, cs.m, cs.n);
        gemm(got.view(), a.cview(), cs.ta, b.cview(), cs.tb, cs.accumulate, *pool, &epilogue);
        ASSERT_FALSE(epilogue.misplaced()) << describe(cs);
        ASSERT_EQ(0,
                  std::memcmp(want.data.data(), got.data.data(), want.data.size() * sizeof(float)))
            << describe(cs) << " on " << pool->size() << " threads";
      }
    }
  }
}

TEST(GemmEpilogue, KZeroStillRunsIt) {
  ThreadPool pool(2);
  std::vector<float> a(1), b(1);
  std::vector<float> c(12, kNaN);
  const MatrixView cv(c.data(), 3, 4);
  const AddOne epilogue(c.data(), 4, 3, 4);
  gemm(cv, ConstMatrixView(a.data(), 3, 0), Transpose::no, ConstMatrixView(b.data(), 0, 4),
       Transpose::no, false, pool, &epilogue);
  for (std::int64_t i = 0; i < 3; ++i)
    for (std::int64_t j = 0; j < 4; ++j)
      EXPECT_EQ(cv(i, j), 1.0f + static_cast<float>(j) / 1000.0f);
}

TEST(Gemm, MeasuresAPositiveFmaPeak) {
  const double one = backprop::kernels::measure_fma_peak_gflops(1, 0.02);
  EXPECT_GT(one, 0.1);
  EXPECT_LT(one, 1e5);
}

}  // namespace
