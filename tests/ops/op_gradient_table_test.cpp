// One table of op cases, in the manner of ggml's tests/test-backend-ops.cpp: every op of
// src/ops/ops.hpp over several shapes, each row with its own tolerance.
//   gradient rows   the op's backward pass in double against central differences of a scalar
//                   loss built from its forward pass: L = sum(G * op(inputs)) for a fixed random
//                   upstream gradient G, or the op's own loss (softmax + cross-entropy, MSE);
//   float rows      the float fast paths (the dense layer's fused epilogues: bias + activation
//                   in the forward product, f' in the input-gradient product; the fused SGD
//                   update) against the same op run in double on the same inputs, within a
//                   bound that scales with the sum of |terms| each output adds up;
//   extreme rows    softmax + cross-entropy on logits of +-1e4: finite, and exactly
//                   max(z) - z[label] in float and double.
// A wrong backward formula moves its gradient by O(1) of its size; the tolerances are 1e-6 or
// tighter relative to that.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "backprop/architecture.hpp"
#include "backprop/matrix.hpp"
#include "backprop/thread_pool.hpp"
#include "ops/ops.hpp"

namespace backprop {
namespace {

constexpr double kLeakySlope = static_cast<double>(0.01f);  // the same slope in float and double
constexpr double kFloatUnit = 0x1.0p-24;                    // float's unit roundoff

// A dense matrix of doubles, row-major.
struct Mat {
  std::int64_t rows = 0, cols = 0;
  std::vector<double> v;
  Mat() = default;
  Mat(std::int64_t r, std::int64_t c) : rows(r), cols(c), v(static_cast<std::size_t>(r * c)) {}
  View<double> view() { return {v.data(), rows, cols}; }
  View<const double> cview() const { return {v.data(), rows, cols}; }
  double& at(std::int64_t i, std::int64_t j) { return v[static_cast<std::size_t>(i * cols + j)]; }
  double at(std::int64_t i, std::int64_t j) const {
    return v[static_cast<std::size_t>(i * cols + j)];
  }
};

// Values uniform in [-scale, scale], at least `margin` away from 0 (kinks of ReLU sit there),
// rounded to float so that the float and double runs of an op see the same inputs.
Mat random_mat(std::int64_t rows, std::int64_t cols, std::mt19937& rng, double scale,
               double margin = 0.0) {
  std::uniform_real_distribution<double> dist(-scale, scale);
  Mat m(rows, cols);
  for (double& x : m.v) {
    x = dist(rng);
    if (std::abs(x) < margin) x = std::copysign(margin + std::abs(x), x);
    x = static_cast<double>(static_cast<float>(x));
  }
  return m;
}

double sum_product(const Mat& g, const Mat& out) {
  double s = 0;
  for (std::size_t i = 0; i < g.v.size(); ++i) s += g.v[i] * out.v[i];
  return s;
}

std::vector<float> to_float(const Mat& m) { return {m.v.begin(), m.v.end()}; }

Mat activate(const Mat& z, Activation f) {
  Mat h(z.rows, z.cols);
  ops::activation_forward<double>(h.view(), z.cview(), f, kLeakySlope);
  return h;
}

// ---- The cases ------------------------------------------------------------------------------

class OpCase {
 public:
  explicit OpCase(std::string name) : name_(std::move(name)) {}
  virtual ~OpCase() = default;
  const std::string& name() const { return name_; }
  virtual void check() = 0;

 private:
  std::string name_;
};

// dL/d(input) from the op's backward pass against (L(x + h) - L(x - h)) / 2h for every entry of
// every input. An entry's error is relative to the larger of its two values, or to 1e-3 of the
// input's largest gradient for entries near 0 (where only the differences' rounding is left).
class GradientCase : public OpCase {
 public:
  // `step` is h: small where the loss curves, large where it is piecewise linear (saturated
  // softmax), so that the rounding of L(x +- h), divided by 2h, stays small.
  GradientCase(std::string name, double tolerance, double step = 1e-5)
      : OpCase(std::move(name)), tol_(tolerance), step_(step) {}

