// The AVX-512 path of gemm(): an 8 x 32 register-blocked microkernel (16 zmm accumulators,
// 2 zmm of B and 8 broadcasts of A per k step) and its edge variants. Compiled for AVX-512 with a
// function attribute only, so the rest of the library keeps the baseline instruction set; gemm.cpp
// calls in here only when the CPU has it.
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <utility>

#include "backprop/matrix.hpp"
#include "kernels/gemm_kernels.hpp"

// (prfchw: PREFETCHW, present on every AVX-512 CPU.)
#define BACKPROP_AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,fma,prfchw")))

namespace backprop::kernels::detail {

namespace {

constexpr std::size_t kMaxRows = static_cast<std::size_t>(kTileAvx512.rows);  // 8
constexpr std::size_t kMaxVectors = 4;
constexpr std::int64_t kPrefetchABytes = 1 << 20;  // see block_*: A larger than this streams
constexpr std::int64_t kRows = kTileAvx512.rows;
// Columns / 16 of the widest tile (used for 1- and 2-row blocks).
constexpr std::int64_t kWideVectors = static_cast<std::int64_t>(kMaxVectors);
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
constexpr std::int64_t kPrefetchBRows = 24;
constexpr std::int64_t kPrefetchBMaxRowTiles = 4;
// A weight-gradient product (TN, A = X^T or H^T) reads, at step p, 8 consecutive floats of row
// p of X: one cache line per step, rows 1-3 KB apart. In training X was just written by the
// gather with its rows split between the threads (H by the forward product's row blocks), so
// half of those lines are in the other core's cache, and the hardware prefetchers do not run
// ahead of such a stride. The tile requests the line of step p + 16. A scratch loop of W1's
// gather, forward and update products on two threads: the update took 74-78 us after the
// gather-like rewrite of X and 54-57 us with the request (distances 8 to 32 measured; 12-16
// best); in the training loop the W1 epoch's medians went down by 1-6% in four paired sets of
// 8-12 epochs, alternating epoch by epoch in one process.
constexpr std::int64_t kPrefetchASteps = 16;

// One register tile: C[0..MR) x [0..16 NV) from
//   A(r, p) = kRowA ? a[r * as + p] : a[p * as + r]   and   B(p, 16 v + l) = b[p * bks + 16 v + l].
// With kMasked the last vector is restricted to the lanes of `last`; lanes of B outside it are
// never read, so B needs no padding. (Full tiles use plain loads: measurably faster on Zen 4.)
// The store: C = fma(alpha, acc, C) when accumulating, else alpha acc; returns a mask of the
// lanes that stored inf or NaN when `check` is set (0 otherwise). With prefetch_b > 0 each k
// step also requests B's row p + prefetch_b into L1 (a hint: addresses past B are never read).
template <std::size_t MR, std::size_t NV, bool kRowA, bool kMasked>
BACKPROP_AVX512 __mmask16 tile(std::int64_t k, const float* a, std::int64_t as, const float* b,
                               std::int64_t bks, float* c, std::int64_t ldc, __mmask16 last,
                               bool accumulate, float alpha, bool check, std::int64_t prefetch_b) {
  __m512 acc[MR][NV];
#pragma GCC unroll 8
  for (std::size_t r = 0; r < MR; ++r) {
#pragma GCC unroll 4
    for (std::size_t v = 0; v < NV; ++v) acc[r][v] = _mm512_setzero_ps();
  }
  const float* arow[MR];
#pragma GCC unroll 8
  for (std::size_t r = 0; r < MR; ++r)
    arow[r] = kRowA ? a + static_cast<std::int64_t>(r) * as : a + r;
  const std::int64_t astep = kRowA ? 1 : as;
  // Ask for C's lines (with write intent) now, so that the stores after the k loop do not wait
  // for them: in a training step C (a weight gradient, say) has usually left L2 since last time.
#pragma GCC unroll 8
  for (std::size_t r = 0; r < MR; ++r) {
#pragma GCC unroll 4
    for (std::size_t v = 0; v < NV; ++v)
      __builtin_prefetch(c + static_cast<std::int64_t>(r) * ldc + 16 * v, 1, 3);
  }

  const std::int64_t prefetch_offset = prefetch_b * bks;
  const std::int64_t prefetch_a_offset = kPrefetchASteps * as;
  for (std::int64_t p = 0; p < k; ++p) {
    // A transposed (TN): the 8 values of step p + kPrefetchASteps sit in one cache line of a
    // row of X or H, 1-3 KB after this step's (see kPrefetchASteps).
    if constexpr (!kRowA)
      _mm_prefetch(reinterpret_cast<const char*>(arow[0] + prefetch_a_offset), _MM_HINT_T0);
    if (prefetch_b != 0) {
#pragma GCC unroll 4
      for (std::size_t v = 0; v < NV; ++v)
        _mm_prefetch(reinterpret_cast<const char*>(b + prefetch_offset + 16 * v), _MM_HINT_T0);
    }
    __m512 bv[NV];
#pragma GCC unroll 4
    for (std::size_t v = 0; v + 1 < NV; ++v) bv[v] = _mm512_loadu_ps(b + 16 * v);
    bv[NV - 1] = kMasked ? _mm512_maskz_loadu_ps(last, b + 16 * (NV - 1))
                         : _mm512_loadu_ps(b + 16 * (NV - 1));
#pragma GCC unroll 8
    for (std::size_t r = 0; r < MR; ++r) {
      const __m512 av = _mm512_set1_ps(*arow[r]);
#pragma GCC unroll 4
      for (std::size_t v = 0; v < NV; ++v) acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
    }
#pragma GCC unroll 8
    for (std::size_t r = 0; r < MR; ++r) arow[r] += astep;
    b += bks;
  }

  const __m512 scale = _mm512_set1_ps(alpha);
  // fpclass categories: quiet NaN (0x01), +inf (0x08), -inf (0x10), signalling NaN (0x80).
  constexpr int kNonFinite = 0x99;
  __mmask16 bad = 0;
#pragma GCC unroll 8
  for (std::size_t r = 0; r < MR; ++r) {
    float* cr = c + static_cast<std::int64_t>(r) * ldc;
#pragma GCC unroll 4
    for (std::size_t v = 0; v + 1 < NV; ++v) {
      const __m512 x = accumulate ? _mm512_fmadd_ps(scale, acc[r][v], _mm512_loadu_ps(cr + 16 * v))
                                  : _mm512_mul_ps(scale, acc[r][v]);
      if (check) bad |= _mm512_fpclass_ps_mask(x, kNonFinite);
      _mm512_storeu_ps(cr + 16 * v, x);
    }
    float* cl = cr + 16 * (NV - 1);
    const __m512 old = !accumulate ? _mm512_setzero_ps()
                       : kMasked   ? _mm512_maskz_loadu_ps(last, cl)
                                   : _mm512_loadu_ps(cl);
    const __m512 x = accumulate ? _mm512_fmadd_ps(scale, acc[r][NV - 1], old)
                                : _mm512_mul_ps(scale, acc[r][NV - 1]);
    // Lanes outside `last` are never stored, so they are not checked either.
    if (check) bad |= _mm512_mask_fpclass_ps_mask(kMasked ? last : 0xFFFF, x, kNonFinite);
    if (kMasked) {
      _mm512_mask_storeu_ps(cl, last, x);
    } else {
      _mm512_storeu_ps(cl, x);
    }
  }
  return bad;
}

using TileFn = __mmask16 (*)(std::int64_t, const float*, std::int64_t, const float*, std::int64_t,
                             float*, std::int64_t, __mmask16, bool, float, bool, std::int64_t);

// Tiles wider than 2 vectors are only used for blocks of 1 or 2 rows.
template <std::size_t MR, std::size_t NV, bool kRowA, bool kMasked>
constexpr TileFn tile_or_null() {
  if constexpr (NV <= 2 || MR <= 2) {
    return &tile<MR, NV, kRowA, kMasked>;
  } else {
    return nullptr;
  }
}

template <bool kRowA, bool kMasked, std::size_t... I>
constexpr std::array<TileFn, sizeof...(I)> make_tiles(std::index_sequence<I...>) {
  return {tile_or_null<I / kMaxVectors + 1, I % kMaxVectors + 1, kRowA, kMasked>()...};
}

// Indexed by [A layout][last vector partial][(rows - 1) * kMaxVectors + (vectors - 1)].
using TileTable = std::array<TileFn, kMaxRows * kMaxVectors>;
constexpr TileTable kTiles[2][2] = {
    {make_tiles<false, false>(std::make_index_sequence<kMaxRows * kMaxVectors>{}),
     make_tiles<false, true>(std::make_index_sequence<kMaxRows * kMaxVectors>{})},
    {make_tiles<true, false>(std::make_index_sequence<kMaxRows * kMaxVectors>{}),
     make_tiles<true, true>(std::make_index_sequence<kMaxRows * kMaxVectors>{})}};

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
BACKPROP_AVX512 void pack_b_transposed(const Product& g, std::int64_t j0, std::int64_t w,
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
BACKPROP_AVX512 void pack_b_rows(const Product& g, std::int64_t j0, std::int64_t w, float* dst,
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

float* pack_buffer(std::size_t floats) {
  thread_local AlignedBuffer<float> buffer;
  if (buffer.size() < floats) buffer = AlignedBuffer<float>(floats);
  return buffer.data();
}

}  // namespace

BACKPROP_AVX512 bool block_avx512(const Product& g, std::int64_t i0, std::int64_t i1,
                                  std::int64_t j0, std::int64_t j1) {
  const bool transposed_b = g.b_cs != 1;
  const bool pack = transposed_b || copies_b_panels(g, i1 - i0);
  const bool row_a = g.a_ks == 1;
  const std::int64_t a_stride = row_a ? g.a_rs : g.a_ks;
  // A block of one or two rows gets 64-column tiles so that at least four independent FMA
  // chains hide the FMA latency.
  const std::int64_t vectors = i1 - i0 <= 2 ? kWideVectors : 2;
  const std::int64_t tile_cols = 16 * vectors;
  float* packed = pack ? pack_buffer(static_cast<std::size_t>(g.k * tile_cols)) : nullptr;
  const auto& tiles = kTiles[row_a ? 1 : 0];
  __mmask16 bad = 0;

  // One microkernel call: rows [i, i + kRows) x columns [j, j + tile_cols) clipped to the block,
  // with B's k-rows at bp (stride bks).
  const auto run_tile = [&](std::int64_t i, std::int64_t j, const float* bp, std::int64_t bks,
                            std::int64_t prefetch_b) {
    const std::int64_t w = std::min(tile_cols, j1 - j);
    const std::int64_t nv = (w + 15) / 16;
    const auto last = static_cast<__mmask16>((1u << (w - 16 * (nv - 1))) - 1u);
    const std::int64_t mr = std::min(kRows, i1 - i);
    const float* ap = row_a ? g.a + i * g.a_rs : g.a + i;
    const TileFn fn =
        tiles[last != 0xFFFF ? 1 : 0][static_cast<std::size_t>((mr - 1) * kWideVectors + (nv - 1))];
    bad |= fn(g.k, ap, a_stride, bp, bks, g.c + i * g.ldc + j, g.ldc, last, g.accumulate, g.alpha,
              g.check_finite, prefetch_b);
  };

  if (pack) {
    // Column panels outermost: each panel of B is transposed (or copied) once and used for
    // every row tile of the block.
    for (std::int64_t j = j0; j < j1; j += tile_cols) {
      if (transposed_b) {
        pack_b_transposed(g, j, std::min(tile_cols, j1 - j), packed, tile_cols);
      } else {
        pack_b_rows(g, j, std::min(tile_cols, j1 - j), packed, tile_cols);
      }
      for (std::int64_t i = i0; i < i1; i += kRows) run_tile(i, j, packed, tile_cols, 0);
    }
  } else {
    // Row tiles outermost: the rows of A a tile needs stay in L1 across the column tiles, and
    // a tall A streams from memory once (B, read in place, stays in L2).
    // When A is too big to stay in cache (inference on a large batch) and a row tile has a
    // single column tile (the 10000 x 10 output layer), the kernel would wait on memory at
    // every row tile: the next row tile's rows of A are requested into L2 while this one
    // computes (1.6x faster there). With more column tiles the hardware prefetchers keep up,
    // and the extra requests cost 3%.
    const bool prefetch_a = row_a && j1 - j0 <= tile_cols && g.m * g.k * 4 > kPrefetchABytes;
    const std::int64_t prefetch_b =
        row_a && i1 - i0 > 2 && i1 - i0 <= kPrefetchBMaxRowTiles * kRows ? kPrefetchBRows : 0;
    for (std::int64_t i = i0; i < i1; i += kRows) {
      if (prefetch_a && i + kRows < i1) {
        const std::int64_t rows = std::min(kRows, i1 - i - kRows);
        for (std::int64_t r = 0; r < rows; ++r) {
          const float* row = g.a + (i + kRows + r) * g.a_rs;
          for (std::int64_t p = 0; p < g.k; p += 16) {
            _mm_prefetch(reinterpret_cast<const char*>(row + p), _MM_HINT_T1);
          }
        }
      }
      for (std::int64_t j = j0; j < j1; j += tile_cols) run_tile(i, j, g.b + j, g.b_ks, prefetch_b);
    }
  }
  return bad == 0;
}

BACKPROP_AVX512 double fma_loop_avx512(std::int64_t iterations, float seed, float* sink) {
  // 12 independent chains: more than latency x throughput of any current core.
  constexpr int kChains = 12;
  const __m512 x = _mm512_set1_ps(1.0000001f);
  const __m512 y = _mm512_set1_ps(seed * 1e-7f);
  // Distinct starting values: identical chains would be merged by the compiler.
  __m512 a0 = _mm512_set1_ps(seed + 0.0f);
  __m512 a1 = _mm512_set1_ps(seed + 1.0f);
  __m512 a2 = _mm512_set1_ps(seed + 2.0f);
  __m512 a3 = _mm512_set1_ps(seed + 3.0f);
  __m512 a4 = _mm512_set1_ps(seed + 4.0f);
  __m512 a5 = _mm512_set1_ps(seed + 5.0f);
  __m512 a6 = _mm512_set1_ps(seed + 6.0f);
  __m512 a7 = _mm512_set1_ps(seed + 7.0f);
  __m512 a8 = _mm512_set1_ps(seed + 8.0f);
  __m512 a9 = _mm512_set1_ps(seed + 9.0f);
  __m512 a10 = _mm512_set1_ps(seed + 10.0f);
  __m512 a11 = _mm512_set1_ps(seed + 11.0f);
  for (std::int64_t it = 0; it < iterations; ++it) {
    a0 = _mm512_fmadd_ps(a0, x, y);
    a1 = _mm512_fmadd_ps(a1, x, y);
    a2 = _mm512_fmadd_ps(a2, x, y);
    a3 = _mm512_fmadd_ps(a3, x, y);
    a4 = _mm512_fmadd_ps(a4, x, y);
    a5 = _mm512_fmadd_ps(a5, x, y);
    a6 = _mm512_fmadd_ps(a6, x, y);
    a7 = _mm512_fmadd_ps(a7, x, y);
    a8 = _mm512_fmadd_ps(a8, x, y);
    a9 = _mm512_fmadd_ps(a9, x, y);
    a10 = _mm512_fmadd_ps(a10, x, y);
    a11 = _mm512_fmadd_ps(a11, x, y);
  }
  const __m512 s =
      _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                                  _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7))),
                    _mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)));
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, s);
  float total = 0.0f;
  for (const float v : lanes) total += v;
  *sink = total;
  return static_cast<double>(iterations) * kChains * 16 * 2;
}

}  // namespace backprop::kernels::detail
