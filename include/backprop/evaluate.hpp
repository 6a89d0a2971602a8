#pragma once
// Measuring a network on a data set: loss and accuracy with per-class precision, recall and a
// confusion matrix for classification; MSE, MAE and R^2 for regression.
#include <cstdint>
#include <span>
#include <vector>

#include "backprop/dataset.hpp"
#include "backprop/network.hpp"
#include "backprop/preprocessing.hpp"

namespace backprop {

struct Evaluation {
  Task task = Task::classification;
  std::int64_t samples = 0;
  // The training objective: mean cross-entropy, or the mean squared error of the
  // standardised targets (Preprocessing::target_scale); mse, mae and r2 are in the data's units.
  double loss = 0.0;
  // classification
  double accuracy = 0.0;
  std::int64_t classes = 0;
  std::vector<std::int64_t> confusion;  // classes x classes, row = true class, column = predicted
  std::vector<double> precision;        // per class: TP / (TP + FP), 0 when nothing was predicted
  std::vector<double> recall;           // per class: TP / (TP + FN), 0 when the class is absent
  // regression
  double mse = 0.0, mae = 0.0, r2 = 0.0;
};

// Reusable minibatch buffers, so that repeated evaluation and training allocate nothing.
class BatchBuffers {
 public:
  // With 0 < split_column < features, X is held in two column panels (Batch::x and
  // Batch::x_right: columns [0, split_column) and the rest), each starting a 4 KB page, for a
  // split first layer whose two cores each write and read one of them: no cache line or page
  // then holds both, so neither core's hardware prefetcher pulls the other's lines (which
  // would then have to be taken back for writing).
  BatchBuffers(std::int64_t max_batch, std::int64_t features, std::int64_t outputs,
               std::int64_t split_column = 0);
  // Fills X, labels and targets for `rows` of `data` (rows.size() <= max_batch) and returns the
  // batch. With a pool, a single X is filled by all of its threads (two panels by this one).
  Batch<float> gather(const Dataset& data, const Preprocessing& prep,
                      std::span<const std::int64_t> rows, ThreadPool* pool = nullptr);
  // gather() in parts, for filling one minibatch from several tasks: gather_x() fills X's rows
  // [first, first + count) (each part once, in any order, on any thread), then batch() fills
  // the labels or targets and returns the minibatch.
  void gather_x(const Dataset& data, const Preprocessing& prep, std::span<const std::int64_t> rows,
                std::int64_t first, std::int64_t count);
  Batch<float> batch(const Dataset& data, const Preprocessing& prep,
                     std::span<const std::int64_t> rows);
  // Panel 0 or 1 of X for every row, for gathering X in its two panels (each once, on any
  // thread), then batch().
  void gather_x_panel(const Dataset& data, const Preprocessing& prep,
                      std::span<const std::int64_t> rows, int panel);
  // Where X's second panel begins (0: one X), and X's features.
  std::int64_t split_column() const { return split_; }
  std::int64_t features() const { return features_; }

 private:
  void check_size(std::size_t rows) const;
  MatrixView x_view(std::int64_t rows);        // X, or its first panel
  MatrixView x_right_view(std::int64_t rows);  // the second panel
  // `rows` into X (left only) or into the two panels.
  void gather_rows_into(const Dataset& data, const Preprocessing& prep,
                        std::span<const std::int64_t> rows, MatrixView left, MatrixView right);
  std::int64_t features_;
  std::int64_t outputs_;
  std::int64_t split_;      // 0: one X of max_batch x features
  std::int64_t left_ = 0;   // floats from x_.data() to the first panel
  std::int64_t right_ = 0;  // and to the second
  AlignedBuffer<float> x_;
  std::vector<std::int32_t> labels_;
  AlignedBuffer<float> targets_;
};

// Evaluates `network` on the samples `rows` of `data` (all samples when rows is empty).
Evaluation evaluate(Network& network, const Dataset& data, const Preprocessing& prep,
                    std::span<const std::int64_t> rows, ThreadPool& pool);

// The network's outputs (N x r: probabilities, or values in the data's units) for every
// sample of `data`, in order.
std::vector<float> predict(Network& network, const Dataset& data, const Preprocessing& prep,
                           ThreadPool& pool);

// The index of the largest of n values (the first on ties).
std::int64_t argmax(const float* values, std::int64_t n);

// Checks up front that `data` fits `network`: feature count, labels within the outputs, a
// regression network for regression data. Throws Error naming the data set and the mismatch.
void check_compatible(const Network& network, const Dataset& data);

}  // namespace backprop
