// The AVX2 + FMA path of gemm(): a 6 x 16 register-blocked microkernel (12 ymm accumulators,
// 2 ymm of B per k step, one broadcast of A per row) and its edge variants, from the shared
// SIMD kernel (gemm_simd.hpp) over 8-lane ymm vectors. The per-element arithmetic is the
// AVX-512 path's (one FMA chain over k from zero, then + C), so the two paths give
// bit-identical results. Compiled for AVX2 with a function attribute only.
#include <immintrin.h>

#include <algorithm>
#include <cstddef>

#define BACKPROP_AVX2 __attribute__((target("avx2,fma")))
#define BACKPROP_GEMM_TARGET BACKPROP_AVX2
#define BACKPROP_AVX2_INLINE __attribute__((target("avx2,fma"), always_inline)) static inline

#include "kernels/gemm_simd.hpp"

namespace backprop::kernels::detail {

namespace {

// Lane masks for maskload/maskstore: kLaneMask + 8 - w selects the first w lanes.
alignas(32) constexpr int kLaneMask[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

// All ones in the lanes of x that are inf or NaN: x - x is NaN exactly there.
BACKPROP_AVX2 inline __m256 non_finite_lanes(__m256 x) {
  const __m256 d = _mm256_sub_ps(x, x);
  return _mm256_cmp_ps(d, d, _CMP_UNORD_Q);
}

// Transposes the 8 x 8 block held in rows r[0..8) in place: afterwards r[c] holds what was
// column c.
BACKPROP_AVX2 inline void transpose8(__m256 (&r)[8]) {
  __m256 t[8];
  for (std::size_t i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  // u[4q + c]: 128-bit half h holds rows 4q..4q+3 of column 4h + c.
  __m256 u[8];
  for (std::size_t q = 0; q < 2; ++q) {
    u[4 * q + 0] = _mm256_shuffle_ps(t[4 * q], t[4 * q + 2], 0x44);
    u[4 * q + 1] = _mm256_shuffle_ps(t[4 * q], t[4 * q + 2], 0xEE);
    u[4 * q + 2] = _mm256_shuffle_ps(t[4 * q + 1], t[4 * q + 3], 0x44);
    u[4 * q + 3] = _mm256_shuffle_ps(t[4 * q + 1], t[4 * q + 3], 0xEE);
  }
  for (std::size_t c = 0; c < 4; ++c) {
    r[c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x20);
    r[c + 4] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x31);
  }
}

// B(0..k) x [j0, j0 + w) of a transposed B (b_ks == 1: each column of B is a contiguous source
// row) copied into dst as k rows of `ld` floats (ld a multiple of 8, >= w; the columns from w
// up to the next multiple of 8 are zeroed), 8 x 8 blocks at a time.
BACKPROP_AVX2 void pack_transposed8(const Product& g, std::int64_t j0, std::int64_t w, float* dst,
                                    std::int64_t ld) {
  for (std::int64_t jb = 0; jb < w; jb += 8) {
    const std::int64_t rows = std::min<std::int64_t>(8, w - jb);
    for (std::int64_t pb = 0; pb < g.k; pb += 8) {
      const std::int64_t cols = std::min<std::int64_t>(8, g.k - pb);
      const __m256i mask =
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kLaneMask + 8 - cols));
      __m256 r[8];
      for (std::int64_t i = 0; i < 8; ++i) {
        r[i] = i < rows ? _mm256_maskload_ps(g.b + (j0 + jb + i) * g.b_cs + pb, mask)
                        : _mm256_setzero_ps();
      }
      transpose8(r);
      for (std::int64_t c = 0; c < cols; ++c) _mm256_storeu_ps(dst + (pb + c) * ld + jb, r[c]);
    }
  }
}

// The shared kernel's vector traits (gemm_simd.hpp) for ymm registers.
struct Avx2 {
  using Vec = __m256;
  using Mask = __m256i;
  using Bad = __m256;  // all ones in lanes that held inf or NaN
  static constexpr std::int64_t kLanes = 8;
  static constexpr std::size_t kMaxRows = static_cast<std::size_t>(kTileAvx2.rows);  // 6
  static constexpr std::size_t kMaxVectors = 4;
  static constexpr int kPrefetchCForWrite = 0;
  static constexpr bool kPrefetchB = false;
  // Read only when kPrefetchB is set: present so that every vector type has the same traits.
  [[maybe_unused]] static constexpr std::int64_t kPrefetchBRows = 0, kPrefetchBMaxRowTiles = 0;
  static constexpr std::int64_t kPrefetchASteps = 0;
  static constexpr bool kCopiesPanels = false;

  BACKPROP_AVX2_INLINE Mask first_lanes(std::int64_t w) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kLaneMask + 8 - w));
  }
  BACKPROP_AVX2_INLINE Vec zero() { return _mm256_setzero_ps(); }
  BACKPROP_AVX2_INLINE Vec set1(float x) { return _mm256_set1_ps(x); }
  BACKPROP_AVX2_INLINE Vec broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  BACKPROP_AVX2_INLINE Vec load(const float* p) { return _mm256_loadu_ps(p); }
  BACKPROP_AVX2_INLINE Vec load_masked(const float* p, Mask m) { return _mm256_maskload_ps(p, m); }
  BACKPROP_AVX2_INLINE void store(float* p, Vec v) { _mm256_storeu_ps(p, v); }
  BACKPROP_AVX2_INLINE void store_masked(float* p, Mask m, Vec v) { _mm256_maskstore_ps(p, m, v); }
  BACKPROP_AVX2_INLINE Vec fmadd(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
  BACKPROP_AVX2_INLINE Vec mul(Vec a, Vec b) { return _mm256_mul_ps(a, b); }
  BACKPROP_AVX2_INLINE Bad no_bad() { return _mm256_setzero_ps(); }
  BACKPROP_AVX2_INLINE Bad with_non_finite(Bad bad, Vec x) {
    return _mm256_or_ps(bad, non_finite_lanes(x));
  }
  BACKPROP_AVX2_INLINE Bad with_non_finite_masked(Bad bad, Mask m, Vec x) {
    return _mm256_or_ps(bad, non_finite_lanes(_mm256_and_ps(x, _mm256_castsi256_ps(m))));
  }
  BACKPROP_AVX2_INLINE bool any(Bad bad) { return _mm256_movemask_ps(bad) != 0; }

  BACKPROP_AVX2_INLINE void pack_b_transposed(const Product& g, std::int64_t j0, std::int64_t w,
                                              float* dst, std::int64_t ld) {
    pack_transposed8(g, j0, w, dst, ld);
  }
};

}  // namespace

BACKPROP_AVX2 bool block_avx2(const Product& g, std::int64_t i0, std::int64_t i1, std::int64_t j0,
                              std::int64_t j1) {
  return simd_block<Avx2>(g, i0, i1, j0, j1);
}

BACKPROP_AVX2 double fma_loop_avx2(std::int64_t iterations, float seed, float* sink) {
  return simd_fma_loop<Avx2>(iterations, seed, sink);
}

}  // namespace backprop::kernels::detail
