#pragma once
// The room of the training step's shape-specific fast paths. The generic step
// (BasicNetwork::train_step, src/nn/network.cpp) asks one question, takes(), and hands the
// whole step over when the answer is yes. A fast path is chosen by the shape of the network and
// the minibatch only, never by the thread count or the CPU model, so every thread count gives
// the same bits; it must give the bits of the generic step wherever the two sum in the same
// order, and say where they do not.
//
// Today's one fast path, the input halves (input_halves.cpp): a training step on a wide first
// layer sums that layer's product in two halves of its k sum, one per core, each with its half
// of W1 and of X's columns:
//   P0 = X[:, :k0] W1[:k0, :],  P1 = X[:, k0:] W1[k0:, :],  H = f((P0 + P1) + b1)
// and W1 += -lr X^T D1 in the same row halves of W1, so neither half leaves its core. The
// generic step sums the k sum in one product; the two round differently, so the step is taken
// here whenever the shape fits, on any thread count, by forward_backward and
// forward_backward_sgd alike. A two-layer network without dropout under plain SGD also
// computes its output layer in row halves, one per core, and may take X in two column panels
// (StepExtras::x_right), each gathered by the core that reads it.
#include <cstdint>
#include <memory>
#include <vector>

#include "backprop/architecture.hpp"
#include "backprop/matrix.hpp"
#include "backprop/network.hpp"
#include "backprop/thread_pool.hpp"
#include "nn/step_extras.hpp"

namespace backprop {

template <class T>
class FastPath {
 public:
  // The fast path for networks of this architecture and minibatches of up to max_batch rows,
  // or null when none can ever fit it.
  static std::unique_ptr<FastPath> make(const Architecture& arch, std::int64_t max_batch);

  // Whether it takes a training step on `rows` samples (for any optimiser: the step's sums
  // depend on it). A step whose X comes in column panels is always its to take (or to refuse
  // with an Error).
  bool takes(std::int64_t rows, const StepExtras<T>* extras) const;

  // The step, as BasicNetwork::train_step defines it (gradients, or the fused SGD update when
  // sgd_lr is set, skipped when the loss is not finite); the targets are already checked.
  SgdStepOutcome step(BasicNetwork<T>& net, const Batch<T>& batch, std::uint64_t dropout_key,
                      const T* sgd_lr, ThreadPool& pool, const StepExtras<T>* extras);

  // Where the trainer's minibatches of `rows` rows should come in two column panels
  // (StepExtras::x_right from column k on), or 0 for one X.
  static std::int64_t input_panel_column(const Architecture& arch, std::int64_t rows,
                                         bool fused_sgd);

  FastPath(const Architecture& arch, std::int64_t max_batch);

 private:
  // The k0 of the first layer's halves for a step on `rows` rows, or 0 when it keeps one sum.
  static std::int64_t halves_column(const Architecture& arch, std::int64_t rows);
  // A whole step of a two-layer network without dropout under plain SGD, X in [x_left x_right].
  SgdStepOutcome two_layer_sgd_step(BasicNetwork<T>& net, const Batch<T>& batch,
                                    View<const T> x_left, View<const T> x_right, T lr,
                                    ThreadPool& pool, BesideWork beside);
  // Its output layer (and the sum of the first layer's partials) in row halves.
  std::int64_t output_in_row_halves(BasicNetwork<T>& net, const Batch<T>& batch, T lr,
                                    ThreadPool& pool, BesideWork beside, double& loss);

  std::int64_t hidden_;             // widths[1]
  AlignedBuffer<T> partials_[2];    // P0 and P1 (max_batch x widths[1])
  std::vector<double> row_losses_;  // each row's cross-entropy, summed in row order
};

extern template class FastPath<float>;
extern template class FastPath<double>;

}  // namespace backprop
