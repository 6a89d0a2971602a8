#include "backprop/optimizer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstdint>

#include "backprop/error.hpp"
#include "core/cpu_clones.hpp"
#include "core/enum_names.hpp"
#include "core/float_mode.hpp"

namespace backprop {

namespace {

constexpr EnumNames<OptimizerKind, 4> kOptimizerNames{{
    {OptimizerKind::sgd, "sgd"},
    {OptimizerKind::momentum, "momentum"},
    {OptimizerKind::adam, "adam"},
    {OptimizerKind::adamw, "adamw"},
}};

}  // namespace

std::string to_string(OptimizerKind k) { return enum_to_string(kOptimizerNames, k); }

OptimizerKind parse_optimizer(const std::string& name) {
  return parse_enum(kOptimizerNames, name, "optimizer");
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

namespace cloned {  // external linkage, as BACKPROP_CLONES needs

// The per-element updates, over one contiguous chunk. Each is compiled for AVX-512, AVX2 and the
// baseline (the loader picks one), since a step touches every parameter and its state. The
// buffers never overlap (restrict lets the loops vectorise without run-time alias checks).
//
// Each also reports whether the chunk's gradients and updated parameters are all finite, in
// the same pass: the exponent bits of a float are all ones exactly for +-inf and NaN, and an
// OR of integer flags vectorises where a floating-point test would not. This saves the two
// extra passes over every gradient and parameter that a separate check would cost per step.
inline std::uint32_t non_finite(float x) {
  return (std::bit_cast<std::uint32_t>(x) & 0x7f800000u) == 0x7f800000u ? 1u : 0u;
}

BACKPROP_CLONES bool sgd_update(float* __restrict theta, const float* __restrict g, std::size_t n,
                                float lr, float wd) {
  std::uint32_t bad = 0;
  for (std::size_t i = 0; i < n; ++i) {
    // theta -= lr (g + wd theta), one rounding: the same bits as the update fused into the
    // backward pass (ops::dense_backward_sgd) when wd is 0.
    const float t = std::fma(-lr, g[i] + wd * theta[i], theta[i]);
    bad |= non_finite(g[i]) | non_finite(t);
    theta[i] = t;
  }
  return bad == 0;
}

BACKPROP_CLONES bool momentum_update(float* __restrict theta, float* __restrict v,
                                     const float* __restrict g, std::size_t n, float lr, float wd,
                                     float mu, bool nesterov) {
  std::uint32_t bad = 0;
  if (nesterov) {
    for (std::size_t i = 0; i < n; ++i) {
      const float gi = g[i] + wd * theta[i];
      v[i] = mu * v[i] + gi;                             // v = mu v + g
      const float t = theta[i] - lr * (gi + mu * v[i]);  // theta -= lr (g + mu v)
      bad |= non_finite(g[i]) | non_finite(t);
      theta[i] = t;
    }
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      v[i] = mu * v[i] + (g[i] + wd * theta[i]);  // v = mu v + g
      const float t = theta[i] - lr * v[i];       // theta -= lr v
      bad |= non_finite(g[i]) | non_finite(t);
      theta[i] = t;
    }
  }
  return bad == 0;
}

struct AdamStep {
  float b1, b2, eps, lr, wd;
  float step_size;    // lr / (1 - b1^t)
  float inv_sqrt_c2;  // 1 / sqrt(1 - b2^t)
};

// kDecoupled = AdamW. A template parameter, so that each loop has no branch; it is inlined into
// the two cloned entry points below (target_clones does not apply to templates).
template <bool kDecoupled>
[[gnu::always_inline]] inline bool adam_body(float* __restrict theta, float* __restrict m,
                                             float* __restrict v, const float* __restrict g,
                                             std::size_t n, AdamStep a) {
  std::uint32_t bad = 0;
  for (std::size_t i = 0; i < n; ++i) {
    float gi = g[i];
    float t = theta[i];
    if constexpr (kDecoupled) {
      t *= 1.0f - a.lr * a.wd;  // AdamW: theta -= lr wd theta, outside the moments
    } else {
      gi += a.wd * t;  // Adam + L2: g += wd theta
    }
    m[i] = a.b1 * m[i] + (1.0f - a.b1) * gi;       // m = b1 m + (1 - b1) g
    v[i] = a.b2 * v[i] + (1.0f - a.b2) * gi * gi;  // v = b2 v + (1 - b2) g^2
    t -= a.step_size * m[i] / (std::sqrt(v[i]) * a.inv_sqrt_c2 + a.eps);
    bad |= non_finite(g[i]) | non_finite(t);
    theta[i] = t;
  }
  return bad == 0;
}

BACKPROP_CLONES bool adam_update(float* __restrict theta, float* __restrict m, float* __restrict v,
                                 const float* __restrict g, std::size_t n, AdamStep a) {
  return adam_body<false>(theta, m, v, g, n, a);
}

BACKPROP_CLONES bool adamw_update(float* __restrict theta, float* __restrict m, float* __restrict v,
                                  const float* __restrict g, std::size_t n, AdamStep a) {
  return adam_body<true>(theta, m, v, g, n, a);
}

}  // namespace cloned

namespace {

// Chunks of whole cache lines, large enough that a hand-off is cheap next to the work.
constexpr std::size_t kChunk = 16384;

}  // namespace

bool Optimizer::step(std::span<float> params, std::span<const float> grads, float lr,
                     ThreadPool& pool) {
  if (params.size() != count_ || grads.size() != count_)
    throw Error("optimizer: parameter and gradient buffers do not match its size");
  const FloatModeScope float_mode;  // a decaying moment turning subnormal costs ~100 cycles
  ++t_;
  const std::size_t n = count_;
  const float wd = config_.weight_decay;
  cloned::AdamStep adam{};
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
        static_cast<float>(1.0 / std::sqrt(1.0 - std::pow(static_cast<double>(config_.beta2), t)))};
  }
  const auto chunks = static_cast<std::int64_t>((n + kChunk - 1) / kChunk);
  std::atomic<bool> finite{true};  // stored to only when a chunk finds a non-finite value
  pool.run(chunks, [&](std::int64_t c) {
    const std::size_t begin = static_cast<std::size_t>(c) * kChunk;
    const std::size_t len = std::min(kChunk, n - begin);
    float* theta = params.data() + begin;
    const float* g = grads.data() + begin;
    float* state = state_.data();  // [velocity] or [m | v]; empty (null) for plain SGD
    bool ok = true;
    switch (config_.kind) {
      case OptimizerKind::sgd:
        ok = cloned::sgd_update(theta, g, len, lr, wd);
        break;
      case OptimizerKind::momentum:
        ok = cloned::momentum_update(theta, state + begin, g, len, lr, wd, config_.momentum,
                                     config_.nesterov);
        break;
      case OptimizerKind::adam:
        ok = cloned::adam_update(theta, state + begin, state + n + begin, g, len, adam);
        break;
      case OptimizerKind::adamw:
        ok = cloned::adamw_update(theta, state + begin, state + n + begin, g, len, adam);
        break;
    }
    if (!ok) finite.store(false, std::memory_order_relaxed);
  });
  return finite.load(std::memory_order_relaxed);
}

}  // namespace backprop
