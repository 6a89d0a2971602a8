// The AVX-512 path of gemm(): an 8 x 32 register-blocked microkernel (16 zmm accumulators,
// 2 zmm of B and 8 broadcasts of A per k step) and its edge variants, from the shared SIMD
// kernel (gemm_simd.hpp) over 16-lane zmm vectors. Compiled for AVX-512 with a function
// attribute only, so the rest of the library keeps the baseline instruction set; gemm.cpp
// calls in here only when the CPU has it.
#include <immintrin.h>

#include <algorithm>
#include <cstddef>

// (prfchw: PREFETCHW, present on every AVX-512 CPU.)
#define BACKPROP_AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,fma,prfchw")))
#define BACKPROP_GEMM_TARGET BACKPROP_AVX512
#define BACKPROP_AVX512_INLINE                                            \
  __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,fma,prfchw"), \
                 always_inline)) static inline

#include "kernels/gemm_simd.hpp"

namespace backprop::kernels::detail {

namespace {

// GCC 12's avx512fintrin.h implements the unpack and shuffle intrinsics with a deliberately
// undefined pass-through operand (_mm512_undefined_ps), which -Wmaybe-uninitialized reports
// once they are inlined here. The operand is never read (the operations are unmasked), so the
// warning is silenced for the transpose and the packing routine only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

// Transposes the 16 x 16 block held in rows r[0..16) in place: afterwards r[c] holds what
// was column c. Three rounds of in-lane unpacks/shuffles and two of 128-bit lane shuffles.
BACKPROP_AVX512 inline void transpose16(__m512 (&r)[16]) {
  __m512 t[16];
  for (std::size_t i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  // u[4q + c]: lane L holds rows 4q..4q+3 of column 4L + c.
  __m512 u[16];
  for (std::size_t q = 0; q < 4; ++q) {
    u[4 * q + 0] = _mm512_shuffle_ps(t[4 * q], t[4 * q + 2], 0x44);
    u[4 * q + 1] = _mm512_shuffle_ps(t[4 * q], t[4 * q + 2], 0xEE);
    u[4 * q + 2] = _mm512_shuffle_ps(t[4 * q + 1], t[4 * q + 3], 0x44);
    u[4 * q + 3] = _mm512_shuffle_ps(t[4 * q + 1], t[4 * q + 3], 0xEE);
  }
  for (std::size_t c = 0; c < 4; ++c) {
    // v_lo: columns c and c + 8 of rows 0-7 / 8-15; v_hi: columns c + 4 and c + 12.
    const __m512 lo0 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x88);
    const __m512 hi0 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xDD);
    const __m512 lo1 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x88);
    const __m512 hi1 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xDD);
    r[c] = _mm512_shuffle_f32x4(lo0, lo1, 0x88);
    r[c + 8] = _mm512_shuffle_f32x4(lo0, lo1, 0xDD);
    r[c + 4] = _mm512_shuffle_f32x4(hi0, hi1, 0x88);
    r[c + 12] = _mm512_shuffle_f32x4(hi0, hi1, 0xDD);
  }
}

