#include "backprop/rng.hpp"
#include "ops/ops.hpp"

namespace backprop::ops {

namespace {

// The keep decision for element (i, j): a pure function of the key, so forward and backward
// agree without storing a mask, and the mask does not depend on which thread draws it.
inline bool keep(std::uint64_t key, std::int64_t i, std::int64_t j, float p) {
  return unit_float(hash_key(key, static_cast<std::uint64_t>(i), static_cast<std::uint64_t>(j))) >=
         p;
}

template <class T>
void apply_mask(View<T> out, View<const T> in, float p, std::uint64_t key) {
  const T kept_scale = T(1) / (T(1) - static_cast<T>(p));  // inverted dropout: E[out] = in
  for (std::int64_t i = 0; i < in.rows; ++i)
    for (std::int64_t j = 0; j < in.cols; ++j)
      out(i, j) = keep(key, i, j, p) ? in(i, j) * kept_scale : T(0);
}

}  // namespace

template <class T>
void dropout_forward(View<T> a, View<const T> h, float p, std::uint64_t key) {
  apply_mask(a, h, p, key);
}

template <class T>
void dropout_backward(View<T> dh, View<const T> da, float p, std::uint64_t key) {
  apply_mask(dh, da, p, key);  // d(h * m / (1-p)) / dh = m / (1-p)
}

template void dropout_forward<float>(View<float>, View<const float>, float, std::uint64_t);
template void dropout_forward<double>(View<double>, View<const double>, float, std::uint64_t);
template void dropout_backward<float>(View<float>, View<const float>, float, std::uint64_t);
template void dropout_backward<double>(View<double>, View<const double>, float, std::uint64_t);

}  // namespace backprop::ops
