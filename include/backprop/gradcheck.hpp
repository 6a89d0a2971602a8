#pragma once
// Gradient checking: every analytic gradient dL/dtheta of the backward pass is compared with
// the central difference (L(theta + h) - L(theta - h)) / 2h, both in double precision, on
// random data. Relative error per entry: |a - n| / max(|a|, |n|, floor).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "backprop/architecture.hpp"
#include "backprop/network.hpp"

namespace backprop {

struct GradcheckOptions {
  std::uint64_t seed = 1;
  std::int64_t batch = 4;  // random samples in the check's minibatch
  // h: central differences err by about h^2 |L'''| (truncation) + eps |L| / h (rounding);
  // in double both are near 1e-10 at h = 1e-5.
  double step = 1e-5;
  // Denominators below this count as this: for gradient entries smaller than the floor the
  // check demands absolute agreement to tolerance * floor instead of a relative one that
  // rounding alone would break. Multiplied by max(1, |L|), as rounding grows with the loss.
  double floor = 1e-4;
  std::int64_t max_entries = 0;  // per tensor; 0 checks every entry
  bool with_dropout = true;      // check through a fixed dropout mask when dropout > 0
  // Called after each checked entry with (entries checked so far, entries to check in all):
  // a large network takes minutes, and this lets a caller show how far it is.
  std::function<void(std::int64_t, std::int64_t)> progress;
};

struct TensorCheck {
  std::string name;               // W1, b1, W2, ... (the seed's names, 1-based)
  std::int64_t entries = 0;       // entries in the tensor
  std::int64_t checked = 0;       // entries compared
  double max_relative_error = 0;  // worst over the checked entries
  double max_abs_gradient = 0;    // largest |analytic gradient|: 0 would mean a dead backward pass
};

struct GradcheckReport {
  std::vector<TensorCheck> tensors;
  double max_relative_error() const;
  bool gradient_all_zero() const;  // true if every checked analytic gradient was exactly 0
};

// Checks `arch` with weights from initialize(seed) (biases also randomised, so they matter).
GradcheckReport gradient_check(const Architecture& arch, const GradcheckOptions& options);
// Checks at the weights of a trained network (e.g. one loaded from a model file).
GradcheckReport gradient_check(const Network& network, const GradcheckOptions& options);

}  // namespace backprop
