#include "backprop/optimizer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "backprop/error.hpp"

namespace backprop {

std::string to_string(OptimizerKind k) {
  switch (k) {
    case OptimizerKind::sgd:
      return "sgd";
    case OptimizerKind::momentum:
      return "momentum";
    case OptimizerKind::adam:
      return "adam";
    case OptimizerKind::adamw:
      return "adamw";
  }
  return "unknown";
}

OptimizerKind parse_optimizer(const std::string& name) {
  for (const auto k :
       {OptimizerKind::sgd, OptimizerKind::momentum, OptimizerKind::adam, OptimizerKind::adamw})
    if (name == to_string(k)) return k;
  throw Error(fmt::format("unknown optimizer '{}' (choose sgd, momentum, adam, adamw)", name));
}

void OptimizerConfig::validate() const {
  if (!(momentum >= 0.0f && momentum < 1.0f))
    throw Error(fmt::format("momentum {} is not in [0, 1)", momentum));
  if (!(beta1 >= 0.0f && beta1 < 1.0f))
    throw Error(fmt::format("beta1 {} is not in [0, 1)", beta1));
  if (!(beta2 >= 0.0f && beta2 < 1.0f))
    throw Error(fmt::format("beta2 {} is not in [0, 1)", beta2));
  if (!(epsilon > 0.0f)) throw Error(fmt::format("epsilon {} must be positive", epsilon));
  if (!(weight_decay >= 0.0f && std::isfinite(weight_decay)))
    throw Error(fmt::format("weight decay {} must be a non-negative number", weight_decay));
}

namespace {
std::size_t state_size(OptimizerKind k, std::size_t n) {
  switch (k) {
    case OptimizerKind::sgd:
      return 0;
    case OptimizerKind::momentum:
      return n;  // velocity
    case OptimizerKind::adam:
    case OptimizerKind::adamw:
      return 2 * n;  // m, v
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
    throw Error(fmt::format("optimizer state has {} values, expected {} for {}", state.size(),
                            state_.size(), to_string(config_.kind)));
  std::copy(state.begin(), state.end(), state_.data());
  t_ = steps;
}

namespace {

// The per-element updates, over one contiguous chunk. Each is compiled for AVX-512, AVX2 and the
// baseline (the loader picks one), since a step touches every parameter and its state.
#define BACKPROP_CLONES \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

BACKPROP_CLONES void sgd_update(float* theta, const float* g, std::size_t n, float lr, float wd) {
  for (std::size_t i = 0; i < n; ++i)
    theta[i] -= lr * (g[i] + wd * theta[i]);  // theta -= lr (g + wd theta)
}

BACKPROP_CLONES void momentum_update(float* theta, float* v, const float* g, std::size_t n,
                                     float lr, float wd, float mu, bool nesterov) {
  if (nesterov) {
    for (std::size_t i = 0; i < n; ++i) {
      const float gi = g[i] + wd * theta[i];
      v[i] = mu * v[i] + gi;              // v = mu v + g
      theta[i] -= lr * (gi + mu * v[i]);  // theta -= lr (g + mu v)
    }
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      v[i] = mu * v[i] + (g[i] + wd * theta[i]);  // v = mu v + g
      theta[i] -= lr * v[i];                      // theta -= lr v
    }
  }
}

struct AdamStep {
  float b1, b2, eps, lr, wd;
  float step_size;    // lr / (1 - b1^t)
  float inv_sqrt_c2;  // 1 / sqrt(1 - b2^t)
  bool decoupled;     // AdamW
};

BACKPROP_CLONES void adam_update(float* theta, float* m, float* v, const float* g, std::size_t n,
                                 AdamStep a) {
  for (std::size_t i = 0; i < n; ++i) {
    float gi = g[i];
    if (a.decoupled) {
      theta[i] *= 1.0f - a.lr * a.wd;  // AdamW: theta -= lr wd theta, outside the moments
    } else {
      gi += a.wd * theta[i];  // Adam + L2: g += wd theta
    }
    m[i] = a.b1 * m[i] + (1.0f - a.b1) * gi;       // m = b1 m + (1 - b1) g
    v[i] = a.b2 * v[i] + (1.0f - a.b2) * gi * gi;  // v = b2 v + (1 - b2) g^2
    theta[i] -= a.step_size * m[i] / (std::sqrt(v[i]) * a.inv_sqrt_c2 + a.eps);
  }
}

// Chunks of whole cache lines, large enough that a hand-off is cheap next to the work.
constexpr std::size_t kChunk = 16384;

}  // namespace

void Optimizer::step(std::span<float> params, std::span<const float> grads, float lr,
                     ThreadPool& pool) {
  if (params.size() != count_ || grads.size() != count_)
    throw Error("optimizer: parameter and gradient buffers do not match its size");
  ++t_;
  const std::size_t n = count_;
  const float wd = config_.weight_decay;
  AdamStep adam{};
  if (config_.kind == OptimizerKind::adam || config_.kind == OptimizerKind::adamw) {
    const auto t = static_cast<double>(t_);
    // Bias corrections 1 - beta^t, folded into the step size as PyTorch does:
    // theta -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
    adam = {
        config_.beta1,
        config_.beta2,
        config_.epsilon,
        lr,
        wd,
        static_cast<float>(static_cast<double>(lr) /
                           (1.0 - std::pow(static_cast<double>(config_.beta1), t))),
        static_cast<float>(1.0 / std::sqrt(1.0 - std::pow(static_cast<double>(config_.beta2), t))),
        config_.kind == OptimizerKind::adamw};
  }
  const auto chunks = static_cast<std::int64_t>((n + kChunk - 1) / kChunk);
  pool.run(chunks, [&](std::int64_t c) {
    const std::size_t begin = static_cast<std::size_t>(c) * kChunk;
    const std::size_t len = std::min(kChunk, n - begin);
    float* theta = params.data() + begin;
    const float* g = grads.data() + begin;
    switch (config_.kind) {
      case OptimizerKind::sgd:
        sgd_update(theta, g, len, lr, wd);
        break;
      case OptimizerKind::momentum:
        momentum_update(theta, state_.data() + begin, g, len, lr, wd, config_.momentum,
                        config_.nesterov);
        break;
      case OptimizerKind::adam:
      case OptimizerKind::adamw:
        adam_update(theta, state_.data() + begin, state_.data() + n + begin, g, len, adam);
        break;
    }
  });
}

}  // namespace backprop
