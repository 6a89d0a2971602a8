#include "backprop/network.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "backprop/error.hpp"
#include "backprop/rng.hpp"
#include "core/float_mode.hpp"
#include "nn/fast/fast_path.hpp"
#include "nn/step_extras.hpp"
#include "ops/ops.hpp"

namespace backprop {

namespace {

constexpr std::size_t kBlockAlign = 16;  // floats: each parameter block starts on a cache line

std::size_t align_up(std::size_t n) { return (n + kBlockAlign - 1) / kBlockAlign * kBlockAlign; }

std::size_t as_size(std::int64_t n) { return static_cast<std::size_t>(n); }

}  // namespace

template <class T>
BasicNetwork<T>::BasicNetwork(Architecture architecture, std::int64_t max_batch)
    : arch_(std::move(architecture)), max_batch_(max_batch) {
  arch_.validate();
  if (max_batch_ < 1) throw Error(fmt::format("batch size {} must be at least 1", max_batch_));
  const std::int64_t layers = arch_.num_layers();
  std::size_t total = 0;
  std::int64_t widest = 1;
  for (std::int64_t l = 0; l < layers; ++l) {
    const std::int64_t in = arch_.widths[as_size(l)];
    const std::int64_t out = arch_.widths[as_size(l + 1)];
    LayerOffsets o;
    o.weight = total;
    total = align_up(total + as_size(in * out));
    o.bias = total;
    total = align_up(total + as_size(out));
    offsets_.push_back(o);
    hidden_.emplace_back(as_size(max_batch_ * out));
    const bool hidden_layer = l + 1 < layers;
    dropped_.emplace_back(hidden_layer && arch_.dropout > 0.0f ? as_size(max_batch_ * out) : 0);
    widest = std::max(widest, out);
  }
  params_ = AlignedBuffer<T>(total);
  grads_ = AlignedBuffer<T>(total);
  yhat_ = AlignedBuffer<T>(as_size(max_batch_ * arch_.outputs()));
  delta_[0] = AlignedBuffer<T>(as_size(max_batch_ * widest));
  delta_[1] = AlignedBuffer<T>(as_size(max_batch_ * widest));
  fast_ = FastPath<T>::make(arch_, max_batch_);
}

template <class T>
BasicNetwork<T>::BasicNetwork(BasicNetwork&&) noexcept = default;
template <class T>
BasicNetwork<T>::~BasicNetwork() = default;

template <class T>
View<T> BasicNetwork<T>::param_matrix(T* base, std::int64_t layer) const {
  const std::int64_t in = arch_.widths[as_size(layer)];
  const std::int64_t out = arch_.widths[as_size(layer + 1)];
  return {base + offsets_[as_size(layer)].weight, in, out};
}

template <class T>
std::span<T> BasicNetwork<T>::param_row(T* base, std::int64_t layer) const {
  return {base + offsets_[as_size(layer)].bias, as_size(arch_.widths[as_size(layer + 1)])};
}

template <class T>
void BasicNetwork<T>::initialize(std::uint64_t seed) {
  params_.fill_zero();
  for (std::int64_t l = 0; l < num_layers(); ++l) {
    const auto in = static_cast<double>(arch_.widths[as_size(l)]);
    const auto out = static_cast<double>(arch_.widths[as_size(l + 1)]);
    const bool hidden_layer = l + 1 < num_layers();
    const Activation f = hidden_layer ? arch_.activations[as_size(l)] : Activation::linear;
    const bool he = f == Activation::relu || f == Activation::leaky_relu;
    const double a = he ? std::sqrt(6.0 / in) : std::sqrt(6.0 / (in + out));
    auto w = weight(l);
    for (std::int64_t i = 0; i < w.rows; ++i)
      for (std::int64_t j = 0; j < w.cols; ++j) {
        const auto key = hash_key(seed, static_cast<std::uint64_t>(l),
                                  static_cast<std::uint64_t>(i * w.cols + j));
        w(i, j) = static_cast<T>(a * (2.0 * static_cast<double>(unit_float(key)) - 1.0));
      }
  }
}

template <class T>
void BasicNetwork<T>::check_batch(std::int64_t rows, std::int64_t cols) const {
  if (rows < 1 || rows > max_batch_)
    throw Error(fmt::format("minibatch of {} rows does not fit this network's buffers (1 to {})",
                            rows, max_batch_));
  if (cols != arch_.inputs())
    throw Error(
        fmt::format("input has {} features but the network expects {}", cols, arch_.inputs()));
}

template <class T>
View<const T> BasicNetwork<T>::forward_hidden(View<const T> input, std::int64_t first,
                                              bool training, std::uint64_t dropout_key,
                                              ThreadPool& pool) {
  const std::int64_t rows = input.rows;
  for (std::int64_t l = first; l + 1 < num_layers(); ++l) {
    const View<T> h(hidden_[as_size(l)].data(), rows, arch_.widths[as_size(l + 1)]);
    // H_l = f_l(A_{l-1} W_l + b_l)
    ops::dense_forward<T>(h, input, weight(l), bias(l), arch_.activations[as_size(l)],
                          static_cast<T>(arch_.leaky_slope), pool);
    input = layer_output(l, rows, training, dropout_key);
  }
  return input;
}

template <class T>
View<const T> BasicNetwork<T>::layer_output(std::int64_t l, std::int64_t rows, bool training,
                                            std::uint64_t dropout_key) {
  const std::int64_t out = arch_.widths[as_size(l + 1)];
  const View<T> h(hidden_[as_size(l)].data(), rows, out);
  if (!training || arch_.dropout == 0.0f) return h;
  // A_l = H_l * m / (1 - p)
  const View<T> a(dropped_[as_size(l)].data(), rows, out);
  ops::dropout_forward<T>(a, h, arch_.dropout,
                          hash_key(dropout_key, static_cast<std::uint64_t>(l)));
  return a;
}

template <class T>
View<const T> BasicNetwork<T>::forward_output(View<const T> input, ThreadPool& pool, bool softmax) {
  const std::int64_t rows = input.rows;
  const std::int64_t last = num_layers() - 1;
  View<T> z(hidden_[as_size(last)].data(), rows, arch_.outputs());
  // Z_last = A_{L-2} W_last + b_last (no activation: the loss takes the logits)
  ops::dense_forward<T>(z, input, weight(last), bias(last), Activation::linear,
                        static_cast<T>(arch_.leaky_slope), pool);
  View<T> yhat(yhat_.data(), rows, arch_.outputs());
  if (arch_.loss == Loss::cross_entropy) {
    if (softmax)
      ops::for_row_blocks(pool, rows, arch_.outputs(), [&](std::int64_t first, std::int64_t count) {
        const View<T> part(yhat.row(first), count, yhat.cols, yhat.stride);
        ops::softmax_cross_entropy_forward<T>(
            part, View<const T>(z.row(first), count, z.cols, z.stride), {});  // Yhat = softmax(Z)
      });
  } else {
    std::copy(z.data, z.data + z.size(), yhat.data);  // Yhat = Z
  }
  batch_rows_ = rows;
  last_output_ = yhat;
  return yhat;
}

template <class T>
View<const T> BasicNetwork<T>::run_forward(View<const T> x, bool training,
                                           std::uint64_t dropout_key, ThreadPool& pool,
                                           bool softmax) {
  check_batch(x.rows, x.cols);
  return forward_output(forward_hidden(x, 0, training, dropout_key, pool), pool, softmax);
}

template <class T>
View<const T> BasicNetwork<T>::forward(View<const T> x, ThreadPool& pool) {
  const FloatModeScope float_mode;  // subnormals flushed, as on the pool's workers
  return run_forward(x, false, 0, pool);
}

namespace {

template <class T>
void check_targets(const Batch<T>& batch, const Architecture& arch) {
  if (arch.loss == Loss::cross_entropy) {
    if (batch.labels.size() != as_size(batch.x.rows))
      throw Error(fmt::format("{} labels for {} samples", batch.labels.size(), batch.x.rows));
    for (const auto label : batch.labels)
      if (label < 0 || label >= arch.outputs())
        throw Error(
            fmt::format("label {} is outside the network's {} classes", label, arch.outputs()));
  } else if (batch.targets.rows != batch.x.rows || batch.targets.cols != arch.outputs()) {
    throw Error(fmt::format("targets are {}x{} but the batch needs {}x{}", batch.targets.rows,
                            batch.targets.cols, batch.x.rows, arch.outputs()));
  }
}

}  // namespace

template <class T>
double BasicNetwork<T>::output_loss(const Batch<T>& batch) {
  const std::int64_t rows = batch.x.rows;
  const View<T> yhat(yhat_.data(), rows, arch_.outputs());
  if (arch_.loss == Loss::cross_entropy) {
    const View<const T> z(hidden_[as_size(num_layers() - 1)].data(), rows, arch_.outputs());
    // Yhat = softmax(Z) and CE from the logits (finite even where a probability underflowed).
    return ops::softmax_cross_entropy_forward<T>(yhat, z, batch.labels) / static_cast<double>(rows);
  }
  return ops::squared_error_forward<T>(View<const T>(yhat), batch.targets) /
         static_cast<double>(rows * arch_.outputs());
}

template <class T>
void BasicNetwork<T>::output_delta(const Batch<T>& batch) {
  const std::int64_t rows = batch.x.rows;
  const View<const T> yhat(yhat_.data(), rows, arch_.outputs());
  // D = dL/dZ_last (B x r), the seed's d1 = yhat - y, with the 1/B of the mean loss.
  View<T> d(delta_[0].data(), rows, arch_.outputs());
  if (arch_.loss == Loss::cross_entropy) {
    ops::softmax_cross_entropy_backward<T>(d, yhat, batch.labels, T(1) / static_cast<T>(rows));
  } else {
    ops::squared_error_backward<T>(
        d, yhat, batch.targets, static_cast<T>(1.0 / static_cast<double>(rows * arch_.outputs())));
  }
}

template <class T>
double BasicNetwork<T>::loss(const Batch<T>& batch, ThreadPool& pool,
                             std::optional<std::uint64_t> dropout_key) {
  const FloatModeScope float_mode;
  check_targets(batch, arch_);
  // A classifier's softmax is left to the loss, which computes Yhat with it.
  run_forward(batch.x, dropout_key.has_value(), dropout_key.value_or(0), pool,
              arch_.loss != Loss::cross_entropy);
  return output_loss(batch);
}

template <class T>
std::int64_t BasicNetwork<T>::backward(const Batch<T>& batch, std::uint64_t dropout_key,
                                       const T* sgd_lr, ThreadPool& pool, std::int64_t top,
                                       std::int64_t bottom) {
  const std::int64_t rows = batch.x.rows;
  const bool dropout = arch_.dropout > 0.0f;
  const T slope = static_cast<T>(arch_.leaky_slope);
  std::int64_t first_non_finite = -1;
  // D of the output layer is in delta_[0]; the buffers alternate from there down.
  int current = static_cast<int>((num_layers() - 1 - top) % 2);
  for (std::int64_t l = top; l >= bottom; --l) {
    const std::int64_t in = arch_.widths[as_size(l)];
    const View<const T> d_l(delta_[current].data(), rows, arch_.widths[as_size(l + 1)]);
    // A_{l-1}: the input of layer l as the forward pass fed it (after dropout, if any).
    View<const T> input = batch.x;
    if (l > 0) {
      const auto& source = dropout ? dropped_[as_size(l - 1)] : hidden_[as_size(l - 1)];
      input = View<const T>(source.data(), rows, in);
    }
    View<T> dx;  // dL/dA_{l-1}, then dL/dZ_{l-1} (B x in); not needed for the first layer
    if (l > 0) dx = View<T>(delta_[1 - current].data(), rows, in);
    // Without dropout the input is H_{l-1} = f(Z_{l-1}) itself, so the product dX = D W^T
    // applies f' on the way (dZ = dH * f'(Z)); with dropout the mask comes first, below.
    const Activation fused =
        l > 0 && !dropout ? arch_.activations[as_size(l - 1)] : Activation::linear;
    if (sgd_lr == nullptr) {
      ops::dense_backward<T>(dx, weight_grad(l), bias_grad(l), d_l, input, weight(l), fused, slope,
                             pool);
    } else if (!ops::dense_backward_sgd<T>(dx, weight(l), bias(l), bias_grad(l), d_l, input, fused,
                                           slope, *sgd_lr, pool)) {
      first_non_finite = l;  // layers go backwards: the last one found is the first
    }
    if (l == 0) break;
    if (dropout) {
      ops::dropout_backward<T>(dx, dx, arch_.dropout,
                               hash_key(dropout_key, static_cast<std::uint64_t>(l - 1)));
      const View<const T> h(hidden_[as_size(l - 1)].data(), rows, in);
      ops::for_row_blocks(pool, rows, in, [&](std::int64_t first, std::int64_t count) {
        const View<T> part(dx.row(first), count, in, dx.stride);
        ops::activation_backward<T>(part, part, View<const T>(h.row(first), count, in, h.stride),
                                    arch_.activations[as_size(l - 1)], slope);  // dZ = dH * f'(Z)
      });
    }
    current = 1 - current;
  }
  return first_non_finite;
}

template <class T>
std::int64_t BasicNetwork<T>::output_step(const Batch<T>& batch, View<const T> input,
                                          std::uint64_t dropout_key, const T* sgd_lr,
                                          ThreadPool& pool, const StepExtras<T>* extras,
                                          SgdStepOutcome& outcome) {
  // Small products the planner keeps on one thread, so the other threads take the beside work
  // meanwhile (task 0 is the caller's: its share of the tasks comes first).
  const BesideWork beside = extras != nullptr ? extras->beside : BesideWork{};
  const std::int64_t last = num_layers() - 1;
  std::int64_t non_finite = -1;
  const auto output_layer = [&](std::int64_t task) {
    if (task > 0) {
      (*beside.task)(task - 1);
      return;
    }
    forward_output(input, pool, arch_.loss != Loss::cross_entropy);
    outcome.loss = output_loss(batch);
    if (sgd_lr != nullptr && !std::isfinite(outcome.loss)) return;  // no update from NaN
    output_delta(batch);
    non_finite = backward(batch, dropout_key, sgd_lr, pool, last, last);
  };
  pool.run(1 + (beside.task != nullptr ? beside.count : 0), output_layer);
  return non_finite;
}

template <class T>
SgdStepOutcome BasicNetwork<T>::train_step(const Batch<T>& batch, std::uint64_t dropout_key,
                                           const T* sgd_lr, ThreadPool& pool,
                                           const StepExtras<T>* extras) {
  const FloatModeScope float_mode;
  check_targets(batch, arch_);
  if (fast_ != nullptr && fast_->takes(batch.x.rows, extras))
    return fast_->step(*this, batch, dropout_key, sgd_lr, pool, extras);
  check_batch(batch.x.rows, batch.x.cols);
  // Forward through the hidden layers, then the output layer forward and back with its loss.
  const View<const T> input = forward_hidden(batch.x, 0, true, dropout_key, pool);
  SgdStepOutcome outcome;
  const std::int64_t output_non_finite =
      output_step(batch, input, dropout_key, sgd_lr, pool, extras, outcome);
  if (sgd_lr != nullptr && !std::isfinite(outcome.loss)) return outcome;
  // Back through the hidden layers.
  const std::int64_t last = num_layers() - 1;
  const std::int64_t below =
      last > 0 ? backward(batch, dropout_key, sgd_lr, pool, last - 1, 0) : -1;
  outcome.first_non_finite_layer = below >= 0 ? below : output_non_finite;
  return outcome;
}

template <class T>
double BasicNetwork<T>::forward_backward(const Batch<T>& batch, std::uint64_t dropout_key,
                                         ThreadPool& pool, const StepExtras<T>* extras) {
  return train_step(batch, dropout_key, nullptr, pool, extras).loss;
}

template <class T>
SgdStepOutcome BasicNetwork<T>::forward_backward_sgd(const Batch<T>& batch,
                                                     std::uint64_t dropout_key, T lr,
                                                     ThreadPool& pool,
                                                     const StepExtras<T>* extras) {
  return train_step(batch, dropout_key, &lr, pool, extras);
}

template <class T>
std::int64_t BasicNetwork<T>::first_non_finite_activation() const {
  for (std::int64_t l = 0; l < num_layers(); ++l) {
    const auto n = as_size(batch_rows_ * arch_.widths[as_size(l + 1)]);
    if (!ops::all_finite<T>({hidden_[as_size(l)].data(), n})) return l;
  }
  return -1;
}

template <class T>
std::int64_t BasicNetwork<T>::first_non_finite_gradient() const {
  for (std::int64_t l = 0; l < num_layers(); ++l) {
    const auto w = param_matrix(const_cast<T*>(grads_.data()), l);
    const auto b = param_row(const_cast<T*>(grads_.data()), l);
    if (!ops::all_finite<T>({w.data, as_size(w.size())}) ||
        !ops::all_finite<T>(std::span<const T>(b)))
      return l;
  }
  return -1;
}

template class BasicNetwork<float>;
template class BasicNetwork<double>;

}  // namespace backprop