  void check() override {
    const std::vector<Mat> analytic = backward();
    ASSERT_EQ(analytic.size(), inputs_.size());
    for (std::size_t t = 0; t < inputs_.size(); ++t) {
      Mat& x = inputs_[t].second;
      ASSERT_EQ(analytic[t].v.size(), x.v.size()) << inputs_[t].first;
      double largest = 0;
      for (const double g : analytic[t].v) largest = std::max(largest, std::abs(g));
      EXPECT_GT(largest, 1e-6) << inputs_[t].first << ": the gradient is (nearly) all zero";
      double worst = 0;
      std::size_t worst_at = 0;
      double worst_numeric = 0;
      for (std::size_t e = 0; e < x.v.size(); ++e) {
        const double saved = x.v[e];
        const double up = saved + step_, down = saved - step_;
        x.v[e] = up;
        const double l_up = loss();
        x.v[e] = down;
        const double l_down = loss();
        x.v[e] = saved;
        const double numeric = (l_up - l_down) / (up - down);
        const double a = analytic[t].v[e];
        const double scale = std::max({std::abs(a), std::abs(numeric), 1e-3 * largest});
        const double error = std::abs(a - numeric) / scale;
        if (error > worst) {
          worst = error;
          worst_at = e;
          worst_numeric = numeric;
        }
      }
      EXPECT_LE(worst, tol_) << inputs_[t].first << "[" << worst_at / std::size_t(x.cols) << ", "
                             << worst_at % std::size_t(x.cols) << "]: backward gives "
                             << analytic[t].v[worst_at] << ", central differences "
                             << worst_numeric;
    }
  }

 protected:
  // The scalar the op's backward pass differentiates, from the current inputs.
  virtual double loss() = 0;
  // dL/d(input) for each of inputs_, in order.
  virtual std::vector<Mat> backward() = 0;

  std::vector<std::pair<std::string, Mat>> inputs_;
  double tol_;
  double step_;
};

// The dense layer between two activations: X = f_in(Z_prev), H = f_out(X W + b),
// L = sum(G * H). Its backward pass: D = G * f_out'(H) (activation_backward), then
// dense_backward with f_in, which returns dL/dZ_prev (X's gradient times f_in'), dW and db.
class DenseGradient : public GradientCase {
 public:
  DenseGradient(std::int64_t batch, std::int64_t in, std::int64_t out, Activation f_in,
                Activation f_out, std::uint32_t seed)
      : GradientCase("dense_" + std::to_string(batch) + "x" + std::to_string(in) + "x" +
                         std::to_string(out) + "_" + to_string(f_in) + "_" + to_string(f_out),
                     1e-6),
        f_in_(f_in),
        f_out_(f_out) {
    std::mt19937 rng(seed);
    inputs_ = {{"Z_prev", random_mat(batch, in, rng, 2.0, 0.05)},
               {"W", random_mat(in, out, rng, 0.5)},
               {"b", random_mat(1, out, rng, 0.5)}};
    g_ = random_mat(batch, out, rng, 1.0);
  }

 private:
  Mat forward(const Mat& x) {
    Mat h(x.rows, inputs_[1].second.cols);
    const Mat& b = inputs_[2].second;
    ops::dense_forward<double>(h.view(), x.cview(), inputs_[1].second.cview(), b.v, f_out_,
                               kLeakySlope, pool_);
    return h;
  }
  double loss() override { return sum_product(g_, forward(activate(inputs_[0].second, f_in_))); }
  std::vector<Mat> backward() override {
    const Mat x = activate(inputs_[0].second, f_in_);
    const Mat h = forward(x);
    Mat d(h.rows, h.cols);
    ops::activation_backward<double>(d.view(), g_.cview(), h.cview(), f_out_, kLeakySlope);
    const Mat& w = inputs_[1].second;
    Mat dz(x.rows, x.cols), dw(w.rows, w.cols), db(1, w.cols);
    ops::dense_backward<double>(dz.view(), dw.view(), db.v, d.cview(), x.cview(), w.cview(), f_in_,
                                kLeakySlope, pool_);
    return {dz, dw, db};
  }

