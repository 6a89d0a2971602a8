#pragma once
// Names from data files (class and column names) as the tool prints them: control characters
// (an ESC would start a terminal escape sequence) become \xNN, and a name that repeats one
// printed before it gets a suffix, so that every output column has a name of its own.
#include <string>
#include <vector>

namespace backprop::cli {

// `name` with every byte below 0x20 and 0x7f (tab and line breaks too) written as \xNN, and a
// backslash as \\ so that the escape cannot be forged.
std::string printable(const std::string& name);

// printable() of each name; the second and later copies of a name get "~2", "~3", ...
std::vector<std::string> printable_unique(const std::vector<std::string>& names);

}  // namespace backprop::cli
