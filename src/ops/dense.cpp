#include <algorithm>
#include <atomic>
#include <cmath>

#include "backprop/error.hpp"
#include "core/cpu_clones.hpp"
#include "kernels/gemm.hpp"
#include "ops/ops.hpp"

namespace backprop::ops {

namespace {

using kernels::Transpose;

// float goes to the fast kernel; double (gradient checks only) to the plain loop, whose sums
// are accumulated in double anyway.
void matmul(View<float> c, View<const float> a, Transpose ta, View<const float> b, Transpose tb,
            bool accumulate, ThreadPool& pool) {
  kernels::gemm(c, a, ta, b, tb, accumulate, pool);
}

// sum_p op(A)(i, p) op(B)(p, j): the double path's element of a product.
double dot(View<const double> a, Transpose ta, View<const double> b, Transpose tb, std::int64_t i,
           std::int64_t j) {
  const std::int64_t k = ta == Transpose::yes ? a.rows : a.cols;
  double sum = 0.0;
  for (std::int64_t p = 0; p < k; ++p)
    sum += (ta == Transpose::yes ? a(p, i) : a(i, p)) * (tb == Transpose::yes ? b(j, p) : b(p, j));
  return sum;
}

void matmul(View<double> c, View<const double> a, Transpose ta, View<const double> b, Transpose tb,
            bool accumulate, ThreadPool& /*pool*/) {
  for (std::int64_t i = 0; i < c.rows; ++i) {
    for (std::int64_t j = 0; j < c.cols; ++j) {
      const double sum = dot(a, ta, b, tb, i, j);
      c(i, j) = accumulate ? c(i, j) + sum : sum;
    }
  }
}

// C += alpha op(A) op(B), one rounding per element; returns whether C is all finite.
bool matmul_update(View<float> c, float alpha, View<const float> a, Transpose ta,
                   View<const float> b, Transpose tb, ThreadPool& pool) {
  return kernels::gemm_update(c, alpha, a, ta, b, tb, pool);
}

bool matmul_update(View<double> c, double alpha, View<const double> a, Transpose ta,
                   View<const double> b, Transpose tb, ThreadPool& /*pool*/) {
  bool finite = true;
  for (std::int64_t i = 0; i < c.rows; ++i) {
    for (std::int64_t j = 0; j < c.cols; ++j) {
      c(i, j) = std::fma(alpha, dot(a, ta, b, tb, i, j), c(i, j));
      finite = finite && std::isfinite(c(i, j));
    }
  }
  return finite;
}

// db (1 x out) = sum over rows of D; each column summed over the rows in order, so the sum is
// the same on any thread count.
template <class T>
void bias_gradient(std::span<T> db, View<const T> d, ThreadPool& pool) {
  for_column_blocks(pool, d.rows, d.cols, [&](std::int64_t first, std::int64_t count) {
    T* out = db.data() + first;
    std::fill(out, out + count, T(0));
    for (std::int64_t i = 0; i < d.rows; ++i) {
      const T* di = d.row(i) + first;
      for (std::int64_t j = 0; j < count; ++j) out[j] += di[j];
    }
  });
}

// z += b, then h = f(z), on one finished block of Z: the bias + activation pass of a dense layer
// fused into its product. Each element's result depends only on its value and column.
class BiasActivation final : public kernels::BlockEpilogue {
 public:
  BiasActivation(std::span<const float> b, Activation f, float slope)
      : b_(b), f_(f), slope_(slope) {}
  void operator()(MatrixView block, std::int64_t /*row*/, std::int64_t col) const override {
    const float* bias = b_.data() + col;
    for (std::int64_t i = 0; i < block.rows; ++i) {
      float* zi = block.row(i);
      for (std::int64_t j = 0; j < block.cols; ++j) zi[j] += bias[j];  // z = x W + b
    }
    if (f_ != Activation::linear) activation_forward<float>(block, block, f_, slope_);  // h = f(z)
  }

