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

// C (M x N) = op(A) (M x K) * op(B) (K x N), or C += ... when accumulate is true.
// Without accumulate C's previous contents are never read (NaN there does not leak in).
// Every element of C is produced by one task, summing over k in one fixed order, so the
// result is the same for every thread count.
void gemm(MatrixView c, ConstMatrixView a, Transpose ta, ConstMatrixView b, Transpose tb,
          bool accumulate, ThreadPool& pool);

// The plain triple loop the fast kernel is tested against.
void gemm_reference(MatrixView c, ConstMatrixView a, Transpose ta, ConstMatrixView b,
                    Transpose tb, bool accumulate);

}  // namespace backprop::kernels
