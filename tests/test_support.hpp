#pragma once
// Helpers shared by the test suites.
#include <gtest/gtest.h>

#include <string>

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

}  // namespace backprop::testing_support
