#include "backprop/network.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>

#include "backprop/error.hpp"
#include "backprop/rng.hpp"
#include "core/float_mode.hpp"
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
  if (layers > 1 && ops::input_split_column(arch_.inputs()) > 0) {
    partials_[0] = AlignedBuffer<T>(as_size(max_batch_ * arch_.widths[1]));
    partials_[1] = AlignedBuffer<T>(as_size(max_batch_ * arch_.widths[1]));
  }
}

template <class T>
std::int64_t BasicNetwork<T>::first_layer_split(std::int64_t rows) const {
  if (num_layers() < 2 || !ops::splits_first_layer(rows, arch_.inputs(), arch_.widths[1])) return 0;
  return ops::input_split_column(arch_.inputs());
}

template <class T>
std::int64_t BasicNetwork<T>::panel_split(std::int64_t rows) const {
  return num_layers() == 2 && arch_.dropout == 0.0f ? first_layer_split(rows) : 0;
}

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
View<const T> BasicNetwork<T>::forward_hidden(View<const T> x, bool training,
                                              std::uint64_t dropout_key, ThreadPool& pool) {
  const std::int64_t rows = x.rows;
  const T slope = static_cast<T>(arch_.leaky_slope);
  // A training step splits the first layer's k sum where first_layer_split says.
  const std::int64_t split = training ? first_layer_split(rows) : 0;
  View<const T> input = x;  // A_{l-1}
  for (std::int64_t l = 0; l + 1 < num_layers(); ++l) {
    const std::int64_t out = arch_.widths[as_size(l + 1)];
    View<T> h(hidden_[as_size(l)].data(), rows, out);
    // H_l = f_l(A_{l-1} W_l + b_l)
    if (l == 0 && split > 0) {
      const auto [x_left, x_right] = ops::column_halves(x, split);
      ops::dense_forward_split<T>(h, x_left, x_right, weight(l), bias(l), arch_.activations[0],
                                  slope, View<T>(partials_[0].data(), rows, out),
                                  View<T>(partials_[1].data(), rows, out), pool);
    } else {
      ops::dense_forward<T>(h, input, weight(l), bias(l), arch_.activations[as_size(l)], slope,
                            pool);
    }
    input = h;
    if (training && arch_.dropout > 0.0f) {
      View<T> a(dropped_[as_size(l)].data(), rows, out);
      ops::dropout_forward<T>(a, h, arch_.dropout,
                              hash_key(dropout_key, static_cast<std::uint64_t>(l)));
      input = a;
    }
  }
  return input;
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
  return forward_output(forward_hidden(x, training, dropout_key, pool), pool, softmax);
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
  View<T> yhat(yhat_.data(), rows, arch_.outputs());
  // The sum over rows [0, B/2) plus the sum over [B/2, B), each in row order: the order of
  // a training step that computes its output layer in those row halves (split_output_step),
  // on any thread count.
  const std::int64_t half = rows / 2;
  const auto upper = [&](auto m) { return decltype(m)(m.data, half, m.cols, m.stride); };
  const auto lower = [&](auto m) {
    return decltype(m)(m.data + half * m.stride, rows - half, m.cols, m.stride);
  };
  if (arch_.loss == Loss::cross_entropy) {
    const View<T> z(hidden_[as_size(num_layers() - 1)].data(), rows, arch_.outputs());
    // Yhat = softmax(Z) and CE from the logits (finite even where a probability underflowed).
    const double sum =
        ops::softmax_cross_entropy_forward<T>(upper(yhat), View<const T>(upper(z)),
                                              batch.labels.subspan(0, as_size(half))) +
        ops::softmax_cross_entropy_forward<T>(lower(yhat), View<const T>(lower(z)),
                                              batch.labels.subspan(as_size(half)));
    return sum / static_cast<double>(rows);
  }
  const double sum =
      ops::squared_error_forward<T>(View<const T>(upper(yhat)), upper(batch.targets)) +
      ops::squared_error_forward<T>(View<const T>(lower(yhat)), lower(batch.targets));
  return sum / static_cast<double>(rows * arch_.outputs());
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
                                           slope, *sgd_lr, l == 0 ? first_layer_split(rows) : 0,
                                           pool)) {
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
std::int64_t BasicNetwork<T>::split_output_step(const Batch<T>& batch, T lr, ThreadPool& pool,
                                                BesideWork beside, double& loss) {
  const std::int64_t rows = batch.x.rows;
  const std::int64_t hid = arch_.widths[1];
  const std::int64_t out = arch_.outputs();
  const T slope = static_cast<T>(arch_.leaky_slope);
  const Activation f = arch_.activations[0];
  const View<T> h(hidden_[0].data(), rows, hid);  // H = f((P0 + P1) + b1)    (B x q)
  const View<T> z(hidden_[1].data(), rows, out);  // Z2 = H W2 + b2            (B x r)
  const View<T> yhat(yhat_.data(), rows, out);    // Yhat                      (B x r)
  const View<T> d(delta_[0].data(), rows, out);   // D2 = dL/dZ2               (B x r)
  const View<T> dh(delta_[1].data(), rows, hid);  // D1 = (D2 W2^T) * f'(H)    (B x q)
  const View<const T> p0(partials_[0].data(), rows, hid), p1(partials_[1].data(), rows, hid);
  const bool classify = arch_.loss == Loss::cross_entropy;
  double half_loss[2] = {0.0, 0.0};
  std::atomic<int> halves_done{0};
  std::atomic<int> next_piece{0};
  std::atomic<bool> finite[2] = {true, true};  // per layer
  // After both halves (D1 and D2 complete, b1 no longer read): W2's rows in two halves, b2,
  // and b1 in two column halves, each piece claimed once, by either thread.
  const auto update_pieces = [&] {
    if (!std::isfinite(half_loss[0] + half_loss[1])) return;  // no update from NaN
    const std::int64_t w_half = hid / 2;
    const std::int64_t b_half = (hid / 2 + 15) / 16 * 16;  // whole cache lines of b1 and D1
    for (int piece = next_piece.fetch_add(1); piece < 5; piece = next_piece.fetch_add(1)) {
      bool ok = true;
      if (piece < 2) {  // W2[rows] += -lr H[:, rows]^T D2
        const std::int64_t first = piece == 0 ? 0 : w_half;
        const std::int64_t count = piece == 0 ? w_half : hid - w_half;
        ok = ops::dense_weight_sgd_rows<T>(
            weight(1), d, View<const T>(h.data + first, rows, count, h.stride), lr, first, pool);
      } else if (piece == 2) {  // b2 += -lr 1^T D2
        ok = ops::dense_bias_sgd<T>(bias(1), bias_grad(1), d, lr, pool);
      } else {  // b1[cols] += -lr 1^T D1[:, cols]
        const std::int64_t first = piece == 3 ? 0 : std::min(b_half, hid);
        const std::int64_t count = piece == 3 ? std::min(b_half, hid) : hid - first;
        if (count > 0)
          ok = ops::dense_bias_sgd<T>(bias(0).subspan(as_size(first), as_size(count)),
                                      bias_grad(0).subspan(as_size(first), as_size(count)),
                                      View<const T>(dh.data + first, rows, count, dh.stride), lr,
                                      pool);
      }
      if (!ok) finite[piece < 3 ? 1 : 0].store(false);
    }
  };
  pool.run(2, [&](std::int64_t half) {
    const std::int64_t r0 = half == 0 ? 0 : rows / 2;
    const std::int64_t n = (half == 0 ? rows / 2 : rows) - r0;
    const auto part = [&](View<T> m) { return View<T>(m.row(r0), n, m.cols, m.stride); };
    ops::dense_finish_partials<T>(part(h), View<const T>(p0.row(r0), n, hid, p0.stride),
                                  View<const T>(p1.row(r0), n, hid, p1.stride), bias(0), f, slope);
    ops::dense_forward<T>(part(z), View<const T>(part(h)), View<const T>(weight(1)), bias(1),
                          Activation::linear, slope, pool);
    // The loss of these rows and D2 = dL/dZ2 with the 1/B of the mean (the seed's d1 = yhat - y).
    if (classify) {
      const auto labels = batch.labels.subspan(as_size(r0), as_size(n));
      half_loss[half] =
          ops::softmax_cross_entropy_forward<T>(part(yhat), View<const T>(part(z)), labels);
      ops::softmax_cross_entropy_backward<T>(part(d), View<const T>(part(yhat)), labels,
                                             T(1) / static_cast<T>(rows));
    } else {
      std::copy(part(z).data, part(z).data + n * out, part(yhat).data);  // Yhat = Z
      const View<const T> y(batch.targets.row(r0), n, out, batch.targets.stride);
      half_loss[half] = ops::squared_error_forward<T>(View<const T>(part(yhat)), y);
      ops::squared_error_backward<T>(part(d), View<const T>(part(yhat)), y,
                                     static_cast<T>(1.0 / static_cast<double>(rows * out)));
    }
    // D1 = D2 W2^T * f'(H), with W2 as the forward pass used it.
    ops::dense_input_gradient<T>(part(dh), View<const T>(part(d)), View<const T>(weight(1)),
                                 View<const T>(part(h)), f, slope, pool);
    const bool both_done = halves_done.fetch_add(1, std::memory_order_acq_rel) == 1;
    for (std::int64_t task = half; beside.task != nullptr && task < beside.count; task += 2)
      (*beside.task)(task);
    if (both_done || halves_done.load(std::memory_order_acquire) == 2) update_pieces();
  });
  const double sum = half_loss[0] + half_loss[1];
  loss = classify ? sum / static_cast<double>(rows) : sum / static_cast<double>(rows * out);
  batch_rows_ = rows;
  last_output_ = yhat;
  return !finite[0].load() ? 0 : !finite[1].load() ? 1 : -1;
}

template <class T>
SgdStepOutcome BasicNetwork<T>::train_step(const Batch<T>& batch, std::uint64_t dropout_key,
                                           const T* sgd_lr, ThreadPool& pool, BesideWork beside) {
  const FloatModeScope float_mode;
  check_targets(batch, arch_);
  check_batch(batch.x.rows,
              batch.x.cols + (batch.x_right.data != nullptr ? batch.x_right.cols : 0));
  const std::int64_t last = num_layers() - 1;
  SgdStepOutcome outcome;
  const std::int64_t rows = batch.x.rows;
  if (const std::int64_t split = panel_split(rows); split > 0 && sgd_lr != nullptr) {
    // X[:, :k0] and X[:, k0:], from the two panels or from one X.
    const bool panels = batch.x_right.data != nullptr;
    if (panels && (batch.x.cols != split || batch.x_right.rows != rows))
      throw Error(
          fmt::format("column panels of {} and {} features and {} and {} rows, but the "
                      "first layer splits at {} for {} rows",
                      batch.x.cols, batch.x_right.cols, rows, batch.x_right.rows, split, rows));
    const auto [x_left, x_right] =
        panels ? std::pair(batch.x, batch.x_right) : ops::column_halves(batch.x, split);
    // The first layer's partial products, then its sum and the output layer in row halves.
    const std::int64_t hid = arch_.widths[1];
    ops::dense_forward_partials<T>(View<T>(partials_[0].data(), rows, hid),
                                   View<T>(partials_[1].data(), rows, hid), x_left, x_right,
                                   View<const T>(weight(0)), pool);
    const std::int64_t output_non_finite =
        split_output_step(batch, *sgd_lr, pool, beside, outcome.loss);
    if (!std::isfinite(outcome.loss)) return outcome;
    // W1 += -lr X^T D1 in the same row halves as the forward product (b1 was updated with W2).
    const View<const T> d1(delta_[1].data(), rows, hid);
    const bool finite =
        ops::dense_weight_sgd_halves<T>(weight(0), d1, x_left, x_right, *sgd_lr, pool);
    outcome.first_non_finite_layer = !finite ? 0 : output_non_finite;
    return outcome;
  }
  if (batch.x_right.data != nullptr)
    throw Error("a minibatch in two column panels needs a step with a split first layer");
  const View<const T> input = forward_hidden(batch.x, true, dropout_key, pool);
  // The output layer forward and back, with its loss: small products the planner keeps on one
  // thread, so the other threads take `beside` meanwhile (task 0 is the caller's: its share
  // of the tasks comes first).
  std::int64_t output_non_finite = -1;
  const auto output_layer = [&](std::int64_t task) {
    if (task > 0) {
      (*beside.task)(task - 1);
      return;
    }
    forward_output(input, pool, arch_.loss != Loss::cross_entropy);
    outcome.loss = output_loss(batch);
    if (sgd_lr != nullptr && !std::isfinite(outcome.loss)) return;  // no update from NaN
    output_delta(batch);
    output_non_finite = backward(batch, dropout_key, sgd_lr, pool, last, last);
  };
  pool.run(1 + (beside.task != nullptr ? beside.count : 0), output_layer);
  if (sgd_lr != nullptr && !std::isfinite(outcome.loss)) return outcome;
  const std::int64_t below =
      last > 0 ? backward(batch, dropout_key, sgd_lr, pool, last - 1, 0) : -1;
  outcome.first_non_finite_layer = below >= 0 ? below : output_non_finite;
  return outcome;
}

template <class T>
double BasicNetwork<T>::forward_backward(const Batch<T>& batch, std::uint64_t dropout_key,
                                         ThreadPool& pool, BesideWork beside) {
  return train_step(batch, dropout_key, nullptr, pool, beside).loss;
}

template <class T>
SgdStepOutcome BasicNetwork<T>::forward_backward_sgd(const Batch<T>& batch,
                                                     std::uint64_t dropout_key, T lr,
                                                     ThreadPool& pool, BesideWork beside) {
  return train_step(batch, dropout_key, &lr, pool, beside);
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
