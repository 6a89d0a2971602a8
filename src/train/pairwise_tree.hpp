#pragma once
// The fixed pairwise summation tree of a sharded step (backprop/gradient_exchange.hpp).
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace backprop {

constexpr bool is_power_of_two(std::int64_t n) { return n > 0 && (n & (n - 1)) == 0; }

// Sums `count` blocks (a power of two) of `n` values, block i at blocks + i * stride, in the
// pairwise tree (b0 + b1) + (b2 + b3) ...; the sum is left in block 0.
template <class T>
void pairwise_sum_blocks(T* blocks, std::int64_t count, std::int64_t n, std::int64_t stride) {
  for (std::int64_t width = 1; width < count; width *= 2)
    for (std::int64_t i = 0; i + width < count; i += 2 * width) {
      T* left = blocks + i * stride;
      const T* right = blocks + (i + width) * stride;
      for (std::int64_t j = 0; j < n; ++j) left[j] = left[j] + right[j];
    }
}

// The bottom levels of the tree over leaves given one at a time, left to right: like a binary
// counter, a node is formed as soon as its two children are known, so only one partial sum per
// level is kept. After 2^k leaves, result() is the tree's sum of them, bit for bit that of
// pairwise_sum_blocks.
template <class T>
class PairwiseAccumulator {
 public:
  explicit PairwiseAccumulator(std::int64_t n) : n_(n), leaf_(static_cast<std::size_t>(n)) {}
  // The buffer to write the next leaf into; add_leaf() then takes it.
  std::span<T> leaf() { return leaf_; }
  void add_leaf() {
    std::size_t level = 0;
    for (; level < full_.size() && full_[level]; ++level) {
      const std::vector<T>& left = levels_[level];
      for (std::size_t j = 0; j < leaf_.size(); ++j) leaf_[j] = left[j] + leaf_[j];
      full_[level] = false;
    }
    if (level == full_.size()) {
      full_.push_back(false);
      levels_.emplace_back(static_cast<std::size_t>(n_));
    }
    std::swap(levels_[level], leaf_);
    full_[level] = true;
  }
  // The sum of the leaves so far; their count must be a power of two. Clears the levels.
  std::span<T> result() {
    std::size_t level = 0;
    while (!full_[level]) ++level;
    full_[level] = false;
    return levels_[level];
  }

 private:
  std::int64_t n_;
  std::vector<T> leaf_;
  std::vector<std::vector<T>> levels_;
  std::vector<bool> full_;
};

}  // namespace backprop
