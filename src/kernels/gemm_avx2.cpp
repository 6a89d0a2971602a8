// The AVX2 + FMA path of gemm(): a 6 x 16 register-blocked microkernel (12 ymm accumulators,
// 2 ymm of B per k step, one broadcast of A per row) and its edge variants. The per-element
// arithmetic is the AVX-512 path's (one FMA chain over k from zero, then + C), so the two
// paths give bit-identical results. Compiled for AVX2 with a function attribute only.
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <utility>

#include "backprop/matrix.hpp"
#include "kernels/gemm_kernels.hpp"

#define BACKPROP_AVX2 __attribute__((target("avx2,fma")))

namespace backprop::kernels::detail {

namespace {

constexpr std::size_t kMaxRows = static_cast<std::size_t>(kTileAvx2.rows);  // 6
constexpr std::size_t kMaxVectors = 4;
constexpr std::int64_t kPrefetchABytes = 1 << 20;  // see block_*: A larger than this streams
constexpr std::int64_t kRows = kTileAvx2.rows;
constexpr std::int64_t kWideVectors = static_cast<std::int64_t>(
    kMaxVectors);  // columns / 8 of the widest tile (used for 1- and 2-row blocks)

// Lane masks for maskload/maskstore: kLaneMask + 8 - w selects the first w lanes.
alignas(32) constexpr int kLaneMask[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

// All ones in the lanes of x that are inf or NaN: x - x is NaN exactly there.
BACKPROP_AVX2 inline __m256 non_finite_lanes(__m256 x) {
  const __m256 d = _mm256_sub_ps(x, x);
  return _mm256_cmp_ps(d, d, _CMP_UNORD_Q);
}

// One register tile: C[0..MR) x [0..8 NV). With kMasked the last vector is restricted to its
// first `last_width` lanes (lanes of B beyond them are never read, so B needs no padding);
// full tiles avoid vmaskmovps, which is slow on some cores.
// The store: C = fma(alpha, acc, C) when accumulating, else alpha acc; returns whether an
// inf or NaN was stored when `check` is set (false otherwise).
template <std::size_t MR, std::size_t NV, bool kRowA, bool kMasked>
BACKPROP_AVX2 bool tile(std::int64_t k, const float* a, std::int64_t as, const float* b,
                        std::int64_t bks, float* c, std::int64_t ldc, std::int64_t last_width,
                        bool accumulate, float alpha, bool check) {
  const __m256i last =
      _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kLaneMask + 8 - last_width));
  __m256 acc[MR][NV];
#pragma GCC unroll 8
  for (std::size_t r = 0; r < MR; ++r) {
#pragma GCC unroll 4
    for (std::size_t v = 0; v < NV; ++v) acc[r][v] = _mm256_setzero_ps();
  }
  const float* arow[MR];
#pragma GCC unroll 8
  for (std::size_t r = 0; r < MR; ++r)
    arow[r] = kRowA ? a + static_cast<std::int64_t>(r) * as : a + r;
  const std::int64_t astep = kRowA ? 1 : as;
  // Ask for C's lines now, so that the stores after the k loop do not wait for them.
#pragma GCC unroll 8
  for (std::size_t r = 0; r < MR; ++r) {
#pragma GCC unroll 4
    for (std::size_t v = 0; v < NV; ++v)
      __builtin_prefetch(c + static_cast<std::int64_t>(r) * ldc + 8 * v, 0, 3);
  }

  for (std::int64_t p = 0; p < k; ++p) {
    __m256 bv[NV];
#pragma GCC unroll 4
    for (std::size_t v = 0; v + 1 < NV; ++v) bv[v] = _mm256_loadu_ps(b + 8 * v);
    bv[NV - 1] =
        kMasked ? _mm256_maskload_ps(b + 8 * (NV - 1), last) : _mm256_loadu_ps(b + 8 * (NV - 1));
#pragma GCC unroll 8
    for (std::size_t r = 0; r < MR; ++r) {
      const __m256 av = _mm256_broadcast_ss(arow[r]);
#pragma GCC unroll 4
      for (std::size_t v = 0; v < NV; ++v) acc[r][v] = _mm256_fmadd_ps(av, bv[v], acc[r][v]);
    }
#pragma GCC unroll 8
    for (std::size_t r = 0; r < MR; ++r) arow[r] += astep;
    b += bks;
  }

