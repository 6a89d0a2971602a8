#include "gemm.hpp"

#include <cassert>

namespace backprop::kernels {

void gemm_reference(MatrixView c, ConstMatrixView a, Transpose ta, ConstMatrixView b, Transpose tb,
                    bool accumulate) {
  const std::int64_t m = c.rows;
  const std::int64_t n = c.cols;
  const std::int64_t k = ta == Transpose::yes ? a.rows : a.cols;
  for (std::int64_t i = 0; i < m; ++i) {
    for (std::int64_t j = 0; j < n; ++j) {
      double sum = 0.0;
      for (std::int64_t p = 0; p < k; ++p) {
        const float av = ta == Transpose::yes ? a(p, i) : a(i, p);
        const float bv = tb == Transpose::yes ? b(j, p) : b(p, j);
        sum += static_cast<double>(av) * static_cast<double>(bv);
      }
      c(i, j) = accumulate ? c(i, j) + static_cast<float>(sum) : static_cast<float>(sum);
    }
  }
}

}  // namespace backprop::kernels
