#pragma once
// Reusable minibatch buffers, so that repeated evaluation and training allocate nothing.
#include <cstdint>
#include <span>
#include <vector>

#include "backprop/dataset.hpp"
#include "backprop/matrix.hpp"
#include "backprop/network.hpp"
#include "backprop/preprocessing.hpp"
#include "backprop/thread_pool.hpp"

namespace backprop {

class BatchBuffers {
 public:
  // With 0 < panel_column < features, X is held in two column panels (Batch::x holds columns
  // [0, panel_column), x_right() the rest), each starting a 4 KB page, for a fast path whose
  // two cores each write and read one of them (FastPath::input_panel_column): no cache line or
  // page then holds both, so neither core's hardware prefetcher pulls the other's lines (which
  // would then have to be taken back for writing).
  BatchBuffers(std::int64_t max_batch, std::int64_t features, std::int64_t outputs,
               std::int64_t panel_column = 0);
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
  // X's second panel for `rows` rows (empty when X is one), beside batch()'s Batch::x.
  View<const float> x_right(std::int64_t rows);
  // Where X's second panel begins (0: one X), and X's features.
  std::int64_t panel_column() const { return panel_; }
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
  std::int64_t panel_;      // 0: one X of max_batch x features
  std::int64_t left_ = 0;   // floats from x_.data() to the first panel
  std::int64_t right_ = 0;  // and to the second
  AlignedBuffer<float> x_;
  std::vector<std::int32_t> labels_;
  AlignedBuffer<float> targets_;
};

}  // namespace backprop
