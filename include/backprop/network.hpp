#pragma once
// A fully-connected network of any depth: the seed's net(p, q, r) generalised to
// net(p, h1, ..., hk, r). Layer l (0-based) computes, for a minibatch X (B x p) of row vectors,
//   Z_l = A_{l-1} W_l + b_l,  W_l (in_l x out_l), b_l (1 x out_l), A_{-1} = X
//   A_l = f_l(Z_l) for hidden layers, Yhat = softmax(Z_last) (or Z_last for regression).
// Parameters and gradients each live in one flat buffer allocated once, in the order
// W_0, b_0, W_1, b_1, ... (each block aligned to 64 bytes), so the optimiser is one loop over
// them and a training step allocates nothing.
#include <cstdint>
#include <memory>
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
};

// What BasicNetwork::forward_backward_sgd did. A loss that is not finite means nothing was
// updated; otherwise first_non_finite_layer is the first layer whose weights or biases are not
// all finite after the update (-1 when every parameter is finite).
struct SgdStepOutcome {
  double loss = 0.0;
  std::int64_t first_non_finite_layer = -1;
};

// Internal, declared only: a shape-specific training step that the generic one hands over to
// when the shape fits (src/nn/fast/fast_path.hpp), and what the library's own trainer adds to
// a step (src/nn/step_extras.hpp).
template <class T>
class FastPath;
template <class T>
struct StepExtras;

template <class T>
class BasicNetwork {
 public:
  // Allocates every buffer for minibatches of up to max_batch rows.
  BasicNetwork(Architecture architecture, std::int64_t max_batch);
  BasicNetwork(BasicNetwork&&) noexcept;
  ~BasicNetwork();

  const Architecture& architecture() const { return arch_; }
  std::int64_t num_layers() const { return arch_.num_layers(); }
  std::int64_t max_batch() const { return max_batch_; }

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
  // function forward_backward differentiates, which gradient checks need; a training step
  // may sum some products in another order, so the two agree to rounding).
  double loss(const Batch<T>& batch, ThreadPool& pool,
              std::optional<std::uint64_t> dropout_key = std::nullopt);

  // One forward and backward pass: returns the mean loss and leaves dL/dtheta in gradients().
  // dropout_key selects this step's dropout masks (ignored when dropout is 0). `extras` is
  // the library trainer's (src/nn/step_extras.hpp); it changes no bit.
  double forward_backward(const Batch<T>& batch, std::uint64_t dropout_key, ThreadPool& pool,
                          const StepExtras<T>* extras = nullptr);

  // One step of plain SGD, theta -= lr dL/dtheta, fused into the backward pass: each weight
  // gradient is added into its weights as it is computed (W += -lr X^T D) rather than stored
  // for an optimiser's pass over it. The new parameters are bit for bit those of
  // forward_backward followed by Optimizer::step with plain SGD; the weight parts of
  // gradients() are not written (the bias parts are). When the loss is not finite, the
  // parameters are left as they were.
  SgdStepOutcome forward_backward_sgd(const Batch<T>& batch, std::uint64_t dropout_key, T lr,
                                      ThreadPool& pool, const StepExtras<T>* extras = nullptr);

  // After a forward pass: the outputs, and the first layer whose activations are not all
  // finite (-1 if none); used to say where a divergence started.
  View<const T> output() const { return last_output_; }
  std::int64_t first_non_finite_activation() const;
  // The first layer whose weight or bias gradient is not all finite (-1 if none).
  std::int64_t first_non_finite_gradient() const;

 private:
  // The fast path takes a whole step with the pieces below (forward_hidden from its own first
  // layer, output_step, backward) and the buffers.
  friend class FastPath<T>;

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
  // The hidden layers first, first + 1, ... of the forward pass on their input A_{first-1};
  // returns the output layer's input A_{L-2} (the input itself when there are none).
  View<const T> forward_hidden(View<const T> input, std::int64_t first, bool training,
                               std::uint64_t dropout_key, ThreadPool& pool);
  // A_l: H_l as computed into hidden_[l], after dropout when training with it.
  View<const T> layer_output(std::int64_t l, std::int64_t rows, bool training,
                             std::uint64_t dropout_key);
  // The output layer on its input: Z_last, then Yhat (the softmax only with `softmax`).
  View<const T> forward_output(View<const T> input, ThreadPool& pool, bool softmax);
  // The mean loss of the batch from Z_last (a classifier's Yhat is filled here).
  double output_loss(const Batch<T>& batch);
  // D = dL/dZ_last into delta_[0], from Yhat.
  void output_delta(const Batch<T>& batch);
  // The output layer of a training step on its input: forward, loss into outcome.loss, D and
  // its backward pass, with the extras' tasks run on the pool meanwhile. Returns the
  // output layer if its update left a parameter non-finite, else -1.
  std::int64_t output_step(const Batch<T>& batch, View<const T> input, std::uint64_t dropout_key,
                           const T* sgd_lr, ThreadPool& pool, const StepExtras<T>* extras,
                           SgdStepOutcome& outcome);
  // One training step: forward, loss, and back from D to every layer. Gradients go into grads_,
  // or with `sgd_lr` set, the fused SGD update is made (and skipped when the loss is not
  // finite). The fast path takes the step when it fits the shape.
  SgdStepOutcome train_step(const Batch<T>& batch, std::uint64_t dropout_key, const T* sgd_lr,
                            ThreadPool& pool, const StepExtras<T>* extras);
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
  std::int64_t batch_rows_ = 0;  // rows of the last forward pass
  View<const T> last_output_;
  std::unique_ptr<FastPath<T>> fast_;  // null when no fast path fits the architecture
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