  const __m256 scale = _mm256_set1_ps(alpha);
  __m256 bad = _mm256_setzero_ps();
#pragma GCC unroll 8
  for (std::size_t r = 0; r < MR; ++r) {
    float* cr = c + static_cast<std::int64_t>(r) * ldc;
#pragma GCC unroll 4
    for (std::size_t v = 0; v + 1 < NV; ++v) {
      const __m256 x = accumulate ? _mm256_fmadd_ps(scale, acc[r][v], _mm256_loadu_ps(cr + 8 * v))
                                  : _mm256_mul_ps(scale, acc[r][v]);
      if (check) bad = _mm256_or_ps(bad, non_finite_lanes(x));
      _mm256_storeu_ps(cr + 8 * v, x);
    }
    float* cl = cr + 8 * (NV - 1);
    const __m256 old = !accumulate ? _mm256_setzero_ps()
                       : kMasked   ? _mm256_maskload_ps(cl, last)
                                   : _mm256_loadu_ps(cl);
    __m256 x = accumulate ? _mm256_fmadd_ps(scale, acc[r][NV - 1], old)
                          : _mm256_mul_ps(scale, acc[r][NV - 1]);
    if (kMasked) {
      _mm256_maskstore_ps(cl, last, x);
      // Lanes outside `last` are never stored, so they are not checked either.
      x = _mm256_and_ps(x, _mm256_castsi256_ps(last));
    } else {
      _mm256_storeu_ps(cl, x);
    }
    if (check) bad = _mm256_or_ps(bad, non_finite_lanes(x));
  }
  return _mm256_movemask_ps(bad) != 0;
}

using TileFn = bool (*)(std::int64_t, const float*, std::int64_t, const float*, std::int64_t,
                        float*, std::int64_t, std::int64_t, bool, float, bool);

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
BACKPROP_AVX2 void pack_b_transposed(const Product& g, std::int64_t j0, std::int64_t w, float* dst,
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

float* pack_buffer(std::size_t floats) {
  thread_local AlignedBuffer<float> buffer;
  if (buffer.size() < floats) buffer = AlignedBuffer<float>(floats);
  return buffer.data();
}

}  // namespace

BACKPROP_AVX2 bool block_avx2(const Product& g, std::int64_t i0, std::int64_t i1, std::int64_t j0,
                              std::int64_t j1) {
  const bool pack = g.b_cs != 1;
  const bool row_a = g.a_ks == 1;
  const std::int64_t a_stride = row_a ? g.a_rs : g.a_ks;
  const std::int64_t vectors = i1 - i0 <= 2 ? kWideVectors : 2;
  const std::int64_t tile_cols = 8 * vectors;
  float* packed = pack ? pack_buffer(static_cast<std::size_t>(g.k * tile_cols)) : nullptr;
  const auto& tiles = kTiles[row_a ? 1 : 0];
  bool bad = false;

  // One microkernel call: rows [i, i + kRows) x columns [j, j + tile_cols) clipped to the block,
  // with B's k-rows at bp (stride bks).
  const auto run_tile = [&](std::int64_t i, std::int64_t j, const float* bp, std::int64_t bks) {
    const std::int64_t w = std::min(tile_cols, j1 - j);
    const std::int64_t nv = (w + 7) / 8;
    const std::int64_t last = w - 8 * (nv - 1);
    const std::int64_t mr = std::min(kRows, i1 - i);
    const float* ap = row_a ? g.a + i * g.a_rs : g.a + i;
    const TileFn fn =
        tiles[last < 8 ? 1 : 0][static_cast<std::size_t>((mr - 1) * kWideVectors + (nv - 1))];
    bad |= fn(g.k, ap, a_stride, bp, bks, g.c + i * g.ldc + j, g.ldc, last, g.accumulate, g.alpha,
              g.check_finite);
  };

  if (pack) {
    // Column panels outermost: each panel of B is transposed once and used for every row.
    for (std::int64_t j = j0; j < j1; j += tile_cols) {
      pack_b_transposed(g, j, std::min(tile_cols, j1 - j), packed, tile_cols);
      for (std::int64_t i = i0; i < i1; i += kRows) run_tile(i, j, packed, tile_cols);
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
      for (std::int64_t j = j0; j < j1; j += tile_cols) run_tile(i, j, g.b + j, g.b_ks);
    }
  }
  return !bad;
}

BACKPROP_AVX2 double fma_loop_avx2(std::int64_t iterations, float seed, float* sink) {
  constexpr int kChains = 12;
  const __m256 x = _mm256_set1_ps(1.0000001f);
  const __m256 y = _mm256_set1_ps(seed * 1e-7f);
  // Distinct starting values: identical chains would be merged by the compiler.
  __m256 a0 = _mm256_set1_ps(seed + 0.0f);
  __m256 a1 = _mm256_set1_ps(seed + 1.0f);
  __m256 a2 = _mm256_set1_ps(seed + 2.0f);
  __m256 a3 = _mm256_set1_ps(seed + 3.0f);
  __m256 a4 = _mm256_set1_ps(seed + 4.0f);
  __m256 a5 = _mm256_set1_ps(seed + 5.0f);
  __m256 a6 = _mm256_set1_ps(seed + 6.0f);
  __m256 a7 = _mm256_set1_ps(seed + 7.0f);
  __m256 a8 = _mm256_set1_ps(seed + 8.0f);
  __m256 a9 = _mm256_set1_ps(seed + 9.0f);
  __m256 a10 = _mm256_set1_ps(seed + 10.0f);
  __m256 a11 = _mm256_set1_ps(seed + 11.0f);
  for (std::int64_t it = 0; it < iterations; ++it) {
    a0 = _mm256_fmadd_ps(a0, x, y);
    a1 = _mm256_fmadd_ps(a1, x, y);
    a2 = _mm256_fmadd_ps(a2, x, y);
    a3 = _mm256_fmadd_ps(a3, x, y);
    a4 = _mm256_fmadd_ps(a4, x, y);
    a5 = _mm256_fmadd_ps(a5, x, y);
    a6 = _mm256_fmadd_ps(a6, x, y);
    a7 = _mm256_fmadd_ps(a7, x, y);
    a8 = _mm256_fmadd_ps(a8, x, y);
    a9 = _mm256_fmadd_ps(a9, x, y);
    a10 = _mm256_fmadd_ps(a10, x, y);
    a11 = _mm256_fmadd_ps(a11, x, y);
  }
  const __m256 s =
      _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                                  _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7))),
                    _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, s);
  float total = 0.0f;
  for (const float v : lanes) total += v;
  *sink = total;
  return static_cast<double>(iterations) * kChains * 8 * 2;
}

}  // namespace backprop::kernels::detail
