#include "backprop/evaluate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>

#include "backprop/error.hpp"

namespace backprop {

std::int64_t argmax(const float* values, std::int64_t n) {
  return std::max_element(values, values + n) - values;
}

namespace {

constexpr std::int64_t kPageFloats = 4096 / sizeof(float);

std::int64_t whole_pages(std::int64_t floats) {
  return (floats + kPageFloats - 1) / kPageFloats * kPageFloats;
}

}  // namespace

BatchBuffers::BatchBuffers(std::int64_t max_batch, std::int64_t features, std::int64_t outputs,
                           std::int64_t split_column)
    : features_(features),
      outputs_(outputs),
      split_(split_column > 0 && split_column < features ? split_column : 0),
      // Two panels each starting a page: one page more to find the first boundary.
      x_(static_cast<std::size_t>(split_ > 0 ? whole_pages(max_batch * split_) +
                                                   whole_pages(max_batch * (features - split_)) +
                                                   kPageFloats
                                             : max_batch * features)),
      labels_(static_cast<std::size_t>(max_batch)),
      targets_(static_cast<std::size_t>(max_batch * outputs)) {
  if (split_ > 0) {
    const auto address = reinterpret_cast<std::uintptr_t>(x_.data());
    left_ = static_cast<std::int64_t>((4096 - address % 4096) % 4096 / sizeof(float));
    right_ = left_ + whole_pages(max_batch * split_);
  }
}

MatrixView BatchBuffers::x_view(std::int64_t rows) {
  if (split_ == 0) return MatrixView(x_.data(), rows, features_);
  return MatrixView(x_.data() + left_, rows, split_, split_);
}

MatrixView BatchBuffers::x_right_view(std::int64_t rows) {
  return MatrixView(x_.data() + right_, rows, features_ - split_, features_ - split_);
}

void BatchBuffers::gather_rows_into(const Dataset& data, const Preprocessing& prep,
                                    std::span<const std::int64_t> rows, MatrixView left,
                                    MatrixView right) {
  if (split_ == 0) {
    gather_batch(left, data, prep, rows);
    return;
  }
  gather_batch_columns(left, data, prep, rows, 0);
  gather_batch_columns(right, data, prep, rows, split_);
}

Batch<float> BatchBuffers::gather(const Dataset& data, const Preprocessing& prep,
                                  std::span<const std::int64_t> rows, ThreadPool* pool) {
  check_size(rows.size());
  const auto b = static_cast<std::int64_t>(rows.size());
  const MatrixView x = x_view(b);
  if (split_ > 0) {
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
  const MatrixView right = split_ > 0 ? x_right_view(b) : MatrixView();
  gather_rows_into(
      data, prep, rows.subspan(static_cast<std::size_t>(first), static_cast<std::size_t>(count)),
      MatrixView(x.row(first), count, x.cols, x.stride),
      split_ > 0 ? MatrixView(right.row(first), count, right.cols, right.stride) : MatrixView());
}

void BatchBuffers::gather_x_panel(const Dataset& data, const Preprocessing& prep,
                                  std::span<const std::int64_t> rows, int panel) {
  check_size(rows.size());
  if (split_ == 0 || panel < 0 || panel > 1)
    throw Error(fmt::format("gather_x_panel: panel {} of a minibatch {}", panel,
                            split_ == 0 ? "without panels" : "of two panels"));
  const auto b = static_cast<std::int64_t>(rows.size());
  gather_batch_columns(panel == 0 ? x_view(b) : x_right_view(b), data, prep, rows,
                       panel == 0 ? 0 : split_);
}

Batch<float> BatchBuffers::batch(const Dataset& data, const Preprocessing& prep,
                                 std::span<const std::int64_t> rows) {
  check_size(rows.size());
  const auto b = static_cast<std::int64_t>(rows.size());
  Batch<float> batch;
  batch.x = View<const float>(x_view(b));
  if (split_ > 0) batch.x_right = View<const float>(x_right_view(b));
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

void check_compatible(const Network& network, const Dataset& data) {
  const Architecture& arch = network.architecture();
  if (data.features != arch.inputs())
    throw Error(fmt::format("{}: {} features per sample, but the network takes {} inputs",
                            data.source, data.features, arch.inputs()));
  if (data.rows == 0) throw Error(fmt::format("{}: the data set is empty", data.source));
  if (data.task == Task::classification) {
    if (arch.loss != Loss::cross_entropy)
      throw Error(
          fmt::format("{}: class labels, but the network is a regression network", data.source));
    const std::int32_t top =
        data.labels.empty() ? 0 : *std::max_element(data.labels.begin(), data.labels.end());
    if (top >= arch.outputs())
      throw Error(fmt::format("{}: label {} needs at least {} outputs, but the network has {}",
                              data.source, top, top + 1, arch.outputs()));
  } else {
    if (arch.loss != Loss::mse)
      throw Error(fmt::format("{}: numeric targets, but the network is a classifier", data.source));
    if (data.targets.size() != static_cast<std::size_t>(data.rows * arch.outputs()))
      throw Error(fmt::format("{}: {} targets for {} samples, but the network has {} outputs",
                              data.source, data.targets.size(), data.rows, arch.outputs()));
  }
}

Evaluation evaluate(Network& network, const Dataset& data, const Preprocessing& prep,
                    std::span<const std::int64_t> rows, ThreadPool& pool) {
  check_compatible(network, data);
  std::vector<std::int64_t> all;
  if (rows.empty()) {
    all.resize(static_cast<std::size_t>(data.rows));
    std::iota(all.begin(), all.end(), 0);
    rows = all;
  }
  const Architecture& arch = network.architecture();
  const std::int64_t r = arch.outputs();
  BatchBuffers buffers(network.max_batch(), arch.inputs(), r);
  Evaluation e;
  e.task = data.task;
  e.samples = static_cast<std::int64_t>(rows.size());
  if (data.task == Task::classification) {
    e.classes = r;
    e.confusion.assign(static_cast<std::size_t>(r * r), 0);
  }
  double loss_sum = 0.0, abs_sum = 0.0, sq_sum = 0.0, target_sum = 0.0, target_sq = 0.0;
  for (std::size_t start = 0; start < rows.size();
       start += static_cast<std::size_t>(network.max_batch())) {
    const auto chunk = rows.subspan(
        start, std::min(rows.size() - start, static_cast<std::size_t>(network.max_batch())));
    const Batch<float> batch = buffers.gather(data, prep, chunk, &pool);
    loss_sum += network.loss(batch, pool) * static_cast<double>(chunk.size());
    const auto yhat = network.output();
    for (std::int64_t i = 0; i < yhat.rows; ++i) {
      if (data.task == Task::classification) {
        const auto truth = batch.labels[static_cast<std::size_t>(i)];
        e.confusion[static_cast<std::size_t>(truth * r + argmax(yhat.row(i), r))] += 1;
      } else {
        // In the data's own units: y = y' / scale + offset, for both target and prediction;
        // the r outputs of every sample are pooled.
        const auto row = static_cast<std::size_t>(chunk[static_cast<std::size_t>(i)]);
        for (std::int64_t j = 0; j < r; ++j) {
          const double y = static_cast<double>(
              data.targets[row * static_cast<std::size_t>(r) + static_cast<std::size_t>(j)]);
          const double predicted =
              static_cast<double>(yhat(i, j)) / static_cast<double>(prep.target_scale) +
              static_cast<double>(prep.target_offset);
          abs_sum += std::abs(predicted - y);
          sq_sum += (predicted - y) * (predicted - y);
          target_sum += y;
          target_sq += y * y;
        }
      }
    }
  }
  const auto n = static_cast<double>(e.samples);
  e.loss = loss_sum / n;
  if (data.task == Task::classification) {
    std::int64_t correct = 0;
    for (std::int64_t k = 0; k < r; ++k) {
      std::int64_t predicted = 0, actual = 0;
      for (std::int64_t j = 0; j < r; ++j) {
        predicted += e.confusion[static_cast<std::size_t>(j * r + k)];
        actual += e.confusion[static_cast<std::size_t>(k * r + j)];
      }
      const auto tp = e.confusion[static_cast<std::size_t>(k * r + k)];
      correct += tp;
      e.precision.push_back(predicted ? static_cast<double>(tp) / static_cast<double>(predicted)
                                      : 0.0);
      e.recall.push_back(actual ? static_cast<double>(tp) / static_cast<double>(actual) : 0.0);
    }
    e.accuracy = static_cast<double>(correct) / n;
  } else {
    const double values = n * static_cast<double>(r);
    e.mse = sq_sum / values;
    e.mae = abs_sum / values;
    // R^2 = 1 - SS_res / SS_tot, SS_tot = sum (y - mean y)^2 = sum y^2 - n mean^2
    const double ss_tot = target_sq - target_sum * target_sum / values;
    e.r2 = ss_tot > 0.0 ? 1.0 - sq_sum / ss_tot : 0.0;
  }
  return e;
}

std::vector<float> predict(Network& network, const Dataset& data, const Preprocessing& prep,
                           ThreadPool& pool) {
  const Architecture& arch = network.architecture();
  if (data.features != arch.inputs())
    throw Error(fmt::format("{}: {} features per sample, but the model takes {} inputs",
                            data.source, data.features, arch.inputs()));
  const std::int64_t r = arch.outputs();
  std::vector<float> out(static_cast<std::size_t>(data.rows * r));
  AlignedBuffer<float> x(static_cast<std::size_t>(network.max_batch() * arch.inputs()));
  std::vector<std::int64_t> rows;
  for (std::int64_t start = 0; start < data.rows; start += network.max_batch()) {
    const std::int64_t b = std::min(network.max_batch(), data.rows - start);
    rows.resize(static_cast<std::size_t>(b));
    std::iota(rows.begin(), rows.end(), start);
    MatrixView xb(x.data(), b, arch.inputs());
    gather_batch(xb, data, prep, rows, pool);
    const auto yhat = network.forward(xb, pool);
    for (std::int64_t i = 0; i < b; ++i)
      std::copy(yhat.row(i), yhat.row(i) + r, out.begin() + (start + i) * r);
  }
  if (arch.loss == Loss::mse) {
    for (auto& v : out) v = v / prep.target_scale + prep.target_offset;  // back to the data's units
  }
  return out;
}

}  // namespace backprop
