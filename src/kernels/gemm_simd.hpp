#pragma once
// The register-tile microkernel, its table of edge variants and the block loop of the SIMD
// GEMM paths, written once over a vector-traits class V. gemm_avx2.cpp and gemm_avx512.cpp
// each include it with BACKPROP_GEMM_TARGET set to their function attribute and define their
// V: every function here is then compiled for that instruction set only, and (in an anonymous
// namespace) stays private to the file, so no copy built for one instruction set can be
// linked into another path's callers.
//
// V provides, all force-inlined and compiled for the same target:
//   Vec, kLanes, kMaxRows (rows of the full tile), kMaxVectors (vectors of the widest tile)
//   Mask first_lanes(w)                 the first w lanes (1 <= w <= kLanes)
//   zero(), set1(x), broadcast(p), load(p), load_masked(p, m), store(p, v),
//   store_masked(p, m, v), fmadd(a, b, c) = a b + c, mul(a, b)
//   Bad, no_bad(), with_non_finite(bad, v), with_non_finite_masked(bad, m, v), any(bad)
//   kPrefetchCForWrite                  second argument of __builtin_prefetch for C's lines
//   kPrefetchB, kPrefetchBRows, kPrefetchBMaxRowTiles   B prefetch ahead of the k loop (NN)
//   kPrefetchASteps (0: none)           transposed-A prefetch distance (TN)
//   kCopiesPanels; if set, copies_panels(g, rows) and pack_b_rows(g, j, w, dst, ld): whether
//                                       and how a block copies the panels of a B read in place
//   pack_b_transposed(g, j, w, dst, ld)                      packing a transposed B
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "backprop/matrix.hpp"
#include "kernels/gemm_kernels.hpp"

#ifndef BACKPROP_GEMM_TARGET
#error "define BACKPROP_GEMM_TARGET (the path's target attribute) before including gemm_simd.hpp"
#endif

