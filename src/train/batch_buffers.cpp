#include "train/batch_buffers.hpp"

#include <fmt/format.h>

#include <cstdint>

#include "backprop/error.hpp"
#include "data/gather.hpp"

namespace backprop {

namespace {

constexpr std::int64_t kPageFloats = 4096 / sizeof(float);

std::int64_t whole_pages(std::int64_t floats) {
  return (floats + kPageFloats - 1) / kPageFloats * kPageFloats;
}

}  // namespace

BatchBuffers::BatchBuffers(std::int64_t max_batch, std::int64_t features, std::int64_t outputs,
                           std::int64_t panel_column)
    : features_(features),
      outputs_(outputs),
      panel_(panel_column > 0 && panel_column < features ? panel_column : 0),
      // Two panels each starting a page: one page more to find the first boundary.
      x_(static_cast<std::size_t>(panel_ > 0 ? whole_pages(max_batch * panel_) +
                                                   whole_pages(max_batch * (features - panel_)) +
                                                   kPageFloats
                                             : max_batch * features)),
      labels_(static_cast<std::size_t>(max_batch)),
      targets_(static_cast<std::size_t>(max_batch * outputs)) {
  if (panel_ > 0) {
    const auto address = reinterpret_cast<std::uintptr_t>(x_.data());
    left_ = static_cast<std::int64_t>((4096 - address % 4096) % 4096 / sizeof(float));
    right_ = left_ + whole_pages(max_batch * panel_);
  }
}

MatrixView BatchBuffers::x_view(std::int64_t rows) {
  if (panel_ == 0) return MatrixView(x_.data(), rows, features_);
  return MatrixView(x_.data() + left_, rows, panel_, panel_);
}

MatrixView BatchBuffers::x_right_view(std::int64_t rows) {
  return MatrixView(x_.data() + right_, rows, features_ - panel_, features_ - panel_);
}

void BatchBuffers::gather_rows_into(const Dataset& data, const Preprocessing& prep,
                                    std::span<const std::int64_t> rows, MatrixView left,
                                    MatrixView right) {
  if (panel_ == 0) {
    gather_batch(left, data, prep, rows);
    return;
  }
  gather_batch_columns(left, data, prep, rows, 0);
  gather_batch_columns(right, data, prep, rows, panel_);
}

Batch<float> BatchBuffers::gather(const Dataset& data, const Preprocessing& prep,
                                  std::span<const std::int64_t> rows, ThreadPool* pool) {
  check_size(rows.size());
  const auto b = static_cast<std::int64_t>(rows.size());
  const MatrixView x = x_view(b);
  if (panel_ > 0) {
    gather_rows_into(data, prep, rows, x, x_right_view(b));
  } else if (pool != nullptr) {
    gather_batch(x, data, prep, rows, *pool);
  } else {
    gather_batch(x, data, prep, rows);
  }
  return batch(data, prep, rows);
}

void BatchBuffers::check_size(std::size_t rows) const {
  if (rows > labels_.size())
    throw Error(
        fmt::format("a minibatch of {} rows does not fit buffers for {}", rows, labels_.size()));
}

void BatchBuffers::gather_x(const Dataset& data, const Preprocessing& prep,
                            std::span<const std::int64_t> rows, std::int64_t first,
                            std::int64_t count) {
  check_size(rows.size());
  if (first < 0 || count < 0 || first + count > static_cast<std::int64_t>(rows.size()))
    throw Error(fmt::format("gather_x: rows [{}, {}) of a {}-row minibatch", first, first + count,
                            rows.size()));
  const auto b = static_cast<std::int64_t>(rows.size());
  const MatrixView x = x_view(b);
  const MatrixView right = panel_ > 0 ? x_right_view(b) : MatrixView();
  gather_rows_into(
      data, prep, rows.subspan(static_cast<std::size_t>(first), static_cast<std::size_t>(count)),
      MatrixView(x.row(first), count, x.cols, x.stride),
      panel_ > 0 ? MatrixView(right.row(first), count, right.cols, right.stride) : MatrixView());
}

void BatchBuffers::gather_x_panel(const Dataset& data, const Preprocessing& prep,
                                  std::span<const std::int64_t> rows, int panel) {
  check_size(rows.size());
  if (panel_ == 0 || panel < 0 || panel > 1)
    throw Error(fmt::format("gather_x_panel: panel {} of a minibatch {}", panel,
                            panel_ == 0 ? "without panels" : "of two panels"));
  const auto b = static_cast<std::int64_t>(rows.size());
  gather_batch_columns(panel == 0 ? x_view(b) : x_right_view(b), data, prep, rows,
                       panel == 0 ? 0 : panel_);
}

Batch<float> BatchBuffers::batch(const Dataset& data, const Preprocessing& prep,
                                 std::span<const std::int64_t> rows) {
  check_size(rows.size());
  const auto b = static_cast<std::int64_t>(rows.size());
  Batch<float> batch;
  batch.x = View<const float>(x_view(b));
  if (data.task == Task::classification) {
    for (std::size_t i = 0; i < rows.size(); ++i)
      labels_[i] = data.labels[static_cast<std::size_t>(rows[i])];
    batch.labels = std::span<const std::int32_t>(labels_.data(), rows.size());
  } else {
    // Row i's r targets are data.targets[i * r, (i + 1) * r).
    const auto r = static_cast<std::size_t>(outputs_);
    for (std::size_t i = 0; i < rows.size(); ++i)
      for (std::size_t j = 0; j < r; ++j)
        targets_.data()[i * r + j] =
            (data.targets[static_cast<std::size_t>(rows[i]) * r + j] - prep.target_offset) *
            prep.target_scale;
    batch.targets = View<const float>(targets_.data(), b, outputs_);
  }
  return batch;
}

View<const float> BatchBuffers::x_right(std::int64_t rows) {
  return panel_ > 0 ? View<const float>(x_right_view(rows)) : View<const float>();
}

}  // namespace backprop
