#pragma once
// The hold-out validation split of a training set: which samples train and which only measure.
#include <cstdint>
#include <vector>

#include "backprop/dataset.hpp"

namespace backprop {

struct Split {
  std::vector<std::int64_t> train;       // sample indices, ascending
  std::vector<std::int64_t> validation;  // sample indices, ascending
};

// Holds out about `fraction` of the samples, chosen by a seeded shuffle (the same on every
// platform for the same seed). fraction must be in [0, 1); 0 gives every sample to training,
// in order 0..N-1.
//   classification: stratified, each class alone: a class of n samples gives
//     k = round(fraction * n) to validation, clamped to [1, n - 1]: every class of 2 or more
//     samples is seen by both halves, and a class of 1 sample stays in training (the model
//     can never learn a class it has not seen, but validation may lack a rare class);
//   regression: one shuffle of all samples, the same rule with n = N.
Split split_validation(const Dataset& data, double fraction, std::uint64_t seed);

}  // namespace backprop
