#include "train/minibatch_pipeline.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "backprop/error.hpp"
#include "data/gather.hpp"

namespace backprop {

MinibatchPipeline::MinibatchPipeline(std::int64_t max_batch, std::int64_t features,
                                     std::int64_t outputs, std::int64_t panel_column)
    : buffers_{BatchBuffers(max_batch, features, outputs, panel_column),
               BatchBuffers(max_batch, features, outputs, panel_column)} {}

void MinibatchPipeline::start(const Dataset& data, const Preprocessing& prep,
                              std::span<const std::int64_t> order, std::int64_t batch) {
  if (batch < 1) throw Error(fmt::format("minibatch size {} must be at least 1", batch));
  data_ = &data;
  prep_ = &prep;
  order_ = order;
  batch_ = batch;
  ahead_step_ = -1;
  ahead_failed_.store(false);
}

std::int64_t MinibatchPipeline::steps() const {
  const auto n = static_cast<std::int64_t>(order_.size());
  return (n + batch_ - 1) / batch_;
}

std::span<const std::int64_t> MinibatchPipeline::rows_of(std::int64_t step) const {
  const auto n = static_cast<std::int64_t>(order_.size());
  const std::int64_t begin = std::min(step * batch_, n);
  const std::int64_t end = std::min(begin + batch_, n);
  return order_.subspan(static_cast<std::size_t>(begin), static_cast<std::size_t>(end - begin));
}

MinibatchPipeline::Minibatch MinibatchPipeline::take(std::int64_t step, ThreadPool& pool) {
  if (data_ == nullptr || step < 0 || step >= steps())
    throw Error(fmt::format("minibatch {} of an epoch of {}", step, steps()));
  BatchBuffers& buffers = buffers_[step % 2];
  const auto rows = rows_of(step);
  const bool gathered_ahead = ahead_step_ == step && !ahead_failed_.load();
  ahead_step_ = -1;
  const auto b = static_cast<std::int64_t>(rows.size());
  if (gathered_ahead) return {buffers.batch(*data_, *prep_, rows), buffers.x_right(b)};
  const Batch<float> batch = buffers.gather(*data_, *prep_, rows, &pool);
  if (step + 1 < steps()) prefetch_batch(*data_, rows_of(step + 1));
  return {batch, buffers.x_right(b)};
}

BesideWork MinibatchPipeline::ahead(std::int64_t step, const TaskRef& task) {
  if (data_ == nullptr || step + 1 >= steps()) return {};
  ahead_step_ = step + 1;
  ahead_failed_.store(false);
  if (buffers_[0].panel_column() > 0) return {2, &task};
  const auto rows = static_cast<std::int64_t>(rows_of(step + 1).size());
  return {(rows + kRowsPerPart - 1) / kRowsPerPart, &task};
}

void MinibatchPipeline::gather_ahead(std::int64_t step, std::int64_t part) {
  if (buffers_[0].panel_column() > 0) {
    gather_columns_ahead(step, part);
    return;
  }
  const std::int64_t first = part * kRowsPerPart;
  try {
    const auto rows = rows_of(step + 1);
    const std::int64_t count =
        std::min(kRowsPerPart, static_cast<std::int64_t>(rows.size()) - first);
    buffers_[(step + 1) % 2].gather_x(*data_, *prep_, rows, first, count);
  } catch (...) {
    ahead_failed_.store(true);  // take(step + 1) gathers again and throws there
    return;
  }
  if (step + 2 >= steps()) return;
  // Rows [first, first + kRowsPerPart) of minibatch s + 2: this task's part of it, a step later.
  const auto later = rows_of(step + 2);
  const auto size = static_cast<std::int64_t>(later.size());
  if (first >= size) return;
  prefetch_batch(*data_,
                 later.subspan(static_cast<std::size_t>(first),
                               static_cast<std::size_t>(std::min(kRowsPerPart, size - first))));
}

void MinibatchPipeline::gather_columns_ahead(std::int64_t step, std::int64_t part) {
  const std::int64_t column = buffers_[0].panel_column();
  const std::int64_t first = part == 0 ? 0 : column;
  const std::int64_t count = part == 0 ? column : buffers_[0].features() - column;
  try {
    buffers_[(step + 1) % 2].gather_x_panel(*data_, *prep_, rows_of(step + 1),
                                            static_cast<int>(part));
  } catch (...) {
    ahead_failed_.store(true);  // take(step + 1) gathers again and throws there
    return;
  }
  // The same columns of minibatch s + 2, into this core's cache for a step later.
  if (step + 2 < steps()) prefetch_batch(*data_, rows_of(step + 2), first, count);
}

}  // namespace backprop