// B(0..k) x [j0, j0 + w) of a transposed B (b_ks == 1: each column of B is a contiguous source
// row) copied into dst as k rows of `ld` floats (ld a multiple of 16, >= w; the columns from w
// up to the next multiple of 16 are zeroed), 16 x 16 blocks at a time.
BACKPROP_AVX512 void pack_transposed16(const Product& g, std::int64_t j0, std::int64_t w,
                                       float* dst, std::int64_t ld) {
  for (std::int64_t jb = 0; jb < w; jb += 16) {
    const std::int64_t rows = std::min<std::int64_t>(16, w - jb);
    for (std::int64_t pb = 0; pb < g.k; pb += 16) {
      const std::int64_t cols = std::min<std::int64_t>(16, g.k - pb);
      const auto mask = static_cast<__mmask16>((1u << cols) - 1u);
      __m512 r[16];
      for (std::int64_t i = 0; i < 16; ++i) {
        r[i] = i < rows ? _mm512_maskz_loadu_ps(mask, g.b + (j0 + jb + i) * g.b_cs + pb)
                        : _mm512_setzero_ps();
      }
      transpose16(r);
      for (std::int64_t c = 0; c < cols; ++c) _mm512_storeu_ps(dst + (pb + c) * ld + jb, r[c]);
    }
  }
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

// B(0..k) x [j0, j0 + w) of a B read in place (b_cs == 1) copied into dst as k contiguous rows
// of `ld` floats (ld a multiple of 16, >= w; the columns from w up to ld are zeroed).
BACKPROP_AVX512 void pack_rows16(const Product& g, std::int64_t j0, std::int64_t w, float* dst,
                                 std::int64_t ld) {
  const float* src = g.b + j0;
  for (std::int64_t p = 0; p < g.k; ++p, src += g.b_ks, dst += ld) {
    for (std::int64_t jb = 0; jb < ld; jb += 16) {
      const std::int64_t left = w - jb;
      const auto lanes = left >= 16 ? static_cast<__mmask16>(0xFFFF)
                         : left > 0 ? static_cast<__mmask16>((1u << left) - 1u)
                                    : static_cast<__mmask16>(0);
      _mm512_store_ps(dst + jb, _mm512_maskz_loadu_ps(lanes, src + jb));
    }
  }
}

// The shared kernel's vector traits (gemm_simd.hpp) for zmm registers.
struct Avx512 {
  using Vec = __m512;
  using Mask = __mmask16;
  using Bad = __mmask16;  // lanes that held inf or NaN
  static constexpr std::int64_t kLanes = 16;
  static constexpr std::size_t kMaxRows = static_cast<std::size_t>(kTileAvx512.rows);  // 8
  static constexpr std::size_t kMaxVectors = 4;
  // C's lines are requested with write intent.
  static constexpr int kPrefetchCForWrite = 1;
  // A forward product (NN) reading B in place asks for B's row p + 24 while it computes row p.
  // In training B is a weight matrix that the other core has just updated (W1's update product
  // writes it in row blocks, and every block of the forward product reads all its rows): its
  // lines come from the other core's cache, one or two per 512-byte row, a pattern the hardware
  // prefetchers do not run ahead of. On a Sapphire Rapids-class Xeon, W1's forward product after
  // its update took 92-100 us on two threads, against 51-58 us with W1 untouched; with the
  // prefetch it took 66-71 us, and the W1 epoch went from 0.186 to 0.160 s (medians of 8 epochs
  // each, alternating in one process). Distances of 16 to 48 rows measured alike. The weight-
  // gradient products (TN) read B = D, produced on the same step, and are not helped by it.
  // Only for blocks of 3 to 32 rows: each panel of B is then read at most 4 times, so the first
  // read's misses weigh. Taller blocks (inference at batch 10000, 168-row blocks) reuse each panel
  // from L2 many times, and blocks of 1 or 2 rows (batch-1 inference) read a B that stays in L2
  // from call to call; there the extra requests only cost load slots (batch-1 latency 3.90 against
  // 4.19 us without and with, five alternating runs).
  static constexpr bool kPrefetchB = true;
  static constexpr std::int64_t kPrefetchBRows = 24;
  static constexpr std::int64_t kPrefetchBMaxRowTiles = 4;
  // A weight-gradient product (TN, A = X^T or H^T) reads, at step p, 8 consecutive floats of row
  // p of X: one cache line per step, rows 1-3 KB apart. In training X was just written by the
  // gather with its rows split between the threads (H by the forward product's row blocks), so
  // half of those lines are in the other core's cache, and the hardware prefetchers do not run
  // ahead of such a stride. The tile requests the line of step p + 16. A scratch loop of W1's
  // gather, forward and update products on two threads: the update took 74-78 us after the
  // gather-like rewrite of X and 54-57 us with the request (distances 8 to 32 measured; 12-16
  // best); in the training loop the W1 epoch's medians went down by 1-6% in four paired sets of
  // 8-12 epochs, alternating epoch by epoch in one process.
  static constexpr std::int64_t kPrefetchASteps = 16;
  static constexpr bool kCopiesPanels = true;
  // fpclass categories: quiet NaN (0x01), +inf (0x08), -inf (0x10), signalling NaN (0x80).
  static constexpr int kNonFinite = 0x99;

  BACKPROP_AVX512_INLINE Mask first_lanes(std::int64_t w) {
    return static_cast<__mmask16>((1u << w) - 1u);
  }
  BACKPROP_AVX512_INLINE Vec zero() { return _mm512_setzero_ps(); }
  BACKPROP_AVX512_INLINE Vec set1(float x) { return _mm512_set1_ps(x); }
  BACKPROP_AVX512_INLINE Vec broadcast(const float* p) { return _mm512_set1_ps(*p); }
  BACKPROP_AVX512_INLINE Vec load(const float* p) { return _mm512_loadu_ps(p); }
  BACKPROP_AVX512_INLINE Vec load_masked(const float* p, Mask m) {
    return _mm512_maskz_loadu_ps(m, p);
  }
  BACKPROP_AVX512_INLINE void store(float* p, Vec v) { _mm512_storeu_ps(p, v); }
  BACKPROP_AVX512_INLINE void store_masked(float* p, Mask m, Vec v) {
    _mm512_mask_storeu_ps(p, m, v);
  }
  BACKPROP_AVX512_INLINE Vec fmadd(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
  BACKPROP_AVX512_INLINE Vec mul(Vec a, Vec b) { return _mm512_mul_ps(a, b); }
  BACKPROP_AVX512_INLINE Bad no_bad() { return 0; }
  BACKPROP_AVX512_INLINE Bad with_non_finite(Bad bad, Vec x) {
    return bad | _mm512_fpclass_ps_mask(x, kNonFinite);
  }
  BACKPROP_AVX512_INLINE Bad with_non_finite_masked(Bad bad, Mask m, Vec x) {
    return bad | _mm512_mask_fpclass_ps_mask(m, x, kNonFinite);
  }
  BACKPROP_AVX512_INLINE bool any(Bad bad) { return bad != 0; }

  static bool copies_panels(const Product& g, std::int64_t rows) {
    return copies_b_panels(g, rows);
  }
  BACKPROP_AVX512_INLINE void pack_b_rows(const Product& g, std::int64_t j0, std::int64_t w,
                                          float* dst, std::int64_t ld) {
    pack_rows16(g, j0, w, dst, ld);
  }
  BACKPROP_AVX512_INLINE void pack_b_transposed(const Product& g, std::int64_t j0, std::int64_t w,
                                                float* dst, std::int64_t ld) {
    pack_transposed16(g, j0, w, dst, ld);
  }
};

}  // namespace

BACKPROP_AVX512 bool block_avx512(const Product& g, std::int64_t i0, std::int64_t i1,
                                  std::int64_t j0, std::int64_t j1) {
  return simd_block<Avx512>(g, i0, i1, j0, j1);
}

BACKPROP_AVX512 double fma_loop_avx512(std::int64_t iterations, float seed, float* sink) {
  return simd_fma_loop<Avx512>(iterations, seed, sink);
}

}  // namespace backprop::kernels::detail
