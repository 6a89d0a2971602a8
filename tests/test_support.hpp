#pragma once
// Helpers shared by the test suites.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "backprop/architecture.hpp"
#include "backprop/error.hpp"

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

}  // namespace backprop::testing_support
