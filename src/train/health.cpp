#include "backprop/health.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "backprop/trainer.hpp"

namespace backprop {

Baseline baseline_of(const Dataset& data, const Preprocessing& prep,
                     std::span<const std::int64_t> rows) {
  Baseline b;
  b.samples = static_cast<std::int64_t>(rows.size());
  if (rows.empty()) return b;
  const auto n = static_cast<double>(rows.size());
  if (data.task == Task::classification) {
    std::vector<std::int64_t> counts(
        static_cast<std::size_t>(std::max<std::int64_t>(data.num_classes(), 1)), 0);
    for (const auto r : rows) {
      const std::int32_t label = data.labels[static_cast<std::size_t>(r)];
      if (label < 0) continue;  // refused later by check_compatible
      const auto c = static_cast<std::size_t>(label);
      if (c >= counts.size()) counts.resize(c + 1, 0);
      counts[c] += 1;
    }
    double entropy = 0;
    std::int64_t most = 0;
    for (const auto c : counts) {
      most = std::max(most, c);
      if (c > 0) entropy -= static_cast<double>(c) / n * std::log(static_cast<double>(c) / n);
    }
    b.loss = entropy;
    b.accuracy = static_cast<double>(most) / n;
  } else {
    // The loss is on y' = (y - target_offset) * target_scale.
    double sum = 0, sum_sq = 0;
    for (const auto r : rows) {
      const double y = (static_cast<double>(data.targets[static_cast<std::size_t>(r)]) -
                        static_cast<double>(prep.target_offset)) *
                       static_cast<double>(prep.target_scale);
      sum += y;
      sum_sq += y * y;
    }
    const double mean = sum / n;
    b.loss = std::max(0.0, sum_sq / n - mean * mean);
    b.accuracy = std::nan("");
  }
  return b;
}

bool LossExplosionGuard::observe(double loss, std::int64_t rows) {
  if (!started_) {
    started_ = true;
    start_ = loss;
    running_ = loss;
    limit_ = kExplosionFactor * std::max(baseline_, start_);
    return false;
  }
  const double w = static_cast<double>(rows) / (static_cast<double>(rows) + kWindowRows);
  running_ += w * (loss - running_);
  return limit_ > 0 && running_ > limit_;
}

HealthMonitor::HealthMonitor(Architecture architecture, Task task, Baseline baseline)
    : arch_(std::move(architecture)), task_(task), baseline_(baseline) {}

bool HealthMonitor::first(const std::string& check, std::int64_t layer) {
  return given_.insert({check, layer}).second;
}

std::string HealthMonitor::layer_name(std::int64_t layer) const {
  const auto l = static_cast<std::size_t>(layer - 1);
  const bool hidden = l + 1 < arch_.widths.size() - 1;
  return fmt::format("layer {} ({} -> {}, {})", layer, arch_.widths[l], arch_.widths[l + 1],
                     hidden ? to_string(arch_.activations[l]) : std::string("output"));
}

std::vector<HealthFinding> HealthMonitor::check_epoch(const EpochMetrics& m) {
  std::vector<HealthFinding> out;
  auto add = [&](const std::string& check, std::int64_t layer, bool stop, std::string message) {
    if (stop || first(check, layer))
      out.push_back({check, m.epoch, layer, stop, std::move(message)});
  };
  const std::int64_t e = m.epoch;
  const auto& layers = m.layers;
  for (const auto& s : layers) {
    if (s.layer < 1 || s.layer >= arch_.num_layers()) continue;  // hidden layers only
    const Activation f = arch_.activations[static_cast<std::size_t>(s.layer - 1)];
    if (f == Activation::relu && s.dead_fraction >= 1.0) {
      add("dead_layer", s.layer, true,
          fmt::format("epoch {}: every unit of {} is dead (output 0 on all probe samples), so no "
                      "gradient reaches it or the layers below it and training cannot recover. "
                      "Likely fix: a lower learning rate (--lr), --activation leaky_relu, or "
                      "--optimizer adam",
                      e, layer_name(s.layer)));
    } else if (f == Activation::relu && s.dead_fraction >= 0.5) {
      add("dead_units", s.layer, false,
          fmt::format("epoch {}, {}: {:.0f}% of the units are dead (output 0 on every probe "
                      "sample) and no longer learn. Likely fix: a lower learning rate (--lr) or "
                      "--activation leaky_relu",
                      e, layer_name(s.layer), 100 * s.dead_fraction));
    }
    if (s.saturated_fraction >= 0.5) {
      add("saturated_units", s.layer, false,
          fmt::format("epoch {}, {}: {:.0f}% of the units are saturated (in the flat part of {} "
                      "on at least 90% of the probe samples), so their gradients are nearly zero. "
                      "Likely fix: "
                      "scale the inputs (--normalize standard), a lower learning rate (--lr), or "
                      "--activation relu",
                      e, layer_name(s.layer), 100 * s.saturated_fraction, to_string(f)));
    }
  }
  // Vanishing gradients: RMS of dW against the output layer's.
  if (!layers.empty()) {
    const auto rms = [&](const LayerStats& s) {
      const auto l = static_cast<std::size_t>(s.layer - 1);
      return s.grad_norm / std::sqrt(static_cast<double>(arch_.widths[l] * arch_.widths[l + 1]));
    };
    const LayerStats& top = layers.back();
    const double top_rms = rms(top);
    if (std::isfinite(top_rms) && top_rms > 0) {
      for (std::size_t i = 0; i + 1 < layers.size(); ++i) {
        const double r = rms(layers[i]);
        if (std::isfinite(r) && r < kVanishingRatio * top_rms) {
          add("vanishing_gradients", layers[i].layer, false,
              fmt::format("epoch {}, {}: the gradient is vanishing (RMS of dW {:.3g}, {:.2g} "
                          "times the output layer's {:.3g}), so the early layers barely learn. "
                          "Likely fix: fewer hidden layers, --activation relu instead of "
                          "sigmoid or tanh, or --optimizer adam",
                          e, layer_name(layers[i].layer), r, r / top_rms, top_rms));
        }
      }
    }
  }
  // No improvement of the training loss.
  if (std::isfinite(m.train_loss)) {
    if (!seen_epoch_ || m.train_loss < best_loss_ * (1 - kMinImprovement)) {
      best_loss_ = seen_epoch_ ? std::min(best_loss_, m.train_loss) : m.train_loss;
      stale_ = 0;
    } else {
      stale_ += 1;
    }
    seen_epoch_ = true;
    if (stale_ >= kStaleEpochs)
      add("loss_not_improving", 0, false,
          fmt::format("epoch {}: the training loss ({:.4g}) has not improved on its best "
                      "({:.4g}) for {} epochs. Likely fix: a higher learning rate (--lr) if it "
                      "barely moves, a lower one if it jumps around; check that the labels "
                      "belong to the features",
                      e, m.train_loss, best_loss_, stale_));
  }
  // Chance-level accuracy.
  if (task_ == Task::classification && baseline_.samples > 0) {
    const bool val = std::isfinite(m.val_accuracy);
    const double acc = val ? m.val_accuracy : m.train_accuracy;
    const double p = baseline_.accuracy;
    const double margin = 3 * std::sqrt(p * (1 - p) / static_cast<double>(baseline_.samples));
    const bool learning = std::isfinite(m.train_loss) && std::isfinite(previous_loss_) &&
                          m.train_loss < previous_loss_ * (1 - kLearningDrop);
    chance_run_ = std::isfinite(acc) && acc <= p + margin && !learning ? chance_run_ + 1 : 0;
    if (chance_run_ >= kChanceEpochs)
      add("chance_accuracy", 0, false,
          fmt::format("epoch {}: the {} accuracy ({:.4f}) has been at chance level for {} epochs "
                      "while the loss barely moves (always predicting the most frequent class "
                      "scores {:.4f}). Likely fix: "
                      "check that --label names the right column, scale the inputs (--normalize "
                      "standard), or change the learning rate (--lr) by a factor of 10",
                      e, val ? "validation" : "training", acc, chance_run_, p));
  }
  previous_loss_ = m.train_loss;
  return out;
}

}  // namespace backprop
