#include "backprop/rng.hpp"

#include <utility>

namespace backprop {

std::uint64_t Rng::below(std::uint64_t bound) {
  // 128-bit multiply maps a 64-bit draw onto [0, bound); draws in the short tail are rejected.
  const std::uint64_t threshold = (0 - bound) % bound;
  for (;;) {
    __extension__ using u128 = unsigned __int128;  // GCC and Clang both have it
    const u128 product = static_cast<u128>(next()) * bound;
    if (static_cast<std::uint64_t>(product) >= threshold)
      return static_cast<std::uint64_t>(product >> 64);
  }
}

void shuffle(std::span<std::int64_t> items, Rng& rng) {
  for (std::size_t i = items.size(); i > 1; --i) {
    const auto j = static_cast<std::size_t>(rng.below(i));
    std::swap(items[i - 1], items[j]);
  }
}

}  // namespace backprop
