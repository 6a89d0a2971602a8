#pragma once
// The one error type the library throws. Its message names what went wrong and where
// (file, line, column, field, layer), so the CLI can print it as a single line.
#include <stdexcept>
#include <string>

namespace backprop {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace backprop
