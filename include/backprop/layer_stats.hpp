#pragma once
// Per-layer statistics recorded while training, once per epoch (docs/report.md):
//   weight_norm     ||W||_F, the layer's weights before the sampled step
//   grad_norm       ||dW||_F on the sampled step
//   update_ratio    ||W_after - W_before||_F / ||W_before||_F on that step
//   dead_fraction   ReLU / leaky ReLU layers: units with f(z) <= 0 on every probe sample
//   saturated_fraction  sigmoid / tanh layers: units in the flat part of f (sigmoid |z| > 6,
//                   tanh |z| > 3: f' below 1% of its peak) on at least kSaturatedShare of the
//                   probe samples
//   activation_mean, activation_std  of f(Z) over every probe sample and unit
// The sampled step is the middle step of the epoch. With plain SGD the update is fused into
// the backward pass and dW is never stored, so dW is read from the update itself:
// W_after - W_before = -lr dW, ||dW|| = ||W_after - W_before|| / lr. Every other optimiser
// leaves dW in the gradient buffer, which is read directly. The probe samples are the first
// kProbeRows training rows, pushed through the end-of-epoch weights in buffers of the
// recorder's own, so recording changes no bit of training.
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "backprop/dataset.hpp"
#include "backprop/matrix.hpp"
#include "backprop/network.hpp"
#include "backprop/preprocessing.hpp"
#include "backprop/thread_pool.hpp"

namespace backprop {

// Statistics of one dense layer in one epoch; NaN where a value does not apply (activation
// statistics of the output layer, dead units of a sigmoid layer, ...).
struct LayerStats {
  std::int64_t layer = 0;  // 1-based: layer 1 holds W1 and b1
  double weight_norm = std::numeric_limits<double>::quiet_NaN();
  double grad_norm = std::numeric_limits<double>::quiet_NaN();
  double update_ratio = std::numeric_limits<double>::quiet_NaN();
  double dead_fraction = std::numeric_limits<double>::quiet_NaN();
  double saturated_fraction = std::numeric_limits<double>::quiet_NaN();
  double activation_mean = std::numeric_limits<double>::quiet_NaN();
  double activation_std = std::numeric_limits<double>::quiet_NaN();
};

class LayerStatsRecorder {
 public:
  static constexpr std::int64_t kProbeRows = 256;
  static constexpr double kSaturatedShare = 0.9;

  // Copies the probe samples (the first kProbeRows of `rows`, preprocessed) once.
  LayerStatsRecorder(const Architecture& architecture, const Dataset& data,
                     const Preprocessing& prep, std::span<const std::int64_t> rows,
                     std::size_t parameter_count);

  // Which step of an epoch of `steps` steps is sampled.
  static std::int64_t sampled_step(std::int64_t steps) { return steps / 2; }

  // Around the sampled step: remembers the weights, then measures the update.
  // `gradients_stored`: the weight gradients are in network.gradients() (not fused SGD).
  void before_step(const Network& network);
  void after_step(Network& network, float lr, bool gradients_stored);

  // The epoch's statistics (the probe pushed through the current weights); clears the
  // sampled-step values for the next epoch.
  std::vector<LayerStats> finish_epoch(const Network& network, ThreadPool& pool);

 private:
  Architecture arch_;
  std::int64_t probe_rows_;
  AlignedBuffer<float> probe_;
  std::vector<AlignedBuffer<float>> hidden_;
  AlignedBuffer<float> before_;
  std::vector<LayerStats> step_;  // the sampled step's norms
};

// ||W||_F of a weight block, summed in double.
double frobenius_norm(View<const float> w);

}  // namespace backprop
