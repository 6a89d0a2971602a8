#pragma once
// Helpers shared by the test suites.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "backprop/architecture.hpp"
#include "backprop/error.hpp"
#include "kernels/gemm.hpp"

namespace backprop::testing_support {

// The message of the backprop::Error that `f` throws; the test fails if it throws none.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no backprop::Error was thrown";
  return {};
}

// A network of the given widths with one activation for every hidden layer.
inline Architecture uniform_architecture(std::vector<std::int64_t> widths, Activation activation,
                                         Loss loss, float dropout = 0.0f) {
  Architecture arch;
  arch.activations.assign(widths.size() - 2, activation);
  arch.widths = std::move(widths);
  arch.loss = loss;
  arch.dropout = dropout;
  return arch;
}

// A network to test on: widths, one activation for every hidden layer, loss, dropout and a
// minibatch size.
struct NetworkCase {
  std::vector<std::int64_t> widths;
  Activation activation;
  Loss loss;
  float dropout = 0.0f;
  std::int64_t batch = 1;
  Architecture architecture() const {
    return uniform_architecture(widths, activation, loss, dropout);
  }
};

// The GEMM instruction-set paths this CPU can run (portable always).
inline std::vector<kernels::GemmPath> supported_gemm_paths() {
  std::vector<kernels::GemmPath> paths;
  for (const auto p :
       {kernels::GemmPath::portable, kernels::GemmPath::avx2, kernels::GemmPath::avx512})
    if (kernels::gemm_path_supported(p)) paths.push_back(p);
  return paths;
}

// Restores the automatically chosen GEMM path when a test that forces paths ends.
class GemmPathGuard {
 public:
  GemmPathGuard() : saved_(kernels::gemm_path()) {}
  ~GemmPathGuard() { kernels::set_gemm_path(saved_); }
  GemmPathGuard(const GemmPathGuard&) = delete;
  GemmPathGuard& operator=(const GemmPathGuard&) = delete;

 private:
  kernels::GemmPath saved_;
};

}  // namespace backprop::testing_support
