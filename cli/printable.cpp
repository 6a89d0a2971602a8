#include "printable.hpp"

#include <fmt/format.h>

#include <map>

namespace backprop::cli {

std::string printable(const std::string& name) {
  std::string out;
  for (const char c : name) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      out += fmt::format("\\x{:02x}", byte);
    } else if (c == '\\') {
      out += "\\\\";
    } else {
      out += c;
    }
  }
  return out;
}

std::vector<std::string> printable_unique(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  std::map<std::string, int> seen;
  for (const auto& n : names) {
    const std::string p = printable(n);
    const int count = ++seen[p];
    out.push_back(count == 1 ? p : fmt::format("{}~{}", p, count));
  }
  return out;
}

}  // namespace backprop::cli
