#pragma once
// e^x and the activations built on it, for float arrays, written so that the compiler
// vectorises the loops (no calls into libm). The double versions used by gradient checks stay
// on std::exp; tests/fast_math_test.cpp holds these against it.
#include <cstdint>

namespace backprop::fast {

// out[i] = e^{x[i]}, relative error below 3e-7 (about 2 ulp) for x in [-87, 88]; inputs beyond
// are clamped there (e^-87 ~ 1.6e-38 stands in for 0, e^88 ~ 1.7e38 for overflow).
void exp(float* out, const float* x, std::int64_t n);
// out[i] = 1 / (1 + e^{-x[i]})
void sigmoid(float* out, const float* x, std::int64_t n);
// out[i] = tanh x[i] = 1 - 2 / (e^{2x} + 1)
void tanh(float* out, const float* x, std::int64_t n);

}  // namespace backprop::fast