  Activation f_in_, f_out_;
  Mat g_;
  ThreadPool pool_{1};
};

bool smooth(Activation f) { return f == Activation::sigmoid || f == Activation::tanh; }

// H = f(Z), L = sum(G * H); activation_backward gives dL/dZ from H. ReLU and leaky ReLU are
// linear on either side of 0, where no Z lies closer than 0.05: their central differences are
// exact up to rounding for a step of 1e-3.
class ActivationGradient : public GradientCase {
 public:
  ActivationGradient(std::int64_t rows, std::int64_t cols, Activation f, std::uint32_t seed)
      : GradientCase(
            "activation_" + to_string(f) + "_" + std::to_string(rows) + "x" + std::to_string(cols),
            smooth(f) ? 1e-6 : 1e-8, smooth(f) ? 1e-5 : 1e-3),
        f_(f) {
    std::mt19937 rng(seed);
    inputs_ = {{"Z", random_mat(rows, cols, rng, 3.0, 0.05)}};
    g_ = random_mat(rows, cols, rng, 1.0);
  }

 private:
  double loss() override { return sum_product(g_, activate(inputs_[0].second, f_)); }
  std::vector<Mat> backward() override {
    const Mat h = activate(inputs_[0].second, f_);
    Mat dz(h.rows, h.cols);
    ops::activation_backward<double>(dz.view(), g_.cview(), h.cview(), f_, kLeakySlope);
    return {dz};
  }

  Activation f_;
  Mat g_;
};

// L = 1/B sum_i CE(y_i, softmax(z_i)); the backward pass gives (Yhat - Y) / B.
class SoftmaxCrossEntropyGradient : public GradientCase {
 public:
  SoftmaxCrossEntropyGradient(std::int64_t rows, std::int64_t classes, double logit_scale,
                              std::uint32_t seed, double tolerance, double step = 1e-5)
      : GradientCase("softmax_cross_entropy_" + std::to_string(rows) + "x" +
                         std::to_string(classes) + "_logits_" +
                         std::to_string(static_cast<long long>(logit_scale)),
                     tolerance, step) {
    std::mt19937 rng(seed);
    inputs_ = {{"Z", random_mat(rows, classes, rng, logit_scale)}};
    std::uniform_int_distribution<std::int32_t> label(0, static_cast<std::int32_t>(classes) - 1);
    for (std::int64_t i = 0; i < rows; ++i) labels_.push_back(label(rng));
  }

 private:
  double loss() override {
    const Mat& z = inputs_[0].second;
    Mat yhat(z.rows, z.cols);
    const double sum = ops::softmax_cross_entropy_forward<double>(yhat.view(), z.cview(), labels_);
    EXPECT_TRUE(std::isfinite(sum));
    return sum / static_cast<double>(z.rows);
  }
  std::vector<Mat> backward() override {
    const Mat& z = inputs_[0].second;
    Mat yhat(z.rows, z.cols), dz(z.rows, z.cols);
    ops::softmax_cross_entropy_forward<double>(yhat.view(), z.cview(), labels_);
    ops::softmax_cross_entropy_backward<double>(dz.view(), yhat.cview(), labels_,
                                                1.0 / static_cast<double>(z.rows));
    return {dz};
  }

  std::vector<std::int32_t> labels_;
};

// L = 1/(B r) sum (Yhat - Y)^2 (PyTorch's MSELoss); the backward pass gives 2 (Yhat - Y) / (B r).
// L is quadratic, so central differences are exact up to rounding for any step.
class SquaredErrorGradient : public GradientCase {
 public:
  SquaredErrorGradient(std::int64_t rows, std::int64_t outputs, std::uint32_t seed)
      : GradientCase("mse_" + std::to_string(rows) + "x" + std::to_string(outputs), 1e-8, 1e-3) {
    std::mt19937 rng(seed);
    inputs_ = {{"Yhat", random_mat(rows, outputs, rng, 2.0)}};
    y_ = random_mat(rows, outputs, rng, 2.0);
    scale_ = 1.0 / static_cast<double>(rows * outputs);
  }

 private:
  double loss() override {
    return ops::squared_error_forward<double>(inputs_[0].second.cview(), y_.cview()) * scale_;
  }
  std::vector<Mat> backward() override {
    const Mat& yhat = inputs_[0].second;
    Mat d(yhat.rows, yhat.cols);
    ops::squared_error_backward<double>(d.view(), yhat.cview(), y_.cview(), scale_);
    return {d};
  }