 private:
  std::span<const float> b_;
  Activation f_;
  float slope_;
};

// dz = dx * f'(z), with f' written from h = f(z), on one finished block of dX: the activation
// derivative fused into the product dX = D W^T. h is the layer's input X (same shape as dX).
class ActivationDerivative final : public kernels::BlockEpilogue {
 public:
  ActivationDerivative(View<const float> h, Activation f, float slope)
      : h_(h), f_(f), slope_(slope) {}
  void operator()(MatrixView block, std::int64_t row, std::int64_t col) const override {
    const View<const float> h(h_.row(row) + col, block.rows, block.cols, h_.stride);
    activation_backward<float>(block, block, h, f_, slope_);
  }

 private:
  View<const float> h_;
  Activation f_;
  float slope_;
};

// z = x w (+ b, f on each block): the float path fuses, the double path runs the passes after.
void product_then_bias_activation(View<float> z, View<const float> x, View<const float> w,
                                  std::span<const float> b, Activation f, float slope,
                                  ThreadPool& pool) {
  const BiasActivation epilogue(b, f, slope);
  kernels::gemm(z, x, Transpose::no, w, Transpose::no, false, pool, &epilogue);
}

void product_then_bias_activation(View<double> z, View<const double> x, View<const double> w,
                                  std::span<const double> b, Activation f, double slope,
                                  ThreadPool& pool) {
  matmul(z, x, Transpose::no, w, Transpose::no, false, pool);
  for (std::int64_t i = 0; i < z.rows; ++i) {
    double* zi = z.row(i);
    for (std::int64_t j = 0; j < z.cols; ++j) zi[j] += b[static_cast<std::size_t>(j)];
  }
  if (f != Activation::linear) activation_forward<double>(z, z, f, slope);
}

// dx = d w^T, times f'(x) unless f is linear.
void input_gradient(View<float> dx, View<const float> d, View<const float> w, View<const float> x,
                    Activation f, float slope, ThreadPool& pool) {
  if (f == Activation::linear) {
    kernels::gemm(dx, d, Transpose::no, w, Transpose::yes, false, pool);
    return;
  }
  const ActivationDerivative epilogue(x, f, slope);
  kernels::gemm(dx, d, Transpose::no, w, Transpose::yes, false, pool, &epilogue);
}

void input_gradient(View<double> dx, View<const double> d, View<const double> w,
                    View<const double> x, Activation f, double slope, ThreadPool& pool) {
  matmul(dx, d, Transpose::no, w, Transpose::yes, false, pool);
  if (f != Activation::linear) activation_backward<double>(dx, dx, x, f, slope);
}

}  // namespace

namespace cloned {  // external linkage, as BACKPROP_CLONES needs

// z = (p0 + p1) + b along one row of n values (no aliasing: z is H, p0 and p1 scratch).
BACKPROP_CLONES void partials_plus_bias_row(float* __restrict z, const float* __restrict p0,
                                            const float* __restrict p1, const float* __restrict b,
                                            std::int64_t n) {
  for (std::int64_t j = 0; j < n; ++j) z[j] = (p0[j] + p1[j]) + b[j];
}

void partials_plus_bias_row(double* z, const double* p0, const double* p1, const double* b,
                            std::int64_t n) {
  for (std::int64_t j = 0; j < n; ++j) z[j] = (p0[j] + p1[j]) + b[j];
}

}  // namespace cloned

namespace {

template <class T>
void sum_of_partials_plus_bias(View<T> z, View<const T> p0, View<const T> p1,
                               std::span<const T> b) {
  for (std::int64_t i = 0; i < z.rows; ++i)
    cloned::partials_plus_bias_row(z.row(i), p0.row(i), p1.row(i), b.data(), z.cols);
}

}  // namespace

template <class T>
void dense_forward(View<T> z, View<const T> x, View<const T> w, std::span<const T> b, Activation f,
                   T leaky_slope, ThreadPool& pool) {
  // z (B x out) = f(x (B x in) w (in x out) + b (1 x out))
  product_then_bias_activation(z, x, w, b, f, leaky_slope, pool);
}

template <class T>
void dense_backward(View<T> dx, View<T> dw, std::span<T> db, View<const T> d, View<const T> x,
                    View<const T> w, Activation input_activation, T leaky_slope, ThreadPool& pool) {
  // dW (in x out) = X^T (in x B) D (B x out)
  matmul(dw, x, Transpose::yes, d, Transpose::no, false, pool);
  bias_gradient(db, d, pool);  // db (1 x out) = 1^T D
  // dX (B x in) = D (B x out) W^T (out x in) [* f'(X)]
  if (dx.data != nullptr) input_gradient(dx, d, w, x, input_activation, leaky_slope, pool);
}

template <class T>
void dense_forward_partials(View<T> p0, View<T> p1, View<const T> x_left, View<const T> x_right,
                            View<const T> w, ThreadPool& pool) {
  const std::int64_t k0 = x_left.cols;
  const std::int64_t out = w.cols;
  // P0 = X[:, :k0] W[:k0, :] and P1 = X[:, k0:] W[k0:, :], each on one thread (task c is the
  // first of thread c's range, so the core that updates W's rows of half c multiplies them).
  pool.run(2, [&](std::int64_t half) {
    const View<const T> x = half == 0 ? x_left : x_right;
    matmul(half == 0 ? p0 : p1, x, Transpose::no,
           View<const T>(w.row(half == 0 ? 0 : k0), x.cols, out, w.stride), Transpose::no, false,
           pool);
  });
}

template <class T>
void dense_finish_partials(View<T> h, View<const T> p0, View<const T> p1, std::span<const T> b,
                           Activation f, T leaky_slope) {
  sum_of_partials_plus_bias<T>(h, p0, p1, b);                                // z = (P0 + P1) + b
  if (f != Activation::linear) activation_forward<T>(h, h, f, leaky_slope);  // h = f(z)
}

template <class T>
void dense_forward_halves(View<T> h, View<const T> x_left, View<const T> x_right, View<const T> w,
                          std::span<const T> b, Activation f, T leaky_slope, View<T> p0, View<T> p1,
                          ThreadPool& pool) {
  dense_forward_partials<T>(p0, p1, x_left, x_right, w, pool);
  // Then in row halves: each element is rounded the same way on any split.
  const std::int64_t rows = x_left.rows;
  pool.run(2, [&](std::int64_t half) {
    const std::int64_t r0 = half == 0 ? 0 : rows / 2;
    const std::int64_t r1 = half == 0 ? rows / 2 : rows;
    dense_finish_partials<T>(View<T>(h.row(r0), r1 - r0, h.cols, h.stride),
                             View<const T>(p0.row(r0), r1 - r0, p0.cols, p0.stride),
                             View<const T>(p1.row(r0), r1 - r0, p1.cols, p1.stride), b, f,
                             leaky_slope);
  });
}

template <class T>
void dense_input_gradient(View<T> dx, View<const T> d, View<const T> w, View<const T> x,
                          Activation input_activation, T leaky_slope, ThreadPool& pool) {
  input_gradient(dx, d, w, x, input_activation, leaky_slope, pool);
}

template <class T>
bool dense_weight_sgd_rows(View<T> w, View<const T> d, View<const T> x_cols, T lr,
                           std::int64_t first, ThreadPool& pool) {
  // W[first:first + n, :] += -lr X[:, first:first + n]^T D
  return matmul_update(View<T>(w.row(first), x_cols.cols, w.cols, w.stride), -lr, x_cols,
                       Transpose::yes, d, Transpose::no, pool);
}

template <class T>
bool dense_bias_sgd(std::span<T> b, std::span<T> db, View<const T> d, T lr, ThreadPool& pool) {
  bias_gradient(db, d, pool);  // db (1 x out) = 1^T D
  bool finite = true;
  for (std::size_t j = 0; j < b.size(); ++j) {
    b[j] = std::fma(-lr, db[j], b[j]);  // b -= lr db
    finite = finite && std::isfinite(b[j]);
  }
  return finite;
}

template <class T>
bool dense_weight_sgd_halves(View<T> w, View<const T> d, View<const T> x_left,
                             View<const T> x_right, T lr, ThreadPool& pool) {
  std::atomic<bool> finite{true};
  pool.run(2, [&](std::int64_t half) {
    if (!dense_weight_sgd_rows<T>(w, d, half == 0 ? x_left : x_right, lr,
                                  half == 0 ? 0 : x_left.cols, pool))
      finite.store(false);
  });
  return finite.load();
}

template <class T>
bool dense_backward_sgd(View<T> dx, View<T> w, std::span<T> b, std::span<T> db, View<const T> d,
                        View<const T> x, Activation input_activation, T leaky_slope, T lr,
                        ThreadPool& pool) {
  // dX (B x in) = D (B x out) W^T (out x in) [* f'(X)], before W moves
  if (dx.data != nullptr)
    input_gradient(dx, d, View<const T>(w), x, input_activation, leaky_slope, pool);
  // W (in x out) += -lr X^T (in x B) D (B x out)
  const bool finite = matmul_update(w, -lr, x, Transpose::yes, d, Transpose::no, pool);
  const bool bias_finite = dense_bias_sgd<T>(b, db, d, lr, pool);  // b += -lr 1^T D
  return finite && bias_finite;
}

template void dense_forward_partials<float>(View<float>, View<float>, View<const float>,
                                            View<const float>, View<const float>, ThreadPool&);
template void dense_finish_partials<float>(View<float>, View<const float>, View<const float>,
                                           std::span<const float>, Activation, float);
template void dense_input_gradient<float>(View<float>, View<const float>, View<const float>,
                                          View<const float>, Activation, float, ThreadPool&);
template bool dense_weight_sgd_rows<float>(View<float>, View<const float>, View<const float>, float,
                                           std::int64_t, ThreadPool&);
template bool dense_bias_sgd<float>(std::span<float>, std::span<float>, View<const float>, float,
                                    ThreadPool&);
template bool dense_weight_sgd_halves<float>(View<float>, View<const float>, View<const float>,
                                             View<const float>, float, ThreadPool&);
template void dense_forward_partials<double>(View<double>, View<double>, View<const double>,
                                             View<const double>, View<const double>, ThreadPool&);
template void dense_finish_partials<double>(View<double>, View<const double>, View<const double>,
                                            std::span<const double>, Activation, double);
template void dense_input_gradient<double>(View<double>, View<const double>, View<const double>,
                                           View<const double>, Activation, double, ThreadPool&);
template bool dense_weight_sgd_rows<double>(View<double>, View<const double>, View<const double>,
                                            double, std::int64_t, ThreadPool&);
template bool dense_bias_sgd<double>(std::span<double>, std::span<double>, View<const double>,
                                     double, ThreadPool&);
template bool dense_weight_sgd_halves<double>(View<double>, View<const double>, View<const double>,
                                              View<const double>, double, ThreadPool&);
template void dense_forward_halves<float>(View<float>, View<const float>, View<const float>,
                                          View<const float>, std::span<const float>, Activation,
                                          float, View<float>, View<float>, ThreadPool&);
template void dense_forward_halves<double>(View<double>, View<const double>, View<const double>,
                                           View<const double>, std::span<const double>, Activation,
                                           double, View<double>, View<double>, ThreadPool&);
template void dense_forward<float>(View<float>, View<const float>, View<const float>,
                                   std::span<const float>, Activation, float, ThreadPool&);
template void dense_forward<double>(View<double>, View<const double>, View<const double>,
                                    std::span<const double>, Activation, double, ThreadPool&);
template void dense_backward<float>(View<float>, View<float>, std::span<float>, View<const float>,
                                    View<const float>, View<const float>, Activation, float,
                                    ThreadPool&);
template void dense_backward<double>(View<double>, View<double>, std::span<double>,
                                     View<const double>, View<const double>, View<const double>,
                                     Activation, double, ThreadPool&);
template bool dense_backward_sgd<float>(View<float>, View<float>, std::span<float>,
                                        std::span<float>, View<const float>, View<const float>,
                                        Activation, float, float, ThreadPool&);
template bool dense_backward_sgd<double>(View<double>, View<double>, std::span<double>,
                                         std::span<double>, View<const double>, View<const double>,
                                         Activation, double, double, ThreadPool&);

}  // namespace backprop::ops
