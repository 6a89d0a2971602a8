// The input halves (nn/fast/fast_path.hpp): a training step whose first layer sums its k sum
// in two halves, one per core.
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <utility>

#include "backprop/error.hpp"
#include "nn/fast/fast_path.hpp"
#include "ops/ops.hpp"

namespace backprop {

namespace {

// The shape rule. A first layer of at least kMinInputs inputs is summed in halves at k0, a
// whole number of cache lines near in / 2. Large products (B x out above kMaxOutputs) keep the
// single k sum, which the GEMM planner spreads over the threads better.
constexpr std::int64_t kMinInputs = 512;
constexpr std::int64_t kMaxOutputs = 16384;
constexpr std::int64_t kLine = 16;  // floats in a cache line

constexpr std::int64_t half_column(std::int64_t in) {
  return in >= kMinInputs ? (in / 2 + kLine - 1) / kLine * kLine : 0;
}

std::size_t as_size(std::int64_t n) { return static_cast<std::size_t>(n); }

// X[:, :k0] and X[:, k0:] as views into one X.
template <class T>
std::pair<View<const T>, View<const T>> column_halves(View<const T> x, std::int64_t k0) {
  return {View<const T>(x.data, x.rows, k0, x.stride),
          View<const T>(x.data + k0, x.rows, x.cols - k0, x.stride)};
}

// The two-layer step without dropout under plain SGD: its output layer in row halves.
bool two_layer_sgd(const Architecture& arch, bool fused_sgd) {
  return fused_sgd && arch.num_layers() == 2 && arch.dropout == 0.0f;
}

}  // namespace

template <class T>
std::unique_ptr<FastPath<T>> FastPath<T>::make(const Architecture& arch, std::int64_t max_batch) {
  if (arch.num_layers() < 2 || half_column(arch.inputs()) == 0) return nullptr;
  return std::make_unique<FastPath<T>>(arch, max_batch);
}

template <class T>
FastPath<T>::FastPath(const Architecture& arch, std::int64_t max_batch)
    : hidden_(arch.widths[1]), row_losses_(as_size(max_batch)) {
  partials_[0] = AlignedBuffer<T>(as_size(max_batch * arch.widths[1]));
  partials_[1] = AlignedBuffer<T>(as_size(max_batch * arch.widths[1]));
}

template <class T>
std::int64_t FastPath<T>::halves_column(const Architecture& arch, std::int64_t rows) {
  if (arch.num_layers() < 2 || rows * arch.widths[1] > kMaxOutputs) return 0;
  return half_column(arch.inputs());
}

template <class T>
std::int64_t FastPath<T>::input_panel_column(const Architecture& arch, std::int64_t rows,
                                             bool fused_sgd) {
  return two_layer_sgd(arch, fused_sgd) ? halves_column(arch, rows) : 0;
}

template <class T>
bool FastPath<T>::takes(std::int64_t rows, const StepExtras<T>* extras) const {
  // The architecture is the network's own, which make() accepted; only the rows decide.
  return (extras != nullptr && extras->x_right.data != nullptr) || rows * hidden_ <= kMaxOutputs;
}

template <class T>
SgdStepOutcome FastPath<T>::step(BasicNetwork<T>& net, const Batch<T>& batch,
                                 std::uint64_t dropout_key, const T* sgd_lr, ThreadPool& pool,
                                 const StepExtras<T>* extras) {
  const Architecture& arch = net.architecture();
  const std::int64_t rows = batch.x.rows;
  const View<const T> x_panel = extras != nullptr ? extras->x_right : View<const T>();
  const bool panels = x_panel.data != nullptr;
  net.check_batch(rows, batch.x.cols + (panels ? x_panel.cols : 0));
  const std::int64_t k0 = halves_column(arch, rows);
  const bool whole_step = two_layer_sgd(arch, sgd_lr != nullptr) && k0 > 0;
  if (panels && !whole_step)
    throw Error(fmt::format(
        "a minibatch in two column panels needs a training step of a two-layer network "
        "without dropout under plain SGD whose first layer is summed in halves ({} rows: {})",
        rows, k0 > 0 ? "it is" : "it is not"));
  if (panels && (batch.x.cols != k0 || x_panel.rows != rows))
    throw Error(fmt::format(
        "column panels of {} and {} features and {} and {} rows, but the first layer's halves "
        "meet at column {} for {} rows",
        batch.x.cols, x_panel.cols, rows, x_panel.rows, k0, rows));
  // X[:, :k0] and X[:, k0:], from the two panels or from one X.
  const auto [x_left, x_right] = panels ? std::pair(batch.x, x_panel) : column_halves(batch.x, k0);
  const BesideWork beside = extras != nullptr ? extras->beside : BesideWork{};
  if (whole_step) return two_layer_sgd_step(net, batch, x_left, x_right, *sgd_lr, pool, beside);

  // Any depth, dropout or optimiser: the first layer in halves, the rest as the generic step.
  const std::int64_t hid = arch.widths[1];
  const T slope = static_cast<T>(arch.leaky_slope);
  // H_0 = f((P0 + P1) + b_0), then A_0 after dropout, and the layers above it.
  ops::dense_forward_halves<T>(View<T>(net.hidden_[0].data(), rows, hid), x_left, x_right,
                               View<const T>(net.weight(0)), net.bias(0), arch.activations[0],
                               slope, View<T>(partials_[0].data(), rows, hid),
                               View<T>(partials_[1].data(), rows, hid), pool);
  const View<const T> input =
      net.forward_hidden(net.layer_output(0, rows, true, dropout_key), 1, true, dropout_key, pool);
  SgdStepOutcome outcome;
  const std::int64_t output_non_finite =
      net.output_step(batch, input, dropout_key, sgd_lr, pool, extras, outcome);
  if (sgd_lr != nullptr && !std::isfinite(outcome.loss)) return outcome;
  const std::int64_t last = net.num_layers() - 1;
  std::int64_t below = last > 1 ? net.backward(batch, dropout_key, sgd_lr, pool, last - 1, 1) : -1;
  if (sgd_lr == nullptr) {
    net.backward(batch, dropout_key, nullptr, pool, 0, 0);
  } else {
    // W_0 += -lr X^T D_0 in the row halves its product was summed in, then b_0 += -lr 1^T D_0.
    const View<const T> d0(net.delta_[last % 2].data(), rows, hid);
    const bool w_finite =
        ops::dense_weight_sgd_halves<T>(net.weight(0), d0, x_left, x_right, *sgd_lr, pool);
    const bool b_finite = ops::dense_bias_sgd<T>(net.bias(0), net.bias_grad(0), d0, *sgd_lr, pool);
    if (!w_finite || !b_finite) below = 0;
  }
  outcome.first_non_finite_layer = below >= 0 ? below : output_non_finite;
  return outcome;
}

template <class T>
SgdStepOutcome FastPath<T>::two_layer_sgd_step(BasicNetwork<T>& net, const Batch<T>& batch,
                                               View<const T> x_left, View<const T> x_right, T lr,
                                               ThreadPool& pool, BesideWork beside) {
  const std::int64_t rows = batch.x.rows;
  const std::int64_t hid = net.architecture().widths[1];
  SgdStepOutcome outcome;
  // The first layer's partial products, then its sum and the output layer in row halves.
  ops::dense_forward_partials<T>(View<T>(partials_[0].data(), rows, hid),
                                 View<T>(partials_[1].data(), rows, hid), x_left, x_right,
                                 View<const T>(net.weight(0)), pool);
  const std::int64_t output_non_finite =
      output_in_row_halves(net, batch, lr, pool, beside, outcome.loss);
  if (!std::isfinite(outcome.loss)) return outcome;
  // W1 += -lr X^T D1 in the same row halves as the forward product (b1 was updated with W2).
  const View<const T> d1(net.delta_[1].data(), rows, hid);
  const bool finite = ops::dense_weight_sgd_halves<T>(net.weight(0), d1, x_left, x_right, lr, pool);
  outcome.first_non_finite_layer = !finite ? 0 : output_non_finite;
  return outcome;
}

template <class T>
std::int64_t FastPath<T>::output_in_row_halves(BasicNetwork<T>& net, const Batch<T>& batch, T lr,
                                               ThreadPool& pool, BesideWork beside, double& loss) {
  const Architecture& arch = net.architecture();
  const std::int64_t rows = batch.x.rows;
  const std::int64_t hid = arch.widths[1];
  const std::int64_t out = arch.outputs();
  const T slope = static_cast<T>(arch.leaky_slope);
  const Activation f = arch.activations[0];
  const View<T> h(net.hidden_[0].data(), rows, hid);  // H = f((P0 + P1) + b1)    (B x q)
  const View<T> z(net.hidden_[1].data(), rows, out);  // Z2 = H W2 + b2            (B x r)
  const View<T> yhat(net.yhat_.data(), rows, out);    // Yhat                      (B x r)
  const View<T> d(net.delta_[0].data(), rows, out);   // D2 = dL/dZ2               (B x r)
  const View<T> dh(net.delta_[1].data(), rows, hid);  // D1 = (D2 W2^T) * f'(H)    (B x q)
  const View<const T> p0(partials_[0].data(), rows, hid), p1(partials_[1].data(), rows, hid);
  const bool classify = arch.loss == Loss::cross_entropy;
  double sum = 0.0;  // the loss summed over all rows in row order, as output_loss sums it
  std::atomic<int> halves_done{0};
  std::atomic<bool> sum_ready{false};
  std::atomic<int> next_piece{0};
  std::atomic<bool> finite[2] = {true, true};  // per layer
  // After both halves (D1 and D2 complete, b1 no longer read): W2's rows in two halves, b2,
  // and b1 in two column halves, each piece claimed once, by either thread.
  const auto update_pieces = [&] {
    if (!std::isfinite(sum)) return;  // no update from NaN
    const std::int64_t w_half = hid / 2;
    const std::int64_t b_half = (hid / 2 + kLine - 1) / kLine * kLine;  // whole lines of b1, D1
    for (int piece = next_piece.fetch_add(1); piece < 5; piece = next_piece.fetch_add(1)) {
      bool ok = true;
      if (piece < 2) {  // W2[rows] += -lr H[:, rows]^T D2
        const std::int64_t first = piece == 0 ? 0 : w_half;
        const std::int64_t count = piece == 0 ? w_half : hid - w_half;
        ok = ops::dense_weight_sgd_rows<T>(net.weight(1), d,
                                           View<const T>(h.data + first, rows, count, h.stride), lr,
                                           first, pool);
      } else if (piece == 2) {  // b2 += -lr 1^T D2
        ok = ops::dense_bias_sgd<T>(net.bias(1), net.bias_grad(1), d, lr, pool);
      } else {  // b1[cols] += -lr 1^T D1[:, cols]
        const std::int64_t first = piece == 3 ? 0 : std::min(b_half, hid);
        const std::int64_t count = piece == 3 ? std::min(b_half, hid) : hid - first;
        if (count > 0)
          ok = ops::dense_bias_sgd<T>(net.bias(0).subspan(as_size(first), as_size(count)),
                                      net.bias_grad(0).subspan(as_size(first), as_size(count)),
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
                                  View<const T>(p1.row(r0), n, hid, p1.stride), net.bias(0), f,
                                  slope);
    ops::dense_forward<T>(part(z), View<const T>(part(h)), View<const T>(net.weight(1)),
                          net.bias(1), Activation::linear, slope, pool);
    // Yhat, each row's loss, and D2 = dL/dZ2 with the 1/B of the mean (the seed's d1 = yhat - y).
    if (classify) {
      const auto labels = batch.labels.subspan(as_size(r0), as_size(n));
      ops::softmax_cross_entropy_forward<T>(
          part(yhat), View<const T>(part(z)), labels,
          std::span(row_losses_).subspan(as_size(r0), as_size(n)));
      ops::softmax_cross_entropy_backward<T>(part(d), View<const T>(part(yhat)), labels,
                                             T(1) / static_cast<T>(rows));
    } else {
      std::copy(part(z).data, part(z).data + n * out, part(yhat).data);  // Yhat = Z
      const View<const T> y(batch.targets.row(r0), n, out, batch.targets.stride);
      ops::squared_error_backward<T>(part(d), View<const T>(part(yhat)), y,
                                     static_cast<T>(1.0 / static_cast<double>(rows * out)));
    }
    // D1 = D2 W2^T * f'(H), with W2 as the forward pass used it.
    ops::dense_input_gradient<T>(part(dh), View<const T>(part(d)), View<const T>(net.weight(1)),
                                 View<const T>(part(h)), f, slope, pool);
    if (halves_done.fetch_add(1, std::memory_order_acq_rel) == 1) {
      // Both halves are done: the loss over all rows in row order.
      if (classify) {
        for (std::int64_t i = 0; i < rows; ++i) sum += row_losses_[as_size(i)];
      } else {
        sum = ops::squared_error_forward<T>(View<const T>(yhat), batch.targets);
      }
      sum_ready.store(true, std::memory_order_release);
    }
    for (std::int64_t task = half; beside.task != nullptr && task < beside.count; task += 2)
      (*beside.task)(task);
    if (sum_ready.load(std::memory_order_acquire)) update_pieces();
  });
  loss = classify ? sum / static_cast<double>(rows) : sum / static_cast<double>(rows * out);
  net.batch_rows_ = rows;
  net.last_output_ = yhat;
  return !finite[0].load() ? 0 : !finite[1].load() ? 1 : -1;
}

template class FastPath<float>;
template class FastPath<double>;

}  // namespace backprop
