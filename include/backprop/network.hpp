#pragma once
// A fully-connected network of any depth: the seed's net(p, q, r) generalised to
// net(p, h1, ..., hk, r). Layer l (0-based) computes, for a minibatch X (B x p) of row vectors,
//   Z_l = A_{l-1} W_l + b_l,  W_l (in_l x out_l), b_l (1 x out_l), A_{-1} = X
//   A_l = f_l(Z_l) for hidden layers, Yhat = softmax(Z_last) (or Z_last for regression).
// Parameters and gradients each live in one flat buffer allocated once, in the order
// W_0, b_0, W_1, b_1, ... (each block aligned to 64 bytes), so the optimiser is one loop over
// them and a training step allocates nothing.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "backprop/architecture.hpp"
#include "backprop/matrix.hpp"
#include "backprop/thread_pool.hpp"

namespace backprop {

// One minibatch: the inputs and what they should produce.
template <class T>
struct Batch {
  View<const T> x;                       // B x p, one sample per row
  std::span<const std::int32_t> labels;  // B class indices (cross-entropy)
  View<const T> targets;                 // B x r target values (mean squared error)
  // When set (the minibatches of a split first layer, from MinibatchPipeline), X is held in
  // two column panels: x is X's columns [0, k0) and x_right its columns [k0, p), each in pages
  // of its own (the two cores that write and read them then share no cache line or page).
  View<const T> x_right = {};
};

// Work that a training step runs beside its output layer: `count` independent tasks, task(i)
// for i in [0, count), on the pool while the calling thread computes the output layer, its loss
// and its backward pass (a stretch too small to split across threads, during which the other
// threads would wait). Every task has run when the step returns. The tasks must not touch the
// network; the trainer gathers the next minibatch this way (MinibatchPipeline).
struct BesideWork {
  std::int64_t count = 0;
  const TaskRef* task = nullptr;
};

// What BasicNetwork::forward_backward_sgd did. A loss that is not finite means nothing was
// updated; otherwise first_non_finite_layer is the first layer whose weights or biases are not
// all finite after the update (-1 when every parameter is finite).
struct SgdStepOutcome {
  double loss = 0.0;
  std::int64_t first_non_finite_layer = -1;
};

template <class T>
class BasicNetwork {
 public:
  // Allocates every buffer for minibatches of up to max_batch rows.
  BasicNetwork(Architecture architecture, std::int64_t max_batch);

  const Architecture& architecture() const { return arch_; }
  std::int64_t num_layers() const { return arch_.num_layers(); }
  std::int64_t max_batch() const { return max_batch_; }
  // Where a training step on `rows` samples splits the first layer's k sum
  // (ops::dense_forward_split: two partial products, one per core), or 0 if it does not. A
  // function of the architecture and the rows only. Inference (forward, loss without a
  // dropout key) never splits; its outputs agree with a training step's to rounding.
  std::int64_t first_layer_split(std::int64_t rows) const;
  // The split of a training step with fused SGD that also takes its minibatch in two column
  // panels (Batch::x_right): a two-layer network without dropout; 0 otherwise.
  std::int64_t panel_split(std::int64_t rows) const;

  View<T> weight(std::int64_t layer) { return param_matrix(params_.data(), layer); }  // in x out
  View<const T> weight(std::int64_t layer) const { return param_matrix(mutable_params(), layer); }
  std::span<T> bias(std::int64_t layer) { return param_row(params_.data(), layer); }  // 1 x out
  std::span<const T> bias(std::int64_t layer) const { return param_row(mutable_params(), layer); }
  View<T> weight_grad(std::int64_t layer) { return param_matrix(grads_.data(), layer); }
  std::span<T> bias_grad(std::int64_t layer) { return param_row(grads_.data(), layer); }

  // The flat buffers (including zero padding between blocks, which stays zero).
  std::span<T> parameters() { return params_.span(); }
  std::span<const T> parameters() const { return params_.span(); }
  std::span<T> gradients() { return grads_.span(); }
  std::span<const T> gradients() const { return grads_.span(); }

  // Weights uniform in [-a, a]: Glorot a = sqrt(6 / (in + out)) before sigmoid, tanh and the
  // output; He a = sqrt(6 / in) before ReLU and leaky ReLU. Biases 0. A pure function of seed.
  void initialize(std::uint64_t seed);

  // Inference on X (B x p), B <= max_batch, without dropout. Returns Yhat (B x r): class
  // probabilities, or predicted values for regression. Valid until the next call.
  View<const T> forward(View<const T> x, ThreadPool& pool);

  // The mean loss of a minibatch: without dropout, or with the masks of dropout_key (the
  // exact function forward_backward differentiates, which gradient checks need).
  double loss(const Batch<T>& batch, ThreadPool& pool,
              std::optional<std::uint64_t> dropout_key = std::nullopt);

  // One forward and backward pass: returns the mean loss and leaves dL/dtheta in gradients().
  // dropout_key selects this step's dropout masks (ignored when dropout is 0).
  // `beside` runs on the pool's other threads meanwhile (see BesideWork); it changes no bit.
  double forward_backward(const Batch<T>& batch, std::uint64_t dropout_key, ThreadPool& pool,
                          BesideWork beside = {});

