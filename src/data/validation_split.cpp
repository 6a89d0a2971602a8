#include "backprop/validation_split.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <span>

#include <fmt/format.h>

#include "backprop/error.hpp"
#include "backprop/rng.hpp"

namespace backprop {
namespace {

// Keeps the split's random stream apart from the other uses of the same seed (shuffles,
// initial weights, dropout), which derive their keys from other purpose words.
constexpr std::uint64_t kSplitPurpose = 0x73706c6974ULL;  // "split"

// How many of n samples go to validation: round(fraction * n), clamped to [1, n - 1] so that
// training keeps at least one and validation gets at least one whenever n >= 2.
std::size_t held_out(double fraction, std::size_t n) {
  if (fraction <= 0 || n < 2) return 0;
  const auto k = static_cast<std::size_t>(std::llround(fraction * static_cast<double>(n)));
  return std::clamp<std::size_t>(k, 1, n - 1);
}

// Shuffles `group` and moves its first held_out(...) members to validation, the rest to train.
void deal(std::vector<std::int64_t>& group, double fraction, Rng& rng, Split& split) {
  shuffle(group, rng);
  const std::size_t k = held_out(fraction, group.size());
  const auto cut = group.begin() + static_cast<std::ptrdiff_t>(k);
  split.validation.insert(split.validation.end(), group.begin(), cut);
  split.train.insert(split.train.end(), cut, group.end());
}

}  // namespace

Split split_validation(const Dataset& data, double fraction, std::uint64_t seed) {
  if (!(fraction >= 0 && fraction < 1)) {
    throw Error(
        fmt::format("validation fraction {} is outside [0, 1): it is the share of the "
                    "training data held out, e.g. 0.1",
                    fraction));
  }
  const auto n = static_cast<std::size_t>(std::max<std::int64_t>(data.rows, 0));
  Split split;
  if (fraction == 0) {
    split.train.resize(n);
    std::iota(split.train.begin(), split.train.end(), std::int64_t{0});
    return split;
  }

  Rng rng(hash_key(seed, kSplitPurpose));
  if (data.task == Task::classification) {
    if (data.labels.size() != n) {
      throw Error(fmt::format("{}: {} labels for {} samples", data.source, data.labels.size(), n));
    }
    const auto classes = static_cast<std::size_t>(data.num_classes());
    std::vector<std::vector<std::int64_t>> groups(classes);
    for (std::size_t i = 0; i < n; ++i) {
      const std::int32_t c = data.labels[i];
      if (c < 0 || static_cast<std::size_t>(c) >= classes) {
        throw Error(fmt::format("{}: sample {} has label {}, outside the {} classes", data.source,
                                i, c, classes));
      }
      groups[static_cast<std::size_t>(c)].push_back(static_cast<std::int64_t>(i));
    }
    for (auto& group : groups) deal(group, fraction, rng, split);
  } else {
    std::vector<std::int64_t> all(n);
    std::iota(all.begin(), all.end(), std::int64_t{0});
    deal(all, fraction, rng, split);
  }
  // Ascending order: the result does not depend on the grouping, and batches read memory in
  // order (the trainer shuffles per epoch anyway).
  std::sort(split.train.begin(), split.train.end());
  std::sort(split.validation.begin(), split.validation.end());
  return split;
}

}  // namespace backprop