  Mat y_;
  double scale_;
};

// A = H * m / (1 - p) with the mask of a fixed key, L = sum(G * A); dropout_backward gives
// dL/dH = G * m / (1 - p). L is linear in H (step 1e-3). The mask must drop some units and keep
// others, or the case would not tell a mask from none.
class DropoutGradient : public GradientCase {
 public:
  DropoutGradient(std::int64_t rows, std::int64_t cols, float p, std::uint32_t seed)
      : GradientCase("dropout_" + std::to_string(rows) + "x" + std::to_string(cols) + "_p" +
                         std::to_string(static_cast<int>(p * 100)),
                     1e-7, 1e-3),
        p_(p) {
    std::mt19937 rng(seed);
    inputs_ = {{"H", random_mat(rows, cols, rng, 2.0, 0.05)}};
    g_ = random_mat(rows, cols, rng, 1.0);
  }

  void check() override {
    const Mat a = forward();
    const auto dropped = std::count(a.v.begin(), a.v.end(), 0.0);
    EXPECT_GT(dropped, 0) << "the mask drops nothing";
    EXPECT_LT(dropped, static_cast<std::ptrdiff_t>(a.v.size())) << "the mask drops everything";
    GradientCase::check();
  }

 private:
  static constexpr std::uint64_t kKey = 0x5eed;
  Mat forward() {
    const Mat& h = inputs_[0].second;
    Mat a(h.rows, h.cols);
    ops::dropout_forward<double>(a.view(), h.cview(), p_, kKey);
    return a;
  }
  double loss() override { return sum_product(g_, forward()); }
  std::vector<Mat> backward() override {
    Mat dh(g_.rows, g_.cols);
    ops::dropout_backward<double>(dh.view(), g_.cview(), p_, kKey);
    return {dh};
  }

  float p_;
  Mat g_;
};

// Softmax + cross-entropy on logits of +-1e4 with one largest logit per row: log-sum-exp is
// max(z) + log(1 + e^-2e4 + ...) = max(z) exactly, so the loss must be exactly max(z) - z[label]
// in float and in double (no overflow to inf, no NaN from inf - inf), and the gradient
// (onehot(max) - onehot(label)) / B: exactly in double, and in float up to the floor of its
// exponential.
class SoftmaxExtremeLogits : public OpCase {
 public:
  SoftmaxExtremeLogits() : OpCase("softmax_cross_entropy_logits_pm1e4_exact") {}

  void check() override {
    // Each row: its logits and label.
    const std::vector<std::pair<std::vector<double>, std::int32_t>> rows = {
        {{1e4, -1e4, 0}, 0},     {{1e4, -1e4, 0}, 1},    {{1e4, -1e4, 0}, 2},
        {{-1e4, 0, -1e4}, 0},    {{-1e4, -1e4, 1e4}, 2}, {{0, 1e4, -1e4}, 2},
        {{-1e4, -9e3, -1e4}, 1}, {{1e4, 9e3, -1e4}, 1}};
    const auto n = static_cast<std::int64_t>(rows.size());
    Mat z(n, 3);
    std::vector<std::int32_t> labels;
    double want = 0;
    Mat want_grad(n, 3);
    for (std::int64_t i = 0; i < n; ++i) {
      const auto& [logits, label] = rows[static_cast<std::size_t>(i)];
      for (std::int64_t k = 0; k < 3; ++k) z.at(i, k) = logits[static_cast<std::size_t>(k)];
      labels.push_back(label);
      const auto top = std::max_element(logits.begin(), logits.end()) - logits.begin();
      want +=
          *std::max_element(logits.begin(), logits.end()) - logits[static_cast<std::size_t>(label)];
      want_grad.at(i, top) += 1.0 / static_cast<double>(n);
      want_grad.at(i, label) -= 1.0 / static_cast<double>(n);
    }
    check_scalar<double>(z, labels, want, want_grad);
    check_scalar<float>(z, labels, want, want_grad);
  }

