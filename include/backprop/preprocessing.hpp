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

namespace backprop {

enum class Normalization { none, unit_range /* pixels / 255 */, standard, minmax };

std::string to_string(Normalization n);
Normalization parse_normalization(const std::string& name);  // throws Error naming the choices

struct Preprocessing {
  Normalization kind = Normalization::none;
  std::vector<float> offset;  // p values
  std::vector<float> scale;   // p values

  // Fits the map on the samples `rows` of `data` (the training split only).
  static Preprocessing fit(Normalization kind, const Dataset& data, std::span<const std::int64_t> rows);
  // The identity map for p features.
  static Preprocessing identity(std::int64_t features);
};

// Gathers the samples `rows` of `data` into X (rows.size() x p), preprocessed:
// the minibatch X of the seed's formulas, one sample per row.
void gather_batch(MatrixView x, const Dataset& data, const Preprocessing& prep,
                  std::span<const std::int64_t> rows);

}  // namespace backprop
