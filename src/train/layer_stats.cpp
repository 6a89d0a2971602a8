#include "backprop/layer_stats.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "ops/ops.hpp"

namespace backprop {

double frobenius_norm(View<const float> w) {
  double s = 0;
  for (std::int64_t i = 0; i < w.rows; ++i) {
    const float* r = w.row(i);
    for (std::int64_t j = 0; j < w.cols; ++j)
      s += static_cast<double>(r[j]) * static_cast<double>(r[j]);
  }
  return std::sqrt(s);
}

LayerStatsRecorder::LayerStatsRecorder(const Architecture& architecture, const Dataset& data,
                                       const Preprocessing& prep,
                                       std::span<const std::int64_t> rows,
                                       std::size_t parameter_count)
    : arch_(architecture),
      probe_rows_(std::min<std::int64_t>(kProbeRows, static_cast<std::int64_t>(rows.size()))),
      probe_(static_cast<std::size_t>(probe_rows_ * architecture.inputs())),
      before_(parameter_count),
      step_(static_cast<std::size_t>(architecture.num_layers())) {
  gather_batch(MatrixView(probe_.data(), probe_rows_, arch_.inputs()), data, prep,
               rows.first(static_cast<std::size_t>(probe_rows_)));
  for (std::int64_t l = 0; l + 1 < arch_.num_layers(); ++l)
    hidden_.emplace_back(
        static_cast<std::size_t>(probe_rows_ * arch_.widths[static_cast<std::size_t>(l + 1)]));
}

void LayerStatsRecorder::before_step(const Network& network) {
  const auto p = network.parameters();
  std::copy(p.begin(), p.end(), before_.data());
}

void LayerStatsRecorder::after_step(Network& network, float lr, bool gradients_stored) {
  const float* base = network.parameters().data();
  for (std::int64_t l = 0; l < arch_.num_layers(); ++l) {
    const View<const float> w = std::as_const(network).weight(l);
    const View<const float> old(before_.data() + (w.data - base), w.rows, w.cols, w.stride);
    double old_sq = 0, delta_sq = 0;
    for (std::int64_t i = 0; i < w.rows; ++i)
      for (std::int64_t j = 0; j < w.cols; ++j) {
        const auto o = static_cast<double>(old(i, j));
        const double d = static_cast<double>(w(i, j)) - o;
        old_sq += o * o;
        delta_sq += d * d;
      }
    LayerStats& s = step_[static_cast<std::size_t>(l)];
    s.weight_norm = std::sqrt(old_sq);
    s.update_ratio = old_sq > 0 ? std::sqrt(delta_sq / old_sq) : std::nan("");
    // Fused SGD: W_after - W_before = -lr dW.
    s.grad_norm = gradients_stored ? frobenius_norm(network.weight_grad(l))
                                   : std::sqrt(delta_sq) / static_cast<double>(lr);
  }
}

std::vector<LayerStats> LayerStatsRecorder::finish_epoch(const Network& network, ThreadPool& pool) {
  std::vector<LayerStats> out = step_;
  const std::int64_t n = probe_rows_;
  View<const float> input(probe_.data(), n, arch_.inputs());
  for (std::int64_t l = 0; l < arch_.num_layers(); ++l) {
    LayerStats& s = out[static_cast<std::size_t>(l)];
    s.layer = l + 1;
    if (std::isnan(s.weight_norm)) s.weight_norm = frobenius_norm(network.weight(l));
    if (l + 1 == arch_.num_layers()) break;  // the output layer: no hidden activations
    const std::int64_t width = arch_.widths[static_cast<std::size_t>(l + 1)];
    const Activation f = arch_.activations[static_cast<std::size_t>(l)];
    const MatrixView h(hidden_[static_cast<std::size_t>(l)].data(), n, width);
    ops::dense_forward<float>(h, input, network.weight(l), network.bias(l), f, arch_.leaky_slope,
                              pool);
    // Probe samples that put each unit in the flat part of f.
    std::vector<std::int64_t> flat_count(static_cast<std::size_t>(width), 0);
    double sum = 0, sum_sq = 0;
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t j = 0; j < width; ++j) {
        const auto a = static_cast<double>(h(i, j));
        sum += a;
        sum_sq += a * a;
        bool flat = false;
        switch (f) {
          case Activation::relu:
          case Activation::leaky_relu:
            flat = a <= 0;
            break;
          case Activation::sigmoid:  // |z| > 6: sigma(6) = 0.997527
            flat = a < 1 - 0.997527 || a > 0.997527;
            break;
          case Activation::tanh:  // |z| > 3: tanh(3) = 0.995055
            flat = std::abs(a) > 0.995055;
            break;
          case Activation::linear:
            break;
        }
        if (flat) flat_count[static_cast<std::size_t>(j)] += 1;
      }
    const double count = static_cast<double>(n * width);
    s.activation_mean = sum / count;
    s.activation_std =
        std::sqrt(std::max(0.0, sum_sq / count - s.activation_mean * s.activation_mean));
    // Dead: flat on every probe sample. Saturated: on at least kSaturatedShare of them.
    const auto units_with = [&](std::int64_t at_least) {
      return static_cast<double>(std::count_if(flat_count.begin(), flat_count.end(),
                                               [&](std::int64_t c) { return c >= at_least; })) /
             static_cast<double>(width);
    };
    if (f == Activation::relu || f == Activation::leaky_relu) s.dead_fraction = units_with(n);
    if (f == Activation::sigmoid || f == Activation::tanh)
      s.saturated_fraction = units_with(
          static_cast<std::int64_t>(std::ceil(kSaturatedShare * static_cast<double>(n))));
    input = h;
  }
  for (auto& s : step_) s = LayerStats{};
  return out;
}

}  // namespace backprop