 private:
  template <class T>
  void check_scalar(const Mat& z, const std::vector<std::int32_t>& labels, double want,
                    const Mat& want_grad) {
    SCOPED_TRACE(sizeof(T) == 4 ? "float" : "double");
    const std::vector<T> zt(z.v.begin(), z.v.end());
    std::vector<T> yhat(zt.size()), dz(zt.size());
    const View<const T> zv(zt.data(), z.rows, z.cols);
    const double loss =
        ops::softmax_cross_entropy_forward<T>(View<T>(yhat.data(), z.rows, z.cols), zv, labels);
    ASSERT_TRUE(std::isfinite(loss));
    EXPECT_EQ(loss, want);
    ops::softmax_cross_entropy_backward<T>(View<T>(dz.data(), z.rows, z.cols),
                                           View<const T>(yhat.data(), z.rows, z.cols), labels,
                                           T(1) / static_cast<T>(z.rows));
    // float's exponential clamps its input at -87, so a probability of e^-2e4 comes out as
    // e^-87 (kernels/fast_math.hpp) rather than 0; double's is exact.
    const double clamp = sizeof(T) == 4 ? 1e-37 : 0.0;
    for (std::size_t e = 0; e < dz.size(); ++e)
      EXPECT_NEAR(static_cast<double>(dz[e]), want_grad.v[e], clamp) << "entry " << e;
  }
};

// ---- The float fast paths against the double reference ------------------------------------

// |float - double| <= tolerance * (1 + magnitude) per entry, magnitude being the sum of the
// |terms| that entry adds up (the scale of its rounding error).
void expect_close(std::span<const float> got, const Mat& want, const Mat& magnitude,
                  double tolerance, const char* what) {
  double worst = 0;
  std::size_t worst_at = 0;
  for (std::size_t e = 0; e < got.size(); ++e) {
    const double error = std::abs(static_cast<double>(got[e]) - want.v[e]) / (1.0 + magnitude.v[e]);
    if (error > worst) {
      worst = error;
      worst_at = e;
    }
  }
  EXPECT_LE(worst, tolerance) << what << " entry " << worst_at << ": float " << got[worst_at]
                              << ", double " << want.v[worst_at];
}

// A float dense layer against the double one on the same (float-representable) values, on 1
// and 2 threads:
//   forward   H = f(X W + b), the bias and f applied by the product's epilogue
//   backward  dZ_prev = (D W^T) * f'(X) from the epilogue, dW = X^T D, db = 1^T D
//   sgd       W -= lr X^T D fused into the product, b -= lr 1^T D
// A sum of k products is off by at most k u sum|terms| (u = 2^-24); sigmoid and tanh add the
// fast exponential's few ulps.
class DenseFloatPaths : public OpCase {
 public:
  DenseFloatPaths(std::int64_t batch, std::int64_t in, std::int64_t out, Activation f,
                  std::uint32_t seed)
      : OpCase("dense_float_" + std::to_string(batch) + "x" + std::to_string(in) + "x" +
               std::to_string(out) + "_" + to_string(f)),
        batch_(batch),
        in_(in),
        out_(out),
        f_(f) {
    std::mt19937 rng(seed);
    const Mat z_prev = random_mat(batch, in, rng, 2.0, 0.05);
    x_ = activate(z_prev, f);  // X is the previous layer's output H = f(Z_prev)
    for (double& v : x_.v) v = static_cast<double>(static_cast<float>(v));
    w_ = random_mat(in, out, rng, 0.5);
    b_ = random_mat(1, out, rng, 0.5);
    d_ = random_mat(batch, out, rng, 0.1);
    const double exp_ulps = f == Activation::sigmoid || f == Activation::tanh ? 8 : 2;
    tolerance_ = (static_cast<double>(in + batch + out) + exp_ulps) * kFloatUnit;
  }

  void check() override {
    for (const int threads : {1, 2}) {
      SCOPED_TRACE(testing::Message() << "threads " << threads);
      ThreadPool pool(threads);
      check_forward(pool);
      check_backward(pool);
      check_sgd(pool);
    }
  }

