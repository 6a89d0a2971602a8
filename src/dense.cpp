#include <algorithm>

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

void matmul(View<double> c, View<const double> a, Transpose ta, View<const double> b, Transpose tb,
            bool accumulate, ThreadPool& /*pool*/) {
  const std::int64_t k = ta == Transpose::yes ? a.rows : a.cols;
  for (std::int64_t i = 0; i < c.rows; ++i) {
    for (std::int64_t j = 0; j < c.cols; ++j) {
      double sum = 0.0;
      for (std::int64_t p = 0; p < k; ++p)
        sum +=
            (ta == Transpose::yes ? a(p, i) : a(i, p)) * (tb == Transpose::yes ? b(j, p) : b(p, j));
      c(i, j) = accumulate ? c(i, j) + sum : sum;
    }
  }
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
  // db (1 x out) = sum over rows of D; rows in order, so the sum is the same on any thread count
  std::fill(db.begin(), db.end(), T(0));
  for (std::int64_t i = 0; i < d.rows; ++i) {
    const T* di = d.row(i);
    for (std::int64_t j = 0; j < d.cols; ++j) db[static_cast<std::size_t>(j)] += di[j];
  }
  // dX (B x in) = D (B x out) W^T (out x in)
  if (dx.data != nullptr) matmul(dx, d, Transpose::no, w, Transpose::yes, false, pool);
}

template void dense_forward<float>(View<float>, View<const float>, View<const float>,
                                   std::span<const float>, ThreadPool&);
template void dense_forward<double>(View<double>, View<const double>, View<const double>,
                                    std::span<const double>, ThreadPool&);
template void dense_backward<float>(View<float>, View<float>, std::span<float>, View<const float>,
                                    View<const float>, View<const float>, ThreadPool&);
template void dense_backward<double>(View<double>, View<double>, std::span<double>,
                                     View<const double>, View<const double>, View<const double>,
                                     ThreadPool&);

}  // namespace backprop::ops
