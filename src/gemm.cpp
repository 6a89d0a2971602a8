#include "gemm.hpp"

#include <algorithm>

#include "backprop/error.hpp"

// A portable blocked kernel: rows of C are split across the pool; within a row block the
// k loop is outermost so the inner j loop is a contiguous, vectorisable axpy.
namespace backprop::kernels {

namespace {

void check_shapes(MatrixView c, ConstMatrixView a, Transpose ta, ConstMatrixView b, Transpose tb) {
  const std::int64_t am = ta == Transpose::yes ? a.cols : a.rows;
  const std::int64_t ak = ta == Transpose::yes ? a.rows : a.cols;
  const std::int64_t bk = tb == Transpose::yes ? b.cols : b.rows;
  const std::int64_t bn = tb == Transpose::yes ? b.rows : b.cols;
  if (am != c.rows || bn != c.cols || ak != bk) throw Error("gemm: shapes do not agree");
}

constexpr std::int64_t kRowBlock = 8;

void gemm_rows(MatrixView c, ConstMatrixView a, Transpose ta, ConstMatrixView b, Transpose tb,
               bool accumulate, std::int64_t i0, std::int64_t i1) {
  const std::int64_t n = c.cols;
  const std::int64_t k = ta == Transpose::yes ? a.rows : a.cols;
  for (std::int64_t i = i0; i < i1; ++i) {
    float* ci = c.row(i);
    if (!accumulate) std::fill(ci, ci + n, 0.0f);
    if (tb == Transpose::no) {
      for (std::int64_t p = 0; p < k; ++p) {
        const float av = ta == Transpose::yes ? a(p, i) : a(i, p);
        const float* bp = b.row(p);
        for (std::int64_t j = 0; j < n; ++j) ci[j] += av * bp[j];
      }
    } else {
      for (std::int64_t j = 0; j < n; ++j) {
        const float* bj = b.row(j);
        float sum = 0.0f;
        for (std::int64_t p = 0; p < k; ++p) sum += (ta == Transpose::yes ? a(p, i) : a(i, p)) * bj[p];
        ci[j] += sum;
      }
    }
  }
}

}  // namespace

void gemm(MatrixView c, ConstMatrixView a, Transpose ta, ConstMatrixView b, Transpose tb,
          bool accumulate, ThreadPool& pool) {
  check_shapes(c, a, ta, b, tb);
  const std::int64_t blocks = (c.rows + kRowBlock - 1) / kRowBlock;
  pool.run(blocks, [&](std::int64_t blk) {
    const std::int64_t i0 = blk * kRowBlock;
    gemm_rows(c, a, ta, b, tb, accumulate, i0, std::min(c.rows, i0 + kRowBlock));
  });
}

}  // namespace backprop::kernels
