#pragma once
// Internal to the GEMM: the form every product is reduced to before it reaches a kernel, and
// the per-instruction-set block kernels (gemm_portable.cpp, gemm_avx2.cpp, gemm_avx512.cpp).
#include <cstdint>

namespace backprop::kernels::detail {

// A shape-checked product C (m x n) = A (m x k) B (k x n) [+ C] with both transposes folded
// into strides:
//   A(i, p) = a[i * a_rs + p * a_ks]   (a_ks == 1: rows of A are contiguous in k, the NN/NT
//                                        case; otherwise a_rs == 1, the TN/TT case)
//   B(p, j) = b[p * b_ks + j * b_cs]   (b_cs == 1: rows of B contiguous in j, NN/TN; otherwise
//                                        b_ks == 1 and the kernels pack B, NT/TT)
//   C(i, j) = c[i * ldc + j]
struct Product {
  float* c = nullptr;
  std::int64_t ldc = 0;
  const float* a = nullptr;
  std::int64_t a_rs = 0;
  std::int64_t a_ks = 0;
  const float* b = nullptr;
  std::int64_t b_ks = 0;
  std::int64_t b_cs = 0;
  std::int64_t m = 0;
  std::int64_t n = 0;
  std::int64_t k = 0;  // >= 1 (gemm() handles k == 0 itself)
  bool accumulate = false;
  float alpha = 1.0f;         // C = alpha acc [+ C]
  bool check_finite = false;  // whether the kernel reports an inf or NaN it stores into C
};

// Computes the block rows [i0, i1) x columns [j0, j1) of C. Each element is
//   acc = 0; for p = 0 .. k-1: acc = fma(A(i,p), B(p,j), acc);
//   C = accumulate ? fma(alpha, acc, C) : alpha acc
// (the portable path rounds the product and the sum of the k loop separately), in that order,
// whatever the block, so the result never depends on how C is split into blocks. With
// alpha = 1 the last step is C + acc or acc exactly. Returns false when check_finite is set
// and an element stored into the block is inf or NaN (true otherwise).
using BlockKernel = bool (*)(const Product& g, std::int64_t i0, std::int64_t i1, std::int64_t j0,
                             std::int64_t j1);

// The register tile of each path's microkernel and what the task planner needs to know about
// its speed. Blocks of one or two rows use tiles `wide_factor` times wider (so that enough
// independent FMA chains are in flight).
struct TileShape {
  std::int64_t rows;             // rows of C per tile
  std::int64_t cols;             // columns of C per tile
  std::int64_t lanes;            // floats per vector register
  std::int64_t wide_factor;      // column multiplier for blocks of at most two rows
  double vector_fmas_per_cycle;  // sustained vector FMAs per cycle of one core
};

inline constexpr TileShape kTilePortable{4, 64, 4, 1, 1.0};
inline constexpr TileShape kTileAvx2{6, 16, 8, 2, 2.0};
inline constexpr TileShape kTileAvx512{8, 32, 16, 2, 1.0};

// Whether the AVX-512 kernel copies the column panels of a B read in place (NN, TN) into a
// contiguous k x 32 buffer before using them, as it always does for a transposed B: when B's
// rows are 1 KB or more apart and a block has more than one row tile to reuse each panel. A
// panel read in place then touches one or two cache lines every 1-2 KB, which the hardware
// prefetchers of some cores do not follow (on a Xeon of the Sapphire Rapids family W2's
// forward product, 784 x 512 weights with rows 2 KB apart, ran at 114-127 GFLOP/s on one
// thread read in place and at 178-196 GFLOP/s copied, against a ~172 GFLOP/s FMA peak;
// docs/performance.md). Rows closer together (W1's 128-wide layers) are read in place, where a
// copy measured slower.
inline constexpr std::int64_t kCopyPanelMinStride = 256;  // floats between rows of B
inline bool copies_b_panels(const Product& g, std::int64_t block_rows) {
  return g.b_cs == 1 && g.b_ks >= kCopyPanelMinStride && block_rows > kTileAvx512.rows;
}

bool block_portable(const Product& g, std::int64_t i0, std::int64_t i1, std::int64_t j0,
                    std::int64_t j1);
bool block_avx2(const Product& g, std::int64_t i0, std::int64_t i1, std::int64_t j0,
                std::int64_t j1);
bool block_avx512(const Product& g, std::int64_t i0, std::int64_t i1, std::int64_t j0,
                  std::int64_t j1);

// FMA throughput loops for measure_fma_peak_gflops: run `iterations` rounds of independent
// FMA chains and return the number of flops done (and a value that keeps the work alive).
double fma_loop_portable(std::int64_t iterations, float seed, float* sink);
double fma_loop_avx2(std::int64_t iterations, float seed, float* sink);
double fma_loop_avx512(std::int64_t iterations, float seed, float* sink);

}  // namespace backprop::kernels::detail
