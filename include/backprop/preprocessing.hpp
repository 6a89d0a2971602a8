#pragma once
// The per-feature affine map applied to raw input before the first layer:
//   x'_j = (x_j - offset_j) * scale_j
// It is fitted on the training split only and stored in the model file, so eval and predict
// take the same raw files that training took.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "backprop/dataset.hpp"
#include "backprop/matrix.hpp"
#include "backprop/thread_pool.hpp"

namespace backprop {

enum class Normalization { none, unit_range /* pixels / 255 */, standard, minmax };

std::string to_string(Normalization n);
Normalization parse_normalization(const std::string& name);  // throws Error naming the choices

struct Preprocessing {
  Normalization kind = Normalization::none;
  std::vector<float> offset;  // p values
  std::vector<float> scale;   // p values
  // Regression targets are standardised the same way, y' = (y - target_offset) * target_scale,
  // so that one learning rate suits targets in the hundreds or in the thousandths; outputs are
  // mapped back with y = y' / target_scale + target_offset. Identity for classification.
  float target_offset = 0.0f;
  float target_scale = 1.0f;

  // Fits target_offset / target_scale (mean and 1 / standard deviation) on the training rows of
  // a regression data set; leaves the identity for `none` and for classification.
  void fit_targets(const Dataset& data, std::span<const std::int64_t> rows);

  // Fits the map on the samples `rows` of `data` (the training split only).
  static Preprocessing fit(Normalization kind, const Dataset& data,
                           std::span<const std::int64_t> rows);
  // The identity map for p features.
  static Preprocessing identity(std::int64_t features);
};

// Gathers the samples `rows` of `data` into X (rows.size() x p), preprocessed:
// the minibatch X of the seed's formulas, one sample per row.
void gather_batch(MatrixView x, const Dataset& data, const Preprocessing& prep,
                  std::span<const std::int64_t> rows);
// The same, split by rows across the pool's threads.
void gather_batch(MatrixView x, const Dataset& data, const Preprocessing& prep,
                  std::span<const std::int64_t> rows, ThreadPool& pool);

}  // namespace backprop
