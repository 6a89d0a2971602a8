#pragma once
// Health checks of a training run (docs/report.md): warnings when training goes wrong, and the
// conditions under which it cannot recover and is stopped.
//   exploding loss (stop)   a running mean of the minibatch losses above kExplosionFactor (100)
//   times
//                           max(the loss of predicting the class frequencies (their entropy) or
//                           the targets' mean (their variance), the first step's loss)
//   dead layer (stop)       every unit of a ReLU layer dead on the probe samples
//   dead units              at least half of a ReLU layer's units dead (leaky ReLU units
//                           still pass 1% of the gradient: not warned about)
//   saturated units         at least half of a sigmoid / tanh layer's units saturated
//   vanishing gradients     a layer below the output whose RMS weight gradient is below
//                           kVanishingRatio times the output layer's
//   no improvement          the training loss not kMinImprovement below its best for
//                           kStaleEpochs epochs in a row
//   chance accuracy         accuracy (validation if there is one, else training) within three
//                           binomial standard deviations of always predicting the most
//                           frequent class, after any epoch
// Each warning is given once per run (and layer).
#include <cstdint>
#include <limits>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "backprop/architecture.hpp"
#include "backprop/dataset.hpp"
#include "backprop/layer_stats.hpp"
#include "backprop/preprocessing.hpp"

namespace backprop {

struct EpochMetrics;

struct HealthFinding {
  std::string check;  // "dead_units", "saturated_units", ... as in the list above
  std::int64_t epoch = 0;
  std::int64_t layer = 0;  // 1-based, 0 when about the whole network
  bool stop = false;       // the run cannot recover
  std::string message;     // names the epoch, the layer and a likely fix
};

// What the trivial predictors score on the training rows: the loss of predicting the class
// frequencies (entropy, nats) or the targets' mean (their variance after preprocessing), and
// the accuracy of always predicting the most frequent class (NaN for regression).
struct Baseline {
  double loss = 0;
  double accuracy = 0;
  std::int64_t samples = 0;
};
Baseline baseline_of(const Dataset& data, const Preprocessing& prep,
                     std::span<const std::int64_t> rows);

// The running loss watched step by step for a finite explosion.
class LossExplosionGuard {
 public:
  static constexpr double kExplosionFactor = 100.0;
  // The running mean weighs a minibatch of B rows by B / (B + kWindowRows).
  static constexpr double kWindowRows = 256.0;

  explicit LossExplosionGuard(double baseline_loss) : baseline_(baseline_loss) {}
  // Adds a step's mean loss over `rows` samples; true when the run has exploded.
  bool observe(double loss, std::int64_t rows);
  double running_loss() const { return running_; }
  double limit() const { return limit_; }
  double baseline() const { return baseline_; }
  double start_loss() const { return start_; }

 private:
  double baseline_;
  double start_ = 0, running_ = 0, limit_ = 0;
  bool started_ = false;
};

class HealthMonitor {
 public:
  static constexpr double kVanishingRatio = 1e-4;
  static constexpr double kMinImprovement = 1e-3;  // relative
  static constexpr std::int64_t kStaleEpochs = 3;
  // Epochs in a row at chance accuracy, with a training loss that fell by less than
  // kLearningDrop (relative) since the epoch before, before it is a finding: a fresh network can
  // sit at or below the majority class for a few epochs while its loss falls fast.
  static constexpr std::int64_t kChanceEpochs = 2;
  static constexpr double kLearningDrop = 0.01;

  HealthMonitor(Architecture architecture, Task task, Baseline baseline);
  // The findings of an epoch (its metrics with their layer statistics).
  std::vector<HealthFinding> check_epoch(const EpochMetrics& m);
  const Baseline& baseline() const { return baseline_; }

 private:
  bool first(const std::string& check, std::int64_t layer);
  std::string layer_name(std::int64_t layer) const;  // "layer 1 (784 -> 128, relu)"

  Architecture arch_;
  Task task_;
  Baseline baseline_;
  double best_loss_ = 0;
  std::int64_t stale_ = 0;
  bool seen_epoch_ = false;
  std::int64_t chance_run_ = 0;  // epochs in a row at chance accuracy, not learning
  double previous_loss_ = std::numeric_limits<double>::quiet_NaN();
  std::set<std::pair<std::string, std::int64_t>> given_;
};

}  // namespace backprop
