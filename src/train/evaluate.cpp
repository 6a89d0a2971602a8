#include "backprop/evaluate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>

#include "backprop/error.hpp"
#include "train/batch_buffers.hpp"

namespace backprop {

std::int64_t argmax(const float* values, std::int64_t n) {
  return std::max_element(values, values + n) - values;
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
