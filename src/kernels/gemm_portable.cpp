// The portable path of gemm(): plain C++ the compiler vectorises for the baseline instruction
// set. B is packed into 64-column panels so that the inner loop is a contiguous axpy over a
// row of accumulators. Used only on CPUs without AVX2 + FMA.
#include <algorithm>
#include <cmath>
#include <cstddef>

#include "backprop/matrix.hpp"
#include "kernels/gemm_kernels.hpp"

namespace backprop::kernels::detail {

namespace {

constexpr std::int64_t kRows = kTilePortable.rows;
constexpr std::int64_t kCols = kTilePortable.cols;

float* pack_buffer(std::size_t floats) {
  thread_local AlignedBuffer<float> buffer;
  if (buffer.size() < floats) buffer = AlignedBuffer<float>(floats);
  return buffer.data();
}

}  // namespace

bool block_portable(const Product& g, std::int64_t i0, std::int64_t i1, std::int64_t j0,
                    std::int64_t j1) {
  float* packed = pack_buffer(static_cast<std::size_t>(g.k * kCols));
  bool finite = true;
  for (std::int64_t j = j0; j < j1; j += kCols) {
    const std::int64_t w = std::min(kCols, j1 - j);
    for (std::int64_t p = 0; p < g.k; ++p) {
      float* dst = packed + p * kCols;
      const float* src = g.b + p * g.b_ks + j * g.b_cs;
      for (std::int64_t jj = 0; jj < w; ++jj) dst[jj] = src[jj * g.b_cs];
      std::fill(dst + w, dst + kCols, 0.0f);
    }
    for (std::int64_t i = i0; i < i1; i += kRows) {
      const std::int64_t mr = std::min(kRows, i1 - i);
      float acc[kRows][kCols] = {};
      for (std::int64_t p = 0; p < g.k; ++p) {
        const float* bp = packed + p * kCols;
        for (std::int64_t r = 0; r < mr; ++r) {
          const float av = g.a[(i + r) * g.a_rs + p * g.a_ks];
          float* ar = acc[r];
          for (std::int64_t jj = 0; jj < kCols; ++jj) ar[jj] += av * bp[jj];
        }
      }
      for (std::int64_t r = 0; r < mr; ++r) {
        float* cr = g.c + (i + r) * g.ldc + j;
        for (std::int64_t jj = 0; jj < w; ++jj) {
          // One rounding, as the vector paths' fma (which is exactly C + acc when alpha is 1;
          // std::fma is a library call on the baseline instruction set, so it is kept out of
          // plain products).
          const float x = !g.accumulate     ? g.alpha * acc[r][jj]
                          : g.alpha == 1.0f ? cr[jj] + acc[r][jj]
                                            : std::fma(g.alpha, acc[r][jj], cr[jj]);
          if (g.check_finite && !std::isfinite(x)) finite = false;
          cr[jj] = x;
        }
      }
    }
  }
  return finite;
}

double fma_loop_portable(std::int64_t iterations, float seed, float* sink) {
  constexpr int kLanes = 48;
  float acc[kLanes];
  for (int i = 0; i < kLanes; ++i) acc[i] = seed + static_cast<float>(i);
  const float x = 1.0000001f;
  const float y = seed * 1e-7f;
  for (std::int64_t it = 0; it < iterations; ++it) {
    for (float& v : acc) v = v * x + y;
  }
  float total = 0.0f;
  for (const float v : acc) total += v;
  *sink = total;
  return static_cast<double>(iterations) * kLanes * 2;
}

}  // namespace backprop::kernels::detail
