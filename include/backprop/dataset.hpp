#pragma once
// A data set in memory: N samples, each the seed's row vector x (1 x p), with a class label
// (classification) or a target value (regression). Pixels stay as bytes (IDX) and are turned
// into floats one minibatch at a time, so a 60000-image set costs 47 MB, not 188 MB.
#include <cstdint>
#include <string>
#include <vector>

namespace backprop {

enum class Task { classification, regression };

struct Dataset {
  std::int64_t rows = 0;      // N samples
  std::int64_t features = 0;  // p values per sample

  // Exactly one of these holds the N x p raw values, row-major.
  std::vector<std::uint8_t> bytes;  // IDX images
  std::vector<float> values;        // CSV numbers

  Task task = Task::classification;
  std::vector<std::int32_t> labels;  // N class indices in [0, class_names.size()) (classification)
  std::vector<float> targets;        // N target values (regression)

  std::vector<std::string> class_names;    // index -> name; for IDX "0".."9"
  std::vector<std::string> feature_names;  // p names (CSV header), empty for IDX
  std::string label_name;                  // the label column's name, if any
  std::string source;                      // where it was read from, for messages
  std::vector<std::string> ids;            // N row ids (CSV id column), empty if none

  bool is_bytes() const { return !bytes.empty(); }
  // The raw value of feature j of sample i, whichever storage holds it.
  float raw(std::int64_t i, std::int64_t j) const {
    const auto at = static_cast<std::size_t>(i * features + j);
    return is_bytes() ? static_cast<float>(bytes[at]) : values[at];
  }
  std::int64_t num_classes() const { return static_cast<std::int64_t>(class_names.size()); }
};

// A data set from numbers in memory. `values` holds rows x features numbers, row-major (sample
// i is values[i * features, (i + 1) * features)), with one class index per row in `labels`.
// class_names maps index -> name; empty gives "0", "1", ... up to the largest label. The
// features are named x1..xp and the label column "label", so a model trained on it reads a
// CSV file with the header x1,...,xp,label. Throws Error naming the first problem: no rows,
// sizes that disagree, a value that is not finite, a label outside [0, classes).
Dataset classification_dataset(std::vector<float> values, std::int64_t features,
                               std::vector<std::int32_t> labels,
                               std::vector<std::string> class_names = {});
// The same for regression: one finite target value per row (the label column is "target").
Dataset regression_dataset(std::vector<float> values, std::int64_t features,
                           std::vector<float> targets);

}  // namespace backprop
