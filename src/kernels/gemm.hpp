#pragma once
// Matrix products for the dense layers (the three shapes of the seed's formulas):
//   forward      Z  = X W          (B x in)(in x out)      gemm(z, x, no, w, no)
//   input grad   dX = D W^T        (B x out)(out x in)     gemm(dx, d, no, w, yes)
//   weight grad  dW = X^T D        (in x B)(B x out)       gemm(dw, x, yes, d, no)
// Argument order everywhere: output, inputs, then options, then the pool.
#include "backprop/matrix.hpp"
#include "backprop/thread_pool.hpp"

namespace backprop::kernels {

enum class Transpose : bool { no = false, yes = true };

// An elementwise pass fused into a product: called once for every block of C that a task
// computed, on the thread that computed it, right after the block is finished (while it is in
// that core's cache), instead of as a pass of its own over all of C after the product. `block`
// is rows [row, row + block.rows) x columns [col, col + block.cols) of C; the pass may read and
// write that block only. A dense layer's bias + activation, or the activation derivative
// applied to dX, are such passes. How C is cut into blocks depends on the shape and the thread
// count, so the pass must give each element a result that depends only on the element and
// its position.
class BlockEpilogue {
 public:
  virtual void operator()(MatrixView block, std::int64_t row, std::int64_t col) const = 0;

 protected:
  BlockEpilogue() = default;
  BlockEpilogue(const BlockEpilogue&) = default;
  BlockEpilogue& operator=(const BlockEpilogue&) = default;
  ~BlockEpilogue() = default;
};

// C (M x N) = op(A) (M x K) * op(B) (K x N), or C += ... when accumulate is true, then the
// epilogue (if any) over every element of C.
// Without accumulate C's previous contents are never read (NaN there does not leak in).
// Every element of C is produced by one task, summing over k in one fixed order, so the
// result is the same for every thread count.
void gemm(MatrixView c, ConstMatrixView a, Transpose ta, ConstMatrixView b, Transpose tb,
          bool accumulate, ThreadPool& pool, const BlockEpilogue* epilogue = nullptr);

// C += alpha op(A) op(B), with each element's sum as in gemm() and then one rounding:
// C = fma(alpha, acc, C). Returns whether every element of C is finite afterwards, checked as
// it is stored. An optimiser step fused into the weight-gradient product (W += -lr X^T D) is
// this call: no gradient buffer is written or read again, and no second pass looks for NaNs.
bool gemm_update(MatrixView c, float alpha, ConstMatrixView a, Transpose ta, ConstMatrixView b,
                 Transpose tb, ThreadPool& pool);

// The plain triple loops the fast kernels are tested against (sums in double).
void gemm_reference(MatrixView c, ConstMatrixView a, Transpose ta, ConstMatrixView b, Transpose tb,
                    bool accumulate);
void gemm_update_reference(MatrixView c, float alpha, ConstMatrixView a, Transpose ta,
                           ConstMatrixView b, Transpose tb);

// The instruction-set paths gemm() can take. The best one the CPU (and OS) supports is chosen
// once at run time; there is no compile-time configuration.
enum class GemmPath { portable, avx2, avx512 };

// The path gemm() uses now, and its name ("avx512", "avx2", "portable") for reports.
GemmPath gemm_path();
const char* gemm_path_name();
const char* gemm_path_name(GemmPath path);
// Whether this CPU can run a path (portable always can).
bool gemm_path_supported(GemmPath path);
// Forces a path (tests and benchmarks compare them); throws backprop::Error if the CPU cannot
// run it. Not to be called while another thread is inside gemm().
void set_gemm_path(GemmPath path);

// The machine's measured single-precision FMA throughput in GFLOP/s (2 flops per lane per
// FMA) using `threads` threads, each running independent FMA chains in registers, with the
// widest vectors of the active path; the best of three runs taking about `seconds` in all.
// A yardstick for benchmark tables (on the machine it was tuned on, Zen 4, the GEMM reaches
// it within a few percent on one thread).
double measure_fma_peak_gflops(int threads, double seconds = 0.2);

}  // namespace backprop::kernels
