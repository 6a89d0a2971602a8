#pragma once
// The one mechanism behind every enum's to_string / parse pair: a constexpr table of
// {value, name} entries per enum. The first entry of a value is its name (what to_string
// gives and what the error lists); later entries of the same value are accepted spellings
// ("leaky-relu" for leaky_relu).
#include <fmt/format.h>

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "backprop/error.hpp"

namespace backprop {

template <class E>
struct EnumName {
  E value;
  std::string_view name;
};

template <class E, std::size_t N>
using EnumNames = std::array<EnumName<E>, N>;

// The value's name, or "unknown" for a value outside the table (a cast integer).
template <class E, std::size_t N>
std::string enum_to_string(const EnumNames<E, N>& names, E value) {
  for (const auto& entry : names)
    if (entry.value == value) return std::string(entry.name);
  return "unknown";
}

template <class E, std::size_t N>
std::optional<E> find_enum(const EnumNames<E, N>& names, std::string_view text) {
  for (const auto& entry : names)
    if (entry.name == text) return entry.value;
  return std::nullopt;
}

// "sgd, momentum, adam, adamw": each value's name once, in table order.
template <class E, std::size_t N>
std::string enum_choices(const EnumNames<E, N>& names) {
  std::string text;
  for (std::size_t i = 0; i < N; ++i) {
    bool first_of_value = true;
    for (std::size_t j = 0; j < i; ++j) first_of_value &= names[j].value != names[i].value;
    if (!first_of_value) continue;
    if (!text.empty()) text += ", ";
    text += names[i].name;
  }
  return text;
}

// The value named `text`, or Error `unknown <what> "<text>" (choose a, b, c)`.
template <class E, std::size_t N>
E parse_enum(const EnumNames<E, N>& names, std::string_view text, std::string_view what) {
  if (const auto value = find_enum(names, text)) return *value;
  throw Error(fmt::format("unknown {} \"{}\" (choose {})", what, text, enum_choices(names)));
}

}  // namespace backprop