 private:
  void check_forward(ThreadPool& pool) {
    ThreadPool one(1);
    Mat want(batch_, out_), magnitude(batch_, out_);
    ops::dense_forward<double>(want.view(), x_.cview(), w_.cview(), b_.v, f_, kLeakySlope, one);
    for (std::int64_t i = 0; i < batch_; ++i)
      for (std::int64_t j = 0; j < out_; ++j) {
        double s = std::abs(b_.v[static_cast<std::size_t>(j)]);
        for (std::int64_t k = 0; k < in_; ++k) s += std::abs(x_.at(i, k) * w_.at(k, j));
        magnitude.at(i, j) = s;
      }
    const auto x = to_float(x_), w = to_float(w_), b = to_float(b_);
    std::vector<float> got(want.v.size());
    ops::dense_forward<float>(
        View<float>(got.data(), batch_, out_), View<const float>(x.data(), batch_, in_),
        View<const float>(w.data(), in_, out_), b, f_, static_cast<float>(kLeakySlope), pool);
    expect_close(got, want, magnitude, tolerance_, "forward H");
  }

  void check_backward(ThreadPool& pool) {
    ThreadPool one(1);
    Mat want_dx(batch_, in_), want_dw(in_, out_), want_db(1, out_);
    ops::dense_backward<double>(want_dx.view(), want_dw.view(), want_db.v, d_.cview(), x_.cview(),
                                w_.cview(), f_, kLeakySlope, one);
    Mat mag_dx(batch_, in_), mag_dw(in_, out_), mag_db(1, out_);
    for (std::int64_t i = 0; i < batch_; ++i)
      for (std::int64_t j = 0; j < out_; ++j) {
        const double dij = std::abs(d_.at(i, j));
        mag_db.v[static_cast<std::size_t>(j)] += dij;
        for (std::int64_t k = 0; k < in_; ++k) {
          mag_dx.at(i, k) += dij * std::abs(w_.at(k, j));
          mag_dw.at(k, j) += dij * std::abs(x_.at(i, k));
        }
      }
    const auto x = to_float(x_), w = to_float(w_), d = to_float(d_);
    std::vector<float> dx(want_dx.v.size()), dw(want_dw.v.size()), db(want_db.v.size());
    ops::dense_backward<float>(
        View<float>(dx.data(), batch_, in_), View<float>(dw.data(), in_, out_), db,
        View<const float>(d.data(), batch_, out_), View<const float>(x.data(), batch_, in_),
        View<const float>(w.data(), in_, out_), f_, static_cast<float>(kLeakySlope), pool);
    expect_close(dx, want_dx, mag_dx, tolerance_, "backward dZ_prev");
    expect_close(dw, want_dw, mag_dw, tolerance_, "backward dW");
    expect_close(db, want_db, mag_db, tolerance_, "backward db");
  }

  void check_sgd(ThreadPool& pool) {
    constexpr double kLr = 0.25;
    ThreadPool one(1);
    Mat dx_ref(batch_, in_), dw(in_, out_), db(1, out_);
    ops::dense_backward<double>(dx_ref.view(), dw.view(), db.v, d_.cview(), x_.cview(), w_.cview(),
                                f_, kLeakySlope, one);
    Mat want_w(in_, out_), want_b(1, out_), mag_w(in_, out_), mag_b(1, out_);
    for (std::int64_t k = 0; k < in_; ++k)
      for (std::int64_t j = 0; j < out_; ++j) {
        want_w.at(k, j) = w_.at(k, j) - kLr * dw.at(k, j);
        double s = std::abs(w_.at(k, j));
        for (std::int64_t i = 0; i < batch_; ++i) s += kLr * std::abs(x_.at(i, k) * d_.at(i, j));
        mag_w.at(k, j) = s;
      }
    for (std::int64_t j = 0; j < out_; ++j) {
      const auto at = static_cast<std::size_t>(j);
      want_b.v[at] = b_.v[at] - kLr * db.v[at];
      double s = std::abs(b_.v[at]);
      for (std::int64_t i = 0; i < batch_; ++i) s += kLr * std::abs(d_.at(i, j));
      mag_b.v[at] = s;
    }
    auto w = to_float(w_), b = to_float(b_);
    const auto x = to_float(x_), d = to_float(d_);
    std::vector<float> dx(static_cast<std::size_t>(batch_ * in_)), db_got(b.size());
    const bool finite = ops::dense_backward_sgd<float>(
        View<float>(dx.data(), batch_, in_), View<float>(w.data(), in_, out_), b, db_got,
        View<const float>(d.data(), batch_, out_), View<const float>(x.data(), batch_, in_), f_,
        static_cast<float>(kLeakySlope), static_cast<float>(kLr), pool);
    EXPECT_TRUE(finite);
    expect_close(w, want_w, mag_w, tolerance_, "sgd W");
    expect_close(b, want_b, mag_b, tolerance_, "sgd b");
  }

