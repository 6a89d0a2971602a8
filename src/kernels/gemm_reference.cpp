#include "kernels/gemm.hpp"

namespace backprop::kernels {

namespace {

// sum_p op(A)(i, p) op(B)(p, j), in double.
double dot(ConstMatrixView a, Transpose ta, ConstMatrixView b, Transpose tb, std::int64_t i,
           std::int64_t j) {
  const std::int64_t k = ta == Transpose::yes ? a.rows : a.cols;
  double sum = 0.0;
  for (std::int64_t p = 0; p < k; ++p) {
    const float av = ta == Transpose::yes ? a(p, i) : a(i, p);
    const float bv = tb == Transpose::yes ? b(j, p) : b(p, j);
    sum += static_cast<double>(av) * static_cast<double>(bv);
  }
  return sum;
}

}  // namespace

void gemm_reference(MatrixView c, ConstMatrixView a, Transpose ta, ConstMatrixView b, Transpose tb,
                    bool accumulate) {
  for (std::int64_t i = 0; i < c.rows; ++i) {
    for (std::int64_t j = 0; j < c.cols; ++j) {
      const auto sum = static_cast<float>(dot(a, ta, b, tb, i, j));
      c(i, j) = accumulate ? c(i, j) + sum : sum;
    }
  }
}

void gemm_update_reference(MatrixView c, float alpha, ConstMatrixView a, Transpose ta,
                           ConstMatrixView b, Transpose tb) {
  for (std::int64_t i = 0; i < c.rows; ++i) {
    for (std::int64_t j = 0; j < c.cols; ++j)
      c(i, j) = static_cast<float>(static_cast<double>(c(i, j)) +
                                   static_cast<double>(alpha) * dot(a, ta, b, tb, i, j));
  }
}

}  // namespace backprop::kernels
