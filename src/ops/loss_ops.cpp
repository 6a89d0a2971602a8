#include <algorithm>
#include <cmath>
#include <type_traits>

#include "kernels/fast_math.hpp"
#include "ops/ops.hpp"

namespace backprop::ops {

namespace {

// yhat = e^{z - m} for every element of the rows, m = max_j z_j of its row.
template <class T>
void shifted_exponentials(View<T> yhat, View<const T> z) {
  for (std::int64_t i = 0; i < z.rows; ++i) {
    const T* zi = z.row(i);
    T* yi = yhat.row(i);
    const T m = *std::max_element(zi, zi + z.cols);
    for (std::int64_t k = 0; k < z.cols; ++k) yi[k] = zi[k] - m;
  }
  if constexpr (std::is_same_v<T, float>) {
    // One call over the whole block when its rows are contiguous (10 classes are too few for a
    // vector loop row by row); e^x of an element does not depend on its position.
    if (yhat.stride == yhat.cols) {
      fast::exp(yhat.data, yhat.data, yhat.rows * yhat.cols);
    } else {
      for (std::int64_t i = 0; i < yhat.rows; ++i) fast::exp(yhat.row(i), yhat.row(i), yhat.cols);
    }
  } else {
    for (std::int64_t i = 0; i < yhat.rows; ++i)
      for (std::int64_t k = 0; k < yhat.cols; ++k) yhat(i, k) = std::exp(yhat(i, k));
  }
}

}  // namespace

template <class T>
double softmax_cross_entropy_forward(View<T> yhat, View<const T> z,
                                     std::span<const std::int32_t> labels,
                                     std::span<double> row_losses) {
  // softmax(z)_k = e^{z_k} / sum_j e^{z_j} = e^{z_k - m} / sum_j e^{z_j - m}, m = max_j z_j,
  // so no exponential overflows and the largest term is exactly 1.
  shifted_exponentials(yhat, z);
  double total = 0.0;
  for (std::int64_t i = 0; i < z.rows; ++i) {
    T* yi = yhat.row(i);
    const std::int64_t n = z.cols;
    T sum = 0;
    for (std::int64_t k = 0; k < n; ++k) sum += yi[k];
    const T inv = T(1) / sum;
    for (std::int64_t k = 0; k < n; ++k) yi[k] *= inv;
    if (labels.empty()) continue;  // probabilities only (inference)
    // CE = -log yhat_y = log sum_j e^{z_j} - z_y = m + log(sum) - z_y: no log(0).
    const T* zi = z.row(i);
    const T m = *std::max_element(zi, zi + n);
    const auto label = labels[static_cast<std::size_t>(i)];
    const double ce = static_cast<double>(m) + std::log(static_cast<double>(sum)) -
                      static_cast<double>(zi[label]);
    if (!row_losses.empty()) row_losses[static_cast<std::size_t>(i)] = ce;
    total += ce;
  }
  return total;
}

template <class T>
void softmax_cross_entropy_backward(View<T> dz, View<const T> yhat,
                                    std::span<const std::int32_t> labels, T scale) {
  for (std::int64_t i = 0; i < yhat.rows; ++i) {
    const T* yi = yhat.row(i);
    T* di = dz.row(i);
    for (std::int64_t k = 0; k < yhat.cols; ++k) di[k] = yi[k] * scale;  // yhat ...
    di[labels[static_cast<std::size_t>(i)]] -= scale;                    // ... - y (one-hot)
  }
}

template <class T>
double squared_error_forward(View<const T> yhat, View<const T> y) {
  double total = 0.0;
  for (std::int64_t i = 0; i < yhat.rows; ++i)
    for (std::int64_t k = 0; k < yhat.cols; ++k) {
      const double e = static_cast<double>(yhat(i, k)) - static_cast<double>(y(i, k));
      total += e * e;  // (yhat - y)^2
    }
  return total;
}

template <class T>
void squared_error_backward(View<T> dyhat, View<const T> yhat, View<const T> y, T scale) {
  for (std::int64_t i = 0; i < yhat.rows; ++i)
    for (std::int64_t k = 0; k < yhat.cols; ++k)
      dyhat(i, k) = T(2) * (yhat(i, k) - y(i, k)) * scale;  // d/dyhat (yhat - y)^2 = 2 (yhat - y)
}

template double softmax_cross_entropy_forward<float>(View<float>, View<const float>,
                                                     std::span<const std::int32_t>,
                                                     std::span<double>);
template double softmax_cross_entropy_forward<double>(View<double>, View<const double>,
                                                      std::span<const std::int32_t>,
                                                      std::span<double>);
template void softmax_cross_entropy_backward<float>(View<float>, View<const float>,
                                                    std::span<const std::int32_t>, float);
template void softmax_cross_entropy_backward<double>(View<double>, View<const double>,
                                                     std::span<const std::int32_t>, double);
template double squared_error_forward<float>(View<const float>, View<const float>);
template double squared_error_forward<double>(View<const double>, View<const double>);
template void squared_error_backward<float>(View<float>, View<const float>, View<const float>,
                                            float);
template void squared_error_backward<double>(View<double>, View<const double>, View<const double>,
                                             double);

}  // namespace backprop::ops