  std::int64_t batch_, in_, out_;
  Activation f_;
  Mat x_, w_, b_, d_;
  double tolerance_;
};

// ---- The table ------------------------------------------------------------------------------

struct Shape {
  std::int64_t batch, in, out;
};

std::vector<std::shared_ptr<OpCase>> op_table() {
  std::vector<std::shared_ptr<OpCase>> table;
  std::uint32_t seed = 1;
  constexpr Activation kHidden[] = {Activation::sigmoid, Activation::tanh, Activation::relu,
                                    Activation::leaky_relu};
  // One sample, odd sizes, and a layer wider than a vector of floats.
  constexpr Shape kDenseShapes[] = {{2, 4, 3}, {4, 5, 3}, {7, 9, 6}, {3, 20, 17}};
  for (const Shape& s : kDenseShapes) {
    table.push_back(std::make_shared<DenseGradient>(s.batch, s.in, s.out, Activation::linear,
                                                    Activation::linear, seed++));
    for (const Activation f : kHidden)
      table.push_back(std::make_shared<DenseGradient>(s.batch, s.in, s.out, f, f, seed++));
  }
  for (const Activation f : kHidden)
    for (const auto& [rows, cols] : {std::pair{1, 6}, std::pair{3, 7}, std::pair{9, 20}})
      table.push_back(std::make_shared<ActivationGradient>(rows, cols, f, seed++));
  for (const auto& [rows, classes] : {std::pair{1, 2}, std::pair{4, 3}, std::pair{9, 10}}) {
    table.push_back(
        std::make_shared<SoftmaxCrossEntropyGradient>(rows, classes, 3.0, seed++, 1e-7));
    table.push_back(
        std::make_shared<SoftmaxCrossEntropyGradient>(rows, classes, 30.0, seed++, 1e-5));
    // Logits spread over +-1e4: every softmax is saturated and the loss of order 1e4, linear in
    // each logit (the gaps are far wider than h = 1).
    table.push_back(
        std::make_shared<SoftmaxCrossEntropyGradient>(rows, classes, 1e4, seed++, 1e-9, 1.0));
  }
  table.push_back(std::make_shared<SoftmaxExtremeLogits>());
  for (const auto& [rows, outputs] : {std::pair{1, 1}, std::pair{5, 1}, std::pair{6, 4}})
    table.push_back(std::make_shared<SquaredErrorGradient>(rows, outputs, seed++));
  for (const float p : {0.25f, 0.5f})
    for (const auto& [rows, cols] : {std::pair{4, 9}, std::pair{16, 33}})
      table.push_back(std::make_shared<DropoutGradient>(rows, cols, p, seed++));
  // Shapes whose product blocks end inside a vector, and the seed network's layers.
  constexpr Shape kFloatShapes[] = {
      {1, 3, 2}, {5, 17, 9}, {37, 19, 100}, {64, 128, 10}, {16, 784, 32}};
  for (const Shape& s : kFloatShapes) {
    table.push_back(
        std::make_shared<DenseFloatPaths>(s.batch, s.in, s.out, Activation::linear, seed++));
    for (const Activation f : kHidden)
      table.push_back(std::make_shared<DenseFloatPaths>(s.batch, s.in, s.out, f, seed++));
  }
  return table;
}

// CTest and gtest name a case by its row name.
void PrintTo(const std::shared_ptr<OpCase>& c, std::ostream* os) { *os << c->name(); }

class OpTable : public testing::TestWithParam<std::shared_ptr<OpCase>> {};

TEST_P(OpTable, Check) { GetParam()->check(); }

INSTANTIATE_TEST_SUITE_P(Ops, OpTable, testing::ValuesIn(op_table()),
                         [](const testing::TestParamInfo<std::shared_ptr<OpCase>>& param) {
                           return param.param->name();
                         });

}  // namespace
}  // namespace backprop