  // One step of plain SGD, theta -= lr dL/dtheta, fused into the backward pass: each weight
  // gradient is added into its weights as it is computed (W += -lr X^T D) rather than stored
  // for an optimiser's pass over it. The new parameters are bit for bit those of
  // forward_backward followed by Optimizer::step with plain SGD; the weight parts of
  // gradients() are not written (the bias parts are). When the loss is not finite, the
  // parameters are left as they were.
  SgdStepOutcome forward_backward_sgd(const Batch<T>& batch, std::uint64_t dropout_key, T lr,
                                      ThreadPool& pool, BesideWork beside = {});

  // After a forward pass: the outputs, and the first layer whose activations are not all
  // finite (-1 if none); used to say where a divergence started.
  View<const T> output() const { return last_output_; }
  std::int64_t first_non_finite_activation() const;
  // The first layer whose weight or bias gradient is not all finite (-1 if none).
  std::int64_t first_non_finite_gradient() const;

 private:
  struct LayerOffsets {
    std::size_t weight = 0;
    std::size_t bias = 0;
  };
  View<T> param_matrix(T* base, std::int64_t layer) const;
  std::span<T> param_row(T* base, std::int64_t layer) const;
  // Read-only accessors share the helpers above and hand out const views only.
  T* mutable_params() const { return const_cast<T*>(params_.data()); }
  // The forward pass; without `softmax` a classifier's Yhat is left for the caller to fill.
  View<const T> run_forward(View<const T> x, bool training, std::uint64_t dropout_key,
                            ThreadPool& pool, bool softmax = true);
  // The hidden layers of the forward pass; returns the output layer's input A_{L-2} (X when
  // there is no hidden layer).
  View<const T> forward_hidden(View<const T> x, bool training, std::uint64_t dropout_key,
                               ThreadPool& pool);
  // The output layer on its input: Z_last, then Yhat (the softmax only with `softmax`).
  View<const T> forward_output(View<const T> input, ThreadPool& pool, bool softmax);
  // The mean loss of the batch from Z_last (a classifier's Yhat is filled here).
  double output_loss(const Batch<T>& batch);
  // D = dL/dZ_last into delta_[0], from Yhat.
  void output_delta(const Batch<T>& batch);
  // One training step: forward, loss, and back from D to every layer, with `beside` run on the
  // pool during the output layer. Gradients go into grads_, or with `sgd_lr` set, the fused SGD
  // update is made (and skipped when the loss is not finite).
  SgdStepOutcome train_step(const Batch<T>& batch, std::uint64_t dropout_key, const T* sgd_lr,
                            ThreadPool& pool, BesideWork beside);
  // train_step with SGD for a two-layer network whose first layer is split at k0: the output
  // layer (with the first layer's sum of partials) in row halves, one per thread, each then
  // running half of `beside` and, once both halves are done, part of the updates of W2, b2
  // and b1. Returns the first of those layers left non-finite, or -1, as backward() does.
  std::int64_t split_output_step(const Batch<T>& batch, T lr, ThreadPool& pool, BesideWork beside,
                                 double& loss);
  // Back through layers top, top - 1, ..., bottom, D of layer `top` being in its delta_ buffer.
  // Returns the first of them left with a non-finite parameter (-1 if none, and always -1
  // without `sgd_lr`).
  std::int64_t backward(const Batch<T>& batch, std::uint64_t dropout_key, const T* sgd_lr,
                        ThreadPool& pool, std::int64_t top, std::int64_t bottom);
  void check_batch(std::int64_t rows, std::int64_t cols) const;

  Architecture arch_;
  std::int64_t max_batch_;
  std::vector<LayerOffsets> offsets_;
  AlignedBuffer<T> params_;
  AlignedBuffer<T> grads_;
  // Activations, each max_batch x width: hidden_[l] holds H_l = f(Z_l) (Z_l for the output layer),
  // dropped_[l] holds H_l after dropout (empty without dropout), yhat_ the outputs, delta_[0/1]
  // the gradients dL/dZ flowing back, ping-ponged between layers.
  std::vector<AlignedBuffer<T>> hidden_;
  std::vector<AlignedBuffer<T>> dropped_;
  AlignedBuffer<T> yhat_;
  AlignedBuffer<T> delta_[2];
  AlignedBuffer<T> partials_[2];  // P0 and P1 of a split first layer (max_batch x widths[1])
  std::int64_t batch_rows_ = 0;   // rows of the last forward pass
  View<const T> last_output_;
};

using Network = BasicNetwork<float>;

extern template class BasicNetwork<float>;
extern template class BasicNetwork<double>;

// Copies parameters between networks of the same architecture and any scalar type.
template <class To, class From>
void copy_parameters(BasicNetwork<To>& to, const BasicNetwork<From>& from) {
  for (std::int64_t l = 0; l < from.num_layers(); ++l) {
    const auto w = from.weight(l);
    auto tw = to.weight(l);
    for (std::int64_t i = 0; i < w.rows; ++i)
      for (std::int64_t j = 0; j < w.cols; ++j) tw(i, j) = static_cast<To>(w(i, j));
    const auto b = from.bias(l);
    auto tb = to.bias(l);
    for (std::size_t j = 0; j < b.size(); ++j) tb[j] = static_cast<To>(b[j]);
  }
}

}  // namespace backprop
