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

}  // namespace

template <class T>
void dense_forward(View<T> z, View<const T> x, View<const T> w, std::span<const T> b,
                   ThreadPool& pool) {
  // z (B x out) = x (B x in) w (in x out) + b (1 x out)
  matmul(z, x, Transpose::no, w, Transpose::no, false, pool);
  for_row_blocks(pool, z.rows, z.cols, [&](std::int64_t first, std::int64_t count) {
    for (std::int64_t i = first; i < first + count; ++i) {
      T* zi = z.row(i);
      for (std::int64_t j = 0; j < z.cols; ++j) zi[j] += b[static_cast<std::size_t>(j)];
    }
  });
}

template <class T>
void dense_backward(View<T> dx, View<T> dw, std::span<T> db, View<const T> d, View<const T> x,
                    View<const T> w, ThreadPool& pool) {
  // dW (in x out) = X^T (in x B) D (B x out)
  matmul(dw, x, Transpose::yes, d, Transpose::no, false, pool);
  bias_gradient(db, d, pool);  // db (1 x out) = 1^T D
  // dX (B x in) = D (B x out) W^T (out x in)
  if (dx.data != nullptr) matmul(dx, d, Transpose::no, w, Transpose::yes, false, pool);
}

template <class T>
bool dense_backward_sgd(View<T> dx, View<T> w, std::span<T> b, std::span<T> db, View<const T> d,
                        View<const T> x, T lr, ThreadPool& pool) {
  // dX (B x in) = D (B x out) W^T (out x in), before W moves
  if (dx.data != nullptr) matmul(dx, d, Transpose::no, w, Transpose::yes, false, pool);
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
                                   std::span<const float>, ThreadPool&);
template void dense_forward<double>(View<double>, View<const double>, View<const double>,
                                    std::span<const double>, ThreadPool&);
template void dense_backward<float>(View<float>, View<float>, std::span<float>, View<const float>,
                                    View<const float>, View<const float>, ThreadPool&);
template bool dense_backward_sgd<float>(View<float>, View<float>, std::span<float>,
                                        std::span<float>, View<const float>, View<const float>,
                                        float, ThreadPool&);
template bool dense_backward_sgd<double>(View<double>, View<double>, std::span<double>,
                                         std::span<double>, View<const double>, View<const double>,
                                         double, ThreadPool&);
template void dense_backward<double>(View<double>, View<double>, std::span<double>,
                                     View<const double>, View<const double>, View<const double>,
                                     ThreadPool&);

}  // namespace backprop::ops
