#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "backprop/architecture.hpp"
#include "backprop/dataset.hpp"
#include "backprop/error.hpp"

namespace backprop {
namespace {

constexpr const char* kSource = "in-memory data";

// The N x p values and the names every in-memory data set shares; `rows` is the length of the
// label or target vector.
Dataset values_dataset(std::vector<float> values, std::int64_t features, std::size_t rows,
                       std::string label_name) {
  if (features < 1 || features > kMaxWidth)
    throw Error(
        fmt::format("{}: {} features per sample (need 1 to {})", kSource, features, kMaxWidth));
  if (rows == 0) throw Error(fmt::format("{}: no samples (one label or target per row)", kSource));
  const auto p = static_cast<std::size_t>(features);
  if (values.size() != rows * p)
    throw Error(fmt::format("{}: {} values for {} rows of {} features (need {})", kSource,
                            values.size(), rows, features, rows * p));
  const auto bad =
      std::find_if(values.begin(), values.end(), [](float v) { return !std::isfinite(v); });
  if (bad != values.end()) {
    const auto at = static_cast<std::size_t>(bad - values.begin());
    throw Error(fmt::format("{}: row {}, feature x{} is {}, not a finite number", kSource, at / p,
                            at % p + 1, *bad));
  }
  Dataset d;
  d.rows = static_cast<std::int64_t>(rows);
  d.features = features;
  d.values = std::move(values);
  d.feature_names.reserve(p);
  for (std::size_t j = 1; j <= p; ++j) d.feature_names.push_back(fmt::format("x{}", j));
  d.label_name = std::move(label_name);
  d.source = kSource;
  return d;
}

}  // namespace

Dataset classification_dataset(std::vector<float> values, std::int64_t features,
                               std::vector<std::int32_t> labels,
                               std::vector<std::string> class_names) {
  Dataset d = values_dataset(std::move(values), features, labels.size(), "label");
  if (class_names.empty()) {
    const std::int32_t top = *std::max_element(labels.begin(), labels.end());
    for (std::int32_t c = 0; c <= top && c < kMaxWidth; ++c)
      class_names.push_back(std::to_string(c));
  }
  const auto classes = static_cast<std::int64_t>(class_names.size());
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0 || labels[i] >= classes)
      throw Error(fmt::format("{}: row {} has label {}, outside [0, {}) (one class name per class)",
                              kSource, i, labels[i], classes));
  }
  d.task = Task::classification;
  d.labels = std::move(labels);
  d.class_names = std::move(class_names);
  return d;
}

Dataset regression_dataset(std::vector<float> values, std::int64_t features,
                           std::vector<float> targets) {
  Dataset d = values_dataset(std::move(values), features, targets.size(), "target");
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (!std::isfinite(targets[i]))
      throw Error(
          fmt::format("{}: row {} has target {}, not a finite number", kSource, i, targets[i]));
  }
  d.task = Task::regression;
  d.targets = std::move(targets);
  return d;
}

}  // namespace backprop
