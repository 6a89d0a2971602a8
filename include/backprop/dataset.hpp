#pragma once
// A data set in memory: N samples, each the seed's row vector x (1 x p), with a class label
// (classification) or a target value (regression). Pixels stay as bytes (IDX) and are turned
// into floats one minibatch at a time, so a 60000-image set costs 47 MB, not 188 MB.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace backprop {

enum class Task { classification, regression };

std::string to_string(Task t);             // "classification", "regression"
Task parse_task(const std::string& name);  // throws Error listing the choices
// As parse_task, and "auto" gives nullopt (the reader infers the task).
std::optional<Task> parse_task_or_auto(const std::string& name);

struct Dataset {
  std::int64_t rows = 0;      // N samples
  std::int64_t features = 0;  // p values per sample

  // Exactly one of these holds the N x p raw values, row-major.
  std::vector<std::uint8_t> bytes;  // IDX images
  std::vector<float> values;        // CSV numbers
  // Instead of `values`: N x p floats owned by the caller (the Python module trains on a numpy
  // array in place), which must outlive every use of the data set.
  const float* borrowed_values = nullptr;

  Task task = Task::classification;
  std::vector<std::int32_t> labels;  // N class indices in [0, class_names.size()) (classification)
  std::vector<float> targets;        // N x r target values, row-major (regression; CSV: r = 1)

  std::vector<std::string> class_names;    // index -> name; for IDX "0".."9"
  std::vector<std::string> feature_names;  // p names (CSV header), empty for IDX
  std::string label_name;                  // the label column's name, if any
  std::string source;                      // where it was read from, for messages
  std::vector<std::string> ids;            // N row ids (CSV id column), empty if none
  // What the reader did that a front end should say, one line each (filled cells, rows left
  // out, unseen categories).
  std::vector<std::string> notes;

  bool is_bytes() const { return !bytes.empty(); }
  // The N x p floats, wherever they are.
  const float* value_data() const {
    return borrowed_values != nullptr ? borrowed_values : values.data();
  }
  // The raw value of feature j of sample i, whichever storage holds it.
  float raw(std::int64_t i, std::int64_t j) const {
    const auto at = static_cast<std::size_t>(i * features + j);
    return is_bytes() ? static_cast<float>(bytes[at]) : value_data()[at];
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