namespace backprop::kernels::detail {
namespace {

constexpr std::int64_t kPrefetchABytes = 1 << 20;  // see simd_block: A larger than this streams

// One register tile: C[0..MR) x [0..kLanes NV) from
//   A(r, p) = kRowA ? a[r * as + p] : a[p * as + r]   and   B(p, kLanes v + l) = b[p * bks + ...].
// With kMasked the last vector is restricted to its first `last_width` lanes (lanes of B
// beyond them are never read, so B needs no padding); full tiles use plain loads, which are
// faster than masked ones on some cores. The store: C = fma(alpha, acc, C) when accumulating,
// else alpha acc; returns whether an inf or NaN was stored when `check` is set (false
// otherwise). With prefetch_b > 0 each k step also requests B's row p + prefetch_b into L1 (a
// hint: addresses past B are never read).
template <class V, std::size_t MR, std::size_t NV, bool kRowA, bool kMasked>
BACKPROP_GEMM_TARGET bool simd_tile(std::int64_t k, const float* a, std::int64_t as, const float* b,
                                    std::int64_t bks, float* c, std::int64_t ldc,
                                    std::int64_t last_width, bool accumulate, float alpha,
                                    bool check, std::int64_t prefetch_b) {
  constexpr std::int64_t L = V::kLanes;
  const auto last = V::first_lanes(last_width);
  typename V::Vec acc[MR][NV];
#pragma GCC unroll 8
  for (std::size_t r = 0; r < MR; ++r) {
#pragma GCC unroll 4
    for (std::size_t v = 0; v < NV; ++v) acc[r][v] = V::zero();
  }
  const float* arow[MR];
#pragma GCC unroll 8
  for (std::size_t r = 0; r < MR; ++r)
    arow[r] = kRowA ? a + static_cast<std::int64_t>(r) * as : a + r;
  const std::int64_t astep = kRowA ? 1 : as;
  // Ask for C's lines now, so that the stores after the k loop do not wait for them: in a
  // training step C (a weight gradient, say) has usually left L2 since last time.
#pragma GCC unroll 8
  for (std::size_t r = 0; r < MR; ++r) {
#pragma GCC unroll 4
    for (std::size_t v = 0; v < NV; ++v)
      __builtin_prefetch(c + static_cast<std::int64_t>(r) * ldc + L * static_cast<std::int64_t>(v),
                         V::kPrefetchCForWrite, 3);
  }

  const std::int64_t prefetch_offset = prefetch_b * bks;
  const std::int64_t prefetch_a_offset = V::kPrefetchASteps * as;
  for (std::int64_t p = 0; p < k; ++p) {
    // A transposed (TN): the values of step p + kPrefetchASteps sit in one cache line of a
    // row of X or H, 1-3 KB after this step's.
    if constexpr (!kRowA && V::kPrefetchASteps > 0)
      _mm_prefetch(reinterpret_cast<const char*>(arow[0] + prefetch_a_offset), _MM_HINT_T0);
    if constexpr (V::kPrefetchB) {
      if (prefetch_b != 0) {
#pragma GCC unroll 4
        for (std::size_t v = 0; v < NV; ++v)
          _mm_prefetch(
              reinterpret_cast<const char*>(b + prefetch_offset + L * static_cast<std::int64_t>(v)),
              _MM_HINT_T0);
      }
    }
    typename V::Vec bv[NV];
#pragma GCC unroll 4
    for (std::size_t v = 0; v + 1 < NV; ++v) bv[v] = V::load(b + L * static_cast<std::int64_t>(v));
    const float* b_last = b + L * static_cast<std::int64_t>(NV - 1);
    bv[NV - 1] = kMasked ? V::load_masked(b_last, last) : V::load(b_last);
#pragma GCC unroll 8
    for (std::size_t r = 0; r < MR; ++r) {
      const auto av = V::broadcast(arow[r]);
#pragma GCC unroll 4
      for (std::size_t v = 0; v < NV; ++v) acc[r][v] = V::fmadd(av, bv[v], acc[r][v]);
    }
#pragma GCC unroll 8
    for (std::size_t r = 0; r < MR; ++r) arow[r] += astep;
    b += bks;
  }

  const auto scale = V::set1(alpha);
  auto bad = V::no_bad();
#pragma GCC unroll 8
  for (std::size_t r = 0; r < MR; ++r) {
    float* cr = c + static_cast<std::int64_t>(r) * ldc;
#pragma GCC unroll 4
    for (std::size_t v = 0; v + 1 < NV; ++v) {
      float* cv = cr + L * static_cast<std::int64_t>(v);
      const auto x =
          accumulate ? V::fmadd(scale, acc[r][v], V::load(cv)) : V::mul(scale, acc[r][v]);
      if (check) bad = V::with_non_finite(bad, x);
      V::store(cv, x);
    }
    float* cl = cr + L * static_cast<std::int64_t>(NV - 1);
    const auto old = !accumulate ? V::zero() : kMasked ? V::load_masked(cl, last) : V::load(cl);
    const auto x =
        accumulate ? V::fmadd(scale, acc[r][NV - 1], old) : V::mul(scale, acc[r][NV - 1]);
    if (kMasked) {
      // Lanes outside `last` are never stored, so they are not checked either.
      if (check) bad = V::with_non_finite_masked(bad, last, x);
      V::store_masked(cl, last, x);
    } else {
      if (check) bad = V::with_non_finite(bad, x);
      V::store(cl, x);
    }
  }
  return V::any(bad);
}

using SimdTileFn = bool (*)(std::int64_t, const float*, std::int64_t, const float*, std::int64_t,
                            float*, std::int64_t, std::int64_t, bool, float, bool, std::int64_t);

// Tiles wider than 2 vectors are only used for blocks of 1 or 2 rows.
template <class V, std::size_t MR, std::size_t NV, bool kRowA, bool kMasked>
constexpr SimdTileFn tile_or_null() {
  if constexpr (NV <= 2 || MR <= 2) {
    return &simd_tile<V, MR, NV, kRowA, kMasked>;
  } else {
    return nullptr;
  }
}

template <class V, bool kRowA, bool kMasked, std::size_t... I>
constexpr std::array<SimdTileFn, sizeof...(I)> make_tiles(std::index_sequence<I...>) {
  return {tile_or_null<V, I / V::kMaxVectors + 1, I % V::kMaxVectors + 1, kRowA, kMasked>()...};
}

// Every tile variant, indexed by [A layout][last vector partial][(rows - 1) * kMaxVectors +
// (vectors - 1)].
template <class V>
struct SimdTiles {
  static constexpr std::size_t kCount = V::kMaxRows * V::kMaxVectors;
  using Table = std::array<SimdTileFn, kCount>;
  static constexpr Table kTable[2][2] = {
      {make_tiles<V, false, false>(std::make_index_sequence<kCount>{}),
       make_tiles<V, false, true>(std::make_index_sequence<kCount>{})},
      {make_tiles<V, true, false>(std::make_index_sequence<kCount>{}),
       make_tiles<V, true, true>(std::make_index_sequence<kCount>{})}};
};

inline float* pack_buffer(std::size_t floats) {
  thread_local AlignedBuffer<float> buffer;
  if (buffer.size() < floats) buffer = AlignedBuffer<float>(floats);
  return buffer.data();
}

// The block rows [i0, i1) x columns [j0, j1) of C (BlockKernel).
template <class V>
BACKPROP_GEMM_TARGET bool simd_block(const Product& g, std::int64_t i0, std::int64_t i1,
                                     std::int64_t j0, std::int64_t j1) {
  constexpr std::int64_t kRows = static_cast<std::int64_t>(V::kMaxRows);
  constexpr std::int64_t kWideVectors = static_cast<std::int64_t>(V::kMaxVectors);
  constexpr std::int64_t L = V::kLanes;
  const bool transposed_b = g.b_cs != 1;
  bool copy_panels = false;
  if constexpr (V::kCopiesPanels) copy_panels = V::copies_panels(g, i1 - i0);
  const bool pack = transposed_b || copy_panels;
  const bool row_a = g.a_ks == 1;
  const std::int64_t a_stride = row_a ? g.a_rs : g.a_ks;
  // A block of one or two rows gets tiles kMaxVectors wide so that at least four independent
  // FMA chains hide the FMA latency.
  const std::int64_t vectors = i1 - i0 <= 2 ? kWideVectors : 2;
  const std::int64_t tile_cols = L * vectors;
  float* packed = pack ? pack_buffer(static_cast<std::size_t>(g.k * tile_cols)) : nullptr;
  const auto& tiles = SimdTiles<V>::kTable[row_a ? 1 : 0];
  bool bad = false;

  // One microkernel call: rows [i, i + kRows) x columns [j, j + tile_cols) clipped to the block,
  // with B's k-rows at bp (stride bks).
  const auto run_tile = [&](std::int64_t i, std::int64_t j, const float* bp, std::int64_t bks,
                            std::int64_t prefetch_b) {
    const std::int64_t w = std::min(tile_cols, j1 - j);
    const std::int64_t nv = (w + L - 1) / L;
    const std::int64_t last = w - L * (nv - 1);
    const std::int64_t mr = std::min(kRows, i1 - i);
    const float* ap = row_a ? g.a + i * g.a_rs : g.a + i;
    const SimdTileFn fn =
        tiles[last < L ? 1 : 0][static_cast<std::size_t>((mr - 1) * kWideVectors + (nv - 1))];
    bad |= fn(g.k, ap, a_stride, bp, bks, g.c + i * g.ldc + j, g.ldc, last, g.accumulate, g.alpha,
              g.check_finite, prefetch_b);
  };

  if (pack) {
    // Column panels outermost: each panel of B is transposed (or copied) once and used for
    // every row tile of the block.
    for (std::int64_t j = j0; j < j1; j += tile_cols) {
      if (transposed_b) {
        V::pack_b_transposed(g, j, std::min(tile_cols, j1 - j), packed, tile_cols);
      } else if constexpr (V::kCopiesPanels) {
        V::pack_b_rows(g, j, std::min(tile_cols, j1 - j), packed, tile_cols);
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
    std::int64_t prefetch_b = 0;
    if constexpr (V::kPrefetchB)
      prefetch_b = row_a && i1 - i0 > 2 && i1 - i0 <= V::kPrefetchBMaxRowTiles * kRows
                       ? V::kPrefetchBRows
                       : 0;
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
  return !bad;
}

// FMA throughput loop for measure_fma_peak_gflops: 12 independent chains (more than latency x
// throughput of any current core) of `iterations` FMAs; returns the flops done.
template <class V>
BACKPROP_GEMM_TARGET double simd_fma_loop(std::int64_t iterations, float seed, float* sink) {
  constexpr int kChains = 12;
  const auto x = V::set1(1.0000001f);
  const auto y = V::set1(seed * 1e-7f);
  // Distinct starting values: identical chains would be merged by the compiler.
  typename V::Vec acc[kChains];
#pragma GCC unroll 12
  for (int i = 0; i < kChains; ++i) acc[i] = V::set1(seed + static_cast<float>(i));
  for (std::int64_t it = 0; it < iterations; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < kChains; ++i) acc[i] = V::fmadd(acc[i], x, y);
  }
  alignas(64) float lanes[V::kLanes];
  float total = 0.0f;
  for (int i = 0; i < kChains; ++i) {
    V::store(lanes, acc[i]);
    for (const float v : lanes) total += v;
  }
  *sink = total;
  return static_cast<double>(iterations) * kChains * V::kLanes * 2;
}

}  // namespace
}  // namespace backprop::kernels::detail
