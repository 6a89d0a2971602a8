#include <cmath>
#include <type_traits>

#include "core/cpu_clones.hpp"
#include "kernels/fast_math.hpp"
#include "ops/ops.hpp"

namespace backprop::ops {

namespace {

template <class T>
T sigmoid(T z) {
  // 1 / (1 + e^-z) overflows harmlessly to 0 for z << 0; written this way it never divides by inf.
  return T(1) / (T(1) + std::exp(-z));
}

}  // namespace

template <class T>
void activation_forward(View<T> h, View<const T> z, Activation f, T leaky_slope) {
  for (std::int64_t i = 0; i < z.rows; ++i) {
    const T* zi = z.row(i);
    T* hi = h.row(i);
    const std::int64_t n = z.cols;
    switch (f) {
      case Activation::sigmoid:  // h = 1 / (1 + e^-z)
        if constexpr (std::is_same_v<T, float>) {
          fast::sigmoid(hi, zi, n);
        } else {
          for (std::int64_t j = 0; j < n; ++j) hi[j] = sigmoid(zi[j]);
        }
        break;
      case Activation::tanh:  // h = tanh z
        if constexpr (std::is_same_v<T, float>) {
          fast::tanh(hi, zi, n);
        } else {
          for (std::int64_t j = 0; j < n; ++j) hi[j] = std::tanh(zi[j]);
        }
        break;
      case Activation::relu:
        for (std::int64_t j = 0; j < n; ++j) hi[j] = zi[j] > T(0) ? zi[j] : T(0);  // h = max(z, 0)
        break;
      case Activation::leaky_relu:
        for (std::int64_t j = 0; j < n; ++j) hi[j] = zi[j] > T(0) ? zi[j] : leaky_slope * zi[j];
        break;
      case Activation::linear:
        for (std::int64_t j = 0; j < n; ++j) hi[j] = zi[j];
        break;
    }
  }
}

namespace {

// One row of dz = dh * f'(h), with f' written from the output h as in ops.hpp.
template <class T>
[[gnu::always_inline]] inline void backward_row_body(T* dz, const T* dh, const T* h, std::int64_t n,
                                                     Activation f, T slope) {
  switch (f) {
    case Activation::sigmoid:
      for (std::int64_t j = 0; j < n; ++j) dz[j] = dh[j] * h[j] * (T(1) - h[j]);  // h (1 - h)
      break;
    case Activation::tanh:
      for (std::int64_t j = 0; j < n; ++j) dz[j] = dh[j] * (T(1) - h[j] * h[j]);  // 1 - h^2
      break;
    case Activation::relu:
      for (std::int64_t j = 0; j < n; ++j) dz[j] = h[j] > T(0) ? dh[j] : T(0);  // [z > 0]
      break;
    case Activation::leaky_relu:
      for (std::int64_t j = 0; j < n; ++j) dz[j] = h[j] > T(0) ? dh[j] : slope * dh[j];
      break;
    case Activation::linear:
      for (std::int64_t j = 0; j < n; ++j) dz[j] = dh[j];
      break;
  }
}

}  // namespace

namespace cloned {  // external linkage, as BACKPROP_CLONES needs

// The float rows, compiled for AVX-512, AVX2 and the baseline (target_clones does not apply
// to the template itself); double (gradient checks) uses the template directly.
BACKPROP_CLONES void backward_row(float* dz, const float* dh, const float* h, std::int64_t n,
                                  Activation f, float slope) {
  backward_row_body(dz, dh, h, n, f, slope);
}

void backward_row(double* dz, const double* dh, const double* h, std::int64_t n, Activation f,
                  double slope) {
  backward_row_body(dz, dh, h, n, f, slope);
}

}  // namespace cloned

template <class T>
void activation_backward(View<T> dz, View<const T> dh, View<const T> h, Activation f,
                         T leaky_slope) {
  for (std::int64_t i = 0; i < h.rows; ++i)
    cloned::backward_row(dz.row(i), dh.row(i), h.row(i), h.cols, f, leaky_slope);
}

template <class T>
bool all_finite(std::span<const T> values) {
  // x - x is 0 for finite x and NaN for NaN or +-inf; sixteen partial sums let it vectorise.
  T partial[16] = {};
  const std::size_t n = values.size();
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (std::size_t k = 0; k < 16; ++k) partial[k] += values[i + k] - values[i + k];
  T total = 0;
  for (; i < n; ++i) total += values[i] - values[i];
  for (const T p : partial) total += p;
  return total == T(0);
}

template void activation_forward<float>(View<float>, View<const float>, Activation, float);
template void activation_forward<double>(View<double>, View<const double>, Activation, double);
template void activation_backward<float>(View<float>, View<const float>, View<const float>,
                                         Activation, float);
template void activation_backward<double>(View<double>, View<const double>, View<const double>,
                                          Activation, double);
template bool all_finite<float>(std::span<const float>);
template bool all_finite<double>(std::span<const double>);

}  // namespace backprop::ops
