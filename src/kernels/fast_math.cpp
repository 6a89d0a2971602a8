#include "kernels/fast_math.hpp"

#include <bit>
#include <cstdint>

#include "core/cpu_clones.hpp"

namespace backprop::fast {

namespace cloned {  // external linkage, as BACKPROP_CLONES needs

// e^x = 2^n e^r with n = round(x / ln 2) and r = x - n ln 2, |r| <= ln2 / 2. ln 2 is split in
// two (Cody and Waite) so that n * ln2_hi is exact in float. e^r comes from the minimax
// polynomial of Cephes' expf; 2^n is built directly in the exponent bits.
inline float exp_one(float x) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693359375f;
  constexpr float kLn2Lo = -2.12194440e-4f;
  constexpr float kRound =
      12582912.0f;  // 1.5 * 2^23: adding and subtracting it rounds to an integer
  x = x < -87.0f ? -87.0f : x;
  x = x > 88.0f ? 88.0f : x;
  const float rounded = x * kLog2e + kRound;  // 1.5 * 2^23 + n: its low mantissa bits hold n
  const float n = rounded - kRound;
  const float r = (x - n * kLn2Hi) - n * kLn2Lo;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float er = p * (r * r) + r + 1.0f;
  // 2^n: n + 127 in the exponent field, n read from the bits of `rounded` (a float-to-int
  // conversion would be undefined for a NaN x, whose result is NaN through er either way).
  const std::uint32_t n_bits =
      std::bit_cast<std::uint32_t>(rounded) - std::bit_cast<std::uint32_t>(kRound);
  const std::uint32_t bits = (n_bits + 127u) << 23;
  return er * std::bit_cast<float>(bits);
}

// Each loop is compiled for AVX-512, AVX2 and the baseline; the loader picks one per machine.
// The header's functions call them (a cloned function must not be declared before its
// definition, see core/cpu_clones.hpp).
BACKPROP_CLONES void exp_all(float* out, const float* x, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) out[i] = exp_one(x[i]);
}

BACKPROP_CLONES void sigmoid_all(float* out, const float* x, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) out[i] = 1.0f / (1.0f + exp_one(-x[i]));
}

BACKPROP_CLONES void tanh_all(float* out, const float* x, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) out[i] = 1.0f - 2.0f / (exp_one(2.0f * x[i]) + 1.0f);
}

}  // namespace cloned

void exp(float* out, const float* x, std::int64_t n) { cloned::exp_all(out, x, n); }
void sigmoid(float* out, const float* x, std::int64_t n) { cloned::sigmoid_all(out, x, n); }
void tanh(float* out, const float* x, std::int64_t n) { cloned::tanh_all(out, x, n); }

}  // namespace backprop::fast
