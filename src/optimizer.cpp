#include "backprop/optimizer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "backprop/error.hpp"

namespace backprop {

std::string to_string(OptimizerKind k) {
  switch (k) {
    case OptimizerKind::sgd: return "sgd";
    case OptimizerKind::momentum: return "momentum";
    case OptimizerKind::adam: return "adam";
    case OptimizerKind::adamw: return "adamw";
  }
  return "unknown";
}

OptimizerKind parse_optimizer(const std::string& name) {
  for (const auto k : {OptimizerKind::sgd, OptimizerKind::momentum, OptimizerKind::adam, OptimizerKind::adamw})
    if (name == to_string(k)) return k;
  throw Error(fmt::format("unknown optimizer '{}' (choose sgd, momentum, adam, adamw)", name));
}

void OptimizerConfig::validate() const {
  if (!(momentum >= 0.0f && momentum < 1.0f)) throw Error(fmt::format("momentum {} is not in [0, 1)", momentum));
  if (!(beta1 >= 0.0f && beta1 < 1.0f)) throw Error(fmt::format("beta1 {} is not in [0, 1)", beta1));
  if (!(beta2 >= 0.0f && beta2 < 1.0f)) throw Error(fmt::format("beta2 {} is not in [0, 1)", beta2));
  if (!(epsilon > 0.0f)) throw Error(fmt::format("epsilon {} must be positive", epsilon));
  if (!(weight_decay >= 0.0f && std::isfinite(weight_decay)))
    throw Error(fmt::format("weight decay {} must be a non-negative number", weight_decay));
}

namespace {
std::size_t state_size(OptimizerKind k, std::size_t n) {
  switch (k) {
    case OptimizerKind::sgd: return 0;
    case OptimizerKind::momentum: return n;  // velocity
    case OptimizerKind::adam:
    case OptimizerKind::adamw: return 2 * n;  // m, v
  }
  return 0;
}
}  // namespace

Optimizer::Optimizer(OptimizerConfig config, std::size_t parameter_count)
    : config_(config), count_(parameter_count), state_(state_size(config.kind, parameter_count)) {
  config_.validate();
}

void Optimizer::restore(std::uint64_t steps, std::span<const float> state) {
  if (state.size() != state_.size())
    throw Error(fmt::format("optimizer state has {} values, expected {} for {}", state.size(), state_.size(),
                            to_string(config_.kind)));
  std::copy(state.begin(), state.end(), state_.data());
  t_ = steps;
}

void Optimizer::step(std::span<float> params, std::span<const float> grads, float lr) {
  if (params.size() != count_ || grads.size() != count_)
    throw Error("optimizer: parameter and gradient buffers do not match its size");
  ++t_;
  float* theta = params.data();
  const float* g = grads.data();
  const float wd = config_.weight_decay;
  const std::size_t n = count_;
  switch (config_.kind) {
    case OptimizerKind::sgd:
      for (std::size_t i = 0; i < n; ++i) theta[i] -= lr * (g[i] + wd * theta[i]);  // theta -= lr (g + wd theta)
      break;
    case OptimizerKind::momentum: {
      float* v = state_.data();
      const float mu = config_.momentum;
      if (config_.nesterov) {
        for (std::size_t i = 0; i < n; ++i) {
          const float gi = g[i] + wd * theta[i];
          v[i] = mu * v[i] + gi;         // v = mu v + g
          theta[i] -= lr * (gi + mu * v[i]);  // theta -= lr (g + mu v)
        }
      } else {
        for (std::size_t i = 0; i < n; ++i) {
          v[i] = mu * v[i] + (g[i] + wd * theta[i]);  // v = mu v + g
          theta[i] -= lr * v[i];                      // theta -= lr v
        }
      }
      break;
    }
    case OptimizerKind::adam:
    case OptimizerKind::adamw: {
      float* m = state_.data();
      float* v = state_.data() + n;
      const float b1 = config_.beta1;
      const float b2 = config_.beta2;
      const auto t = static_cast<double>(t_);
      // Bias corrections 1 - beta^t, folded into the step size as PyTorch does:
      // theta -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
      const auto step_size = static_cast<float>(static_cast<double>(lr) / (1.0 - std::pow(static_cast<double>(b1), t)));
      const auto inv_sqrt_c2 = static_cast<float>(1.0 / std::sqrt(1.0 - std::pow(static_cast<double>(b2), t)));
      const float eps = config_.epsilon;
      const bool decoupled = config_.kind == OptimizerKind::adamw;
      for (std::size_t i = 0; i < n; ++i) {
        float gi = g[i];
        if (decoupled) {
          theta[i] *= 1.0f - lr * wd;  // AdamW: theta -= lr wd theta, outside the moments
        } else {
          gi += wd * theta[i];  // Adam + L2: g += wd theta
        }
        m[i] = b1 * m[i] + (1.0f - b1) * gi;       // m = b1 m + (1 - b1) g
        v[i] = b2 * v[i] + (1.0f - b2) * gi * gi;  // v = b2 v + (1 - b2) g^2
        theta[i] -= step_size * m[i] / (std::sqrt(v[i]) * inv_sqrt_c2 + eps);
      }
      break;
    }
  }
}

}  // namespace backprop
