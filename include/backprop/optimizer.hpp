#pragma once
// Optimisers over the network's flat parameter and gradient buffers: one loop each.
// Semantics follow PyTorch's torch.optim so that runs can be compared side by side.
#include <cstdint>
#include <span>
#include <string>

#include "backprop/matrix.hpp"
#include "backprop/thread_pool.hpp"

namespace backprop {

enum class OptimizerKind { sgd, momentum, adam, adamw };

std::string to_string(OptimizerKind k);
OptimizerKind parse_optimizer(const std::string& name);  // throws Error listing the choices

struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::sgd;
  float momentum = 0.9f;      // mu, for momentum
  bool nesterov = false;      // Nesterov's look-ahead form of momentum
  float beta1 = 0.9f;         // Adam's first-moment decay
  float beta2 = 0.999f;       // Adam's second-moment decay
  float epsilon = 1e-8f;      // Adam's denominator guard
  float weight_decay = 0.0f;  // L2 (added to the gradient); decoupled for AdamW

  void validate() const;  // throws Error naming the bad value
};

class Optimizer {
 public:
  // State for `parameter_count` parameters is allocated here, once.
  Optimizer(OptimizerConfig config, std::size_t parameter_count);

  // theta <- update(theta, g) with learning rate lr; increments the step count t. The update is
  // elementwise, so splitting it across the pool's threads cannot change a bit. Returns false
  // when a gradient or an updated parameter is not finite (checked in the same pass; the
  // update is still applied everywhere, so the caller decides what to restore).
  bool step(std::span<float> params, std::span<const float> grads, float lr, ThreadPool& pool);

  // Plain SGD without weight decay needs nothing but g, so a caller may apply it itself during
  // the backward pass (BasicNetwork::forward_backward_sgd, the same bits as step()) and then
  // only count the step here.
  bool is_plain_sgd() const {
    return config_.kind == OptimizerKind::sgd && config_.weight_decay == 0.0f;
  }
  void count_step() { ++t_; }

  const OptimizerConfig& config() const { return config_; }
  std::uint64_t steps() const { return t_; }
  // All optimiser state in one buffer (velocity, or Adam's m then v): saved in checkpoints.
  std::span<float> state() { return state_.span(); }
  std::span<const float> state() const { return state_.span(); }
  void restore(std::uint64_t steps,
               std::span<const float> state);  // throws Error on a size mismatch

 private:
  OptimizerConfig config_;
  std::size_t count_;
  AlignedBuffer<float> state_;
  std::uint64_t t_ = 0;
};

}  // namespace backprop
