// The dense layer's passes fused into its products (kernels::BlockEpilogue) against the same
// passes run separately over the whole matrix:
//   forward   H = f(X W + b)        against gemm, then z += b, then activation_forward
//   backward  dZ = (D W^T) * f'(X)  against gemm, then activation_backward
// They must agree bit for bit for every activation, GEMM path and thread count, on shapes whose
// blocks end inside a vector. The same for a layer summed in two halves of its k sum
// (ops::dense_forward_halves, the input halves of src/nn/fast/):
//   H = f((X[:, :k0] W[:k0] + X[:, k0:] W[k0:]) + b)  against two gemm calls and the sum
// and its SGD update in two row halves against the update in one piece.
#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "kernels/gemm.hpp"
#include "ops/ops.hpp"
#include "test_support.hpp"

namespace backprop {
namespace {

using kernels::GemmPath;
using kernels::Transpose;
using testing_support::GemmPathGuard;
using testing_support::supported_gemm_paths;

struct Shape {
  std::int64_t batch, in, out;
};

// W1's and W2's layers, batch-1 inference, and odd sizes.
constexpr Shape kShapes[] = {{64, 784, 128}, {64, 128, 10}, {128, 512, 256}, {1, 784, 128},
                             {2, 33, 70},    {37, 19, 100}, {130, 7, 33}};

std::vector<float> random_values(std::int64_t n, std::mt19937& rng, float scale) {
  std::uniform_real_distribution<float> dist(-scale, scale);
  std::vector<float> v(static_cast<std::size_t>(n));
  for (float& x : v) x = dist(rng);
  return v;
}

constexpr Activation kActivations[] = {Activation::sigmoid, Activation::tanh, Activation::relu,
                                       Activation::leaky_relu, Activation::linear};
constexpr float kSlope = 0.01f;

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST(DenseFusion, ForwardEqualsProductThenBiasThenActivation) {
  GemmPathGuard guard;
  std::mt19937 rng(1);
  for (const GemmPath path : supported_gemm_paths()) {
    kernels::set_gemm_path(path);
    for (const int threads : {1, 2}) {
      ThreadPool pool(threads);
      for (const Shape& s : kShapes) {
        const auto x = random_values(s.batch * s.in, rng, 1.0f);
        const auto w = random_values(s.in * s.out, rng, 0.3f);
        const auto b = random_values(s.out, rng, 0.5f);
        const View<const float> xv(x.data(), s.batch, s.in), wv(w.data(), s.in, s.out);
        for (const Activation f : kActivations) {
          SCOPED_TRACE(testing::Message()
                       << s.batch << "x" << s.in << "x" << s.out << " " << to_string(f) << " "
                       << kernels::gemm_path_name() << " threads " << threads);
          std::vector<float> want(static_cast<std::size_t>(s.batch * s.out));
          const View<float> wantv(want.data(), s.batch, s.out);
          kernels::gemm(wantv, xv, Transpose::no, wv, Transpose::no, false, pool);
          for (std::int64_t i = 0; i < s.batch; ++i)
            for (std::int64_t j = 0; j < s.out; ++j) wantv(i, j) += b[static_cast<std::size_t>(j)];
          ops::activation_forward<float>(wantv, wantv, f, kSlope);

          std::vector<float> got(want.size());
          ops::dense_forward<float>(View<float>(got.data(), s.batch, s.out), xv, wv, b, f, kSlope,
                                    pool);
          ASSERT_TRUE(same_bits(want, got));
        }
      }
    }
  }
}

TEST(DenseFusion, InputGradientEqualsProductThenActivationDerivative) {
  GemmPathGuard guard;
  std::mt19937 rng(2);
  for (const GemmPath path : supported_gemm_paths()) {
    kernels::set_gemm_path(path);
    for (const int threads : {1, 2}) {
      ThreadPool pool(threads);
      for (const Shape& s : kShapes) {
        // x plays H = f(Z) of the previous layer: values in (0, 1) suit every f' formula, and
        // some at 0 or below exercise ReLU's mask.
        auto x = random_values(s.batch * s.in, rng, 1.0f);
        const auto w = random_values(s.in * s.out, rng, 0.3f);
        const auto d = random_values(s.batch * s.out, rng, 0.1f);
        const View<const float> xv(x.data(), s.batch, s.in), wv(w.data(), s.in, s.out),
            dv(d.data(), s.batch, s.out);
        std::vector<float> dw(w.size()), db(static_cast<std::size_t>(s.out));
        for (const Activation f : kActivations) {
          SCOPED_TRACE(testing::Message()
                       << s.batch << "x" << s.in << "x" << s.out << " " << to_string(f) << " "
                       << kernels::gemm_path_name() << " threads " << threads);
          std::vector<float> want(x.size());
          const View<float> wantv(want.data(), s.batch, s.in);
          kernels::gemm(wantv, dv, Transpose::no, wv, Transpose::yes, false, pool);
          ops::activation_backward<float>(wantv, wantv, xv, f, kSlope);

          std::vector<float> got(x.size());
          ops::dense_backward<float>(View<float>(got.data(), s.batch, s.in),
                                     View<float>(dw.data(), s.in, s.out), db, dv, xv, wv, f, kSlope,
                                     pool);
          ASSERT_TRUE(same_bits(want, got));
          // The SGD variant returns the same dX (computed before W moves).
          std::vector<float> w_copy(w), b_copy(db.size()), got_sgd(x.size());
          ops::dense_backward_sgd<float>(View<float>(got_sgd.data(), s.batch, s.in),
                                         View<float>(w_copy.data(), s.in, s.out), b_copy, db, dv,
                                         xv, f, kSlope, 0.1f, pool);
          ASSERT_TRUE(same_bits(want, got_sgd));
        }
      }
    }
  }
}

// Shapes of wide first layers, their k sum cut in two at a cache line near its middle.
constexpr Shape kSplitShapes[] = {{64, 784, 128}, {32, 784, 128}, {1, 512, 7}, {5, 600, 20}};
constexpr std::int64_t half_column(std::int64_t in) { return (in / 2 + 15) / 16 * 16; }

TEST(DenseFusion, SplitForwardEqualsTwoPartialProductsThenSum) {
  GemmPathGuard guard;
  std::mt19937 rng(3);
  for (const GemmPath path : supported_gemm_paths()) {
    kernels::set_gemm_path(path);
    for (const int threads : {1, 2, 3}) {
      ThreadPool pool(threads);
      for (const Shape& s : kSplitShapes) {
        const std::int64_t k0 = half_column(s.in);
        ASSERT_GT(k0, 0);
        ASSERT_LT(k0, s.in);
        const auto x = random_values(s.batch * s.in, rng, 1.0f);
        const auto w = random_values(s.in * s.out, rng, 0.1f);
        const auto b = random_values(s.out, rng, 0.5f);
        const View<const float> xv(x.data(), s.batch, s.in), wv(w.data(), s.in, s.out);
        for (const Activation f : {Activation::sigmoid, Activation::relu, Activation::linear}) {
          SCOPED_TRACE(testing::Message()
                       << s.batch << "x" << s.in << "x" << s.out << " " << to_string(f) << " "
                       << kernels::gemm_path_name() << " threads " << threads);
          const auto n = static_cast<std::size_t>(s.batch * s.out);
          std::vector<float> p0(n), p1(n), want(n);
          kernels::gemm(View<float>(p0.data(), s.batch, s.out),
                        View<const float>(x.data(), s.batch, k0, s.in), Transpose::no,
                        View<const float>(w.data(), k0, s.out, s.out), Transpose::no, false, pool);
          kernels::gemm(View<float>(p1.data(), s.batch, s.out),
                        View<const float>(x.data() + k0, s.batch, s.in - k0, s.in), Transpose::no,
                        View<const float>(w.data() + k0 * s.out, s.in - k0, s.out, s.out),
                        Transpose::no, false, pool);
          for (std::size_t i = 0; i < n; ++i)
            want[i] = (p0[i] + p1[i]) + b[i % static_cast<std::size_t>(s.out)];
          const View<float> wantv(want.data(), s.batch, s.out);
          ops::activation_forward<float>(wantv, wantv, f, kSlope);

          std::vector<float> got(n), scratch0(n), scratch1(n);
          ops::dense_forward_halves<float>(
              View<float>(got.data(), s.batch, s.out),
              View<const float>(x.data(), s.batch, k0, s.in),
              View<const float>(x.data() + k0, s.batch, s.in - k0, s.in), wv, b, f, kSlope,
              View<float>(scratch0.data(), s.batch, s.out),
              View<float>(scratch1.data(), s.batch, s.out), pool);
          ASSERT_TRUE(same_bits(want, got));
          // And it is the layer's product: within rounding of a sum in double.
          if (f == Activation::linear) {
            for (std::int64_t i = 0; i < s.batch; ++i) {
              for (std::int64_t j = 0; j < s.out; ++j) {
                auto exact = static_cast<double>(b[static_cast<std::size_t>(j)]);
                for (std::int64_t k = 0; k < s.in; ++k)
                  exact += static_cast<double>(xv(i, k)) * static_cast<double>(wv(k, j));
                ASSERT_NEAR(got[static_cast<std::size_t>(i * s.out + j)], exact, 1e-4);
              }
            }
          }
        }
      }
    }
  }
}

TEST(DenseFusion, SgdUpdateInRowHalvesEqualsUpdateInOnePiece) {
  GemmPathGuard guard;
  std::mt19937 rng(4);
  for (const GemmPath path : supported_gemm_paths()) {
    kernels::set_gemm_path(path);
    for (const int threads : {1, 2, 3}) {
      ThreadPool pool(threads);
      for (const Shape& s : kSplitShapes) {
        SCOPED_TRACE(testing::Message() << s.batch << "x" << s.in << "x" << s.out << " "
                                        << kernels::gemm_path_name() << " threads " << threads);
        const std::int64_t k0 = half_column(s.in);
        const auto x = random_values(s.batch * s.in, rng, 1.0f);
        const auto w = random_values(s.in * s.out, rng, 0.3f);
        const auto b = random_values(s.out, rng, 0.5f);
        const auto d = random_values(s.batch * s.out, rng, 0.1f);
        const View<const float> xv(x.data(), s.batch, s.in), dv(d.data(), s.batch, s.out);
        std::vector<float> w_whole(w), b_whole(b), w_halves(w), b_halves(b);
        std::vector<float> db_whole(b.size()), db_halves(b.size());
        const bool finite_whole = ops::dense_backward_sgd<float>(
            View<float>(), View<float>(w_whole.data(), s.in, s.out), b_whole, db_whole, dv, xv,
            Activation::linear, kSlope, 0.1f, pool);
        const View<const float> x_left(x.data(), s.batch, k0, s.in);
        const View<const float> x_right(x.data() + k0, s.batch, s.in - k0, s.in);
        const bool finite_halves =
            ops::dense_weight_sgd_halves<float>(View<float>(w_halves.data(), s.in, s.out), dv,
                                                x_left, x_right, 0.1f, pool) &&
            ops::dense_bias_sgd<float>(b_halves, db_halves, dv, 0.1f, pool);
        EXPECT_TRUE(finite_whole);
        EXPECT_TRUE(finite_halves);
        EXPECT_FALSE(same_bits(w, w_halves));  // the step moved W
        ASSERT_TRUE(same_bits(w_whole, w_halves));
        ASSERT_TRUE(same_bits(b_whole, b_halves));
        // A NaN in the second half's rows is reported.
        std::vector<float> w_nan(w);
        w_nan[static_cast<std::size_t>((s.in - 1) * s.out)] =
            std::numeric_limits<float>::quiet_NaN();
        EXPECT_FALSE(ops::dense_weight_sgd_halves<float>(View<float>(w_nan.data(), s.in, s.out), dv,
                                                         x_left, x_right, 0.1f, pool));
      }
    }
  }
}

}  // namespace
}  // namespace backprop
