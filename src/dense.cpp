#include <algorithm>
#include <cmath>

#include "backprop/error.hpp"
#include "gemm.hpp"
#include "ops.hpp"

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
bool dense_backward_sgd(View<T> dx, View<T> w, std::span<T> b, std::span<T> db, View<const T> d,
                        View<const T> x, Activation input_activation, T leaky_slope, T lr,
                        ThreadPool& pool) {
  // dX (B x in) = D (B x out) W^T (out x in) [* f'(X)], before W moves
  if (dx.data != nullptr)
    input_gradient(dx, d, View<const T>(w), x, input_activation, leaky_slope, pool);
  // W (in x out) += -lr X^T (in x B) D (B x out)
  bool finite = matmul_update(w, -lr, x, Transpose::yes, d, Transpose::no, pool);
  bias_gradient(db, d, pool);  // db (1 x out) = 1^T D
  for (std::size_t j = 0; j < b.size(); ++j) {
    b[j] = std::fma(-lr, db[j], b[j]);  // b -= lr db
    finite = finite && std::isfinite(b[j]);
  }
  return finite;
}

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
