#pragma once
// The network's operations as forward/backward pairs, llm.c style: outputs first, then inputs,
// then options, then the pool. Shapes use B = rows of the minibatch. Each backward pass writes
// the gradient of the mean loss. Parameter gradients are written, not accumulated with += after
// a zeroing pass: a minibatch is one product, and the zeroing pass cost a write of every
// gradient per step (docs/performance.md).
// Templated on the scalar so the same code runs in float (training) and double (gradcheck).
#include <algorithm>
#include <cstdint>
#include <span>

#include "backprop/architecture.hpp"
#include "backprop/matrix.hpp"
#include "backprop/thread_pool.hpp"

namespace backprop::ops {

// Runs fn(first_row, row_count) over blocks of the rows of a B x cols elementwise pass: split
// across the pool when the pass has at least parallel_elements (by default: training's wider
// layers, inference on big batches), on this thread otherwise, where a hand-off would cost more
// than it saves. Every row is computed the same way either way, so the bits do not depend on
// the thread count.
template <class F>
void for_row_blocks(ThreadPool& pool, std::int64_t rows, std::int64_t cols, F&& fn,
                    std::int64_t parallel_elements = std::int64_t{1} << 16) {
  constexpr std::int64_t kMinBlockRows = 16;
  const std::int64_t blocks =
      std::min<std::int64_t>(4 * pool.size(), rows / kMinBlockRows);  // a few per thread
  if (pool.size() == 1 || rows * cols < parallel_elements || blocks < 2) {
    fn(std::int64_t{0}, rows);
    return;
  }
  pool.run(blocks, [&](std::int64_t t) {
    const std::int64_t r0 = rows * t / blocks;
    fn(r0, rows * (t + 1) / blocks - r0);
  });
}

// Runs fn(first_column, column_count) over blocks of the columns of a B x cols pass whose
// columns are independent (a sum down each column, say): split across the pool under the same
// rule as for_row_blocks, in blocks of whole cache lines (16 floats) so that no two threads
// write the same line. Each column is computed the same way either way.
template <class F>
void for_column_blocks(ThreadPool& pool, std::int64_t rows, std::int64_t cols, F&& fn,
                       std::int64_t parallel_elements = std::int64_t{1} << 16) {
  constexpr std::int64_t kLine = 16;
  const std::int64_t lines = (cols + kLine - 1) / kLine;
  const std::int64_t blocks = std::min<std::int64_t>(4 * pool.size(), lines);
  if (pool.size() == 1 || rows * cols < parallel_elements || blocks < 2) {
    fn(std::int64_t{0}, cols);
    return;
  }
  pool.run(blocks, [&](std::int64_t t) {
    const std::int64_t c0 = std::min(cols, lines * t / blocks * kLine);
    const std::int64_t c1 = std::min(cols, lines * (t + 1) / blocks * kLine);
    fn(c0, c1 - c0);
  });
}

// Z = X W  (B x out) = (B x in)(in x out), z += b row by row, then H = f(Z) into z: the seed's
// z1 = x W1 + b1, h = sigmoid(z1). In float the bias and the activation are applied to each
// block of the product by the thread that computed it, as soon as it is finished
// (kernels::BlockEpilogue), not in passes of their own.
// f = linear leaves Z (the output layer).
template <class T>
void dense_forward(View<T> z, View<const T> x, View<const T> w, std::span<const T> b, Activation f,
                   T leaky_slope, ThreadPool& pool);

// A layer's product in two parts of its k sum (a fast path's first layer, src/nn/fast/):
//   P0 = X[:, :k0] W[:k0, :],  P1 = X[:, k0:] W[k0:, :],  Z = (P0 + P1) + b,  H = f(Z)
// with x_left = X[:, :k0] and x_right = X[:, k0:] (views into one X, or two panels).
// h (B x out) = f((P0 + P1) + b), with P0 and P1 (B x out each) as scratch: the two partial
// products are two tasks, then the sum, bias and activation run in row halves.
template <class T>
void dense_forward_halves(View<T> h, View<const T> x_left, View<const T> x_right, View<const T> w,
                          std::span<const T> b, Activation f, T leaky_slope, View<T> p0, View<T> p1,
                          ThreadPool& pool);
// Its two steps: the partial products P0, P1 (two tasks, task c being thread c's first), then
// for any block of rows (one thread) h = f((P0 + P1) + b).
template <class T>
void dense_forward_partials(View<T> p0, View<T> p1, View<const T> x_left, View<const T> x_right,
                            View<const T> w, ThreadPool& pool);
template <class T>
void dense_finish_partials(View<T> h, View<const T> p0, View<const T> p1, std::span<const T> b,
                           Activation f, T leaky_slope);

// The pieces of dense_backward_sgd, for a step that spreads a small layer over the threads by
// rows: dX = D W^T [* f'(X)] for a block of D's rows; W's rows [first, first + x_cols.cols)
// += -lr x_cols^T D, x_cols being X's columns [first, first + x_cols.cols) (returns whether
// they are finite); db = 1^T D, then b += -lr db (the same).
template <class T>
void dense_input_gradient(View<T> dx, View<const T> d, View<const T> w, View<const T> x,
                          Activation input_activation, T leaky_slope, ThreadPool& pool);
template <class T>
bool dense_weight_sgd_rows(View<T> w, View<const T> d, View<const T> x_cols, T lr,
                           std::int64_t first, ThreadPool& pool);
template <class T>
bool dense_bias_sgd(std::span<T> b, std::span<T> db, View<const T> d, T lr, ThreadPool& pool);
// The update of such a layer: W[:k0] += -lr x_left^T D on thread 0 and W[k0:] += -lr
// x_right^T D on thread 1 (k0 = x_left.cols), the rows each thread multiplied in
// dense_forward_partials. Returns whether both are finite.
template <class T>
bool dense_weight_sgd_halves(View<T> w, View<const T> d, View<const T> x_left,
                             View<const T> x_right, T lr, ThreadPool& pool);

// Given D = dL/dZ (B x out):
//   dW  = X^T D   (in x out)      the seed's dL/dW1 = x^T d3
//   db  = 1^T D   (1 x out)       the seed's dL/db1 = d3, summed over the minibatch's rows
//   dX  = D W^T   (B x in)        the seed's d2 = d1 W2^T; skipped when dx.data is null
// When X is the output of an activation f of the previous layer (X = f(Z_prev), no dropout in
// between), pass that f: dX then comes back already multiplied by f'(Z_prev), written from X
// as in activation_backward, i.e. as dL/dZ_prev (the seed's d3 = d2 * sigmoid'(z1)); in float
// this is done on each block of the product as it is finished. f = linear returns dX itself.
template <class T>
void dense_backward(View<T> dx, View<T> dw, std::span<T> db, View<const T> d, View<const T> x,
                    View<const T> w, Activation input_activation, T leaky_slope, ThreadPool& pool);

// The same backward pass with a plain SGD step (theta -= lr g) applied as the gradients are
// computed, for an optimiser that needs nothing but g:
//   dX  = D W^T                  first, while W is still this step's
//   W  += -lr X^T D              fused into the product: dW is never stored
//   db  = 1^T D, then b += -lr db
// Each update is one rounding, fma(-lr, g, theta), as the optimiser's own SGD loop does, so
// the result is bit for bit the same as dense_backward followed by that loop. db is left in
// `db`. Returns whether every updated weight and bias is finite.
// dX is returned as in dense_backward (with input_activation's derivative applied).
template <class T>
bool dense_backward_sgd(View<T> dx, View<T> w, std::span<T> b, std::span<T> db, View<const T> d,
                        View<const T> x, Activation input_activation, T leaky_slope, T lr,
                        ThreadPool& pool);

// H = f(Z) elementwise (h may alias z).
template <class T>
void activation_forward(View<T> h, View<const T> z, Activation f, T leaky_slope);

// dZ = dH * f'(Z), with f' written in terms of the output H = f(Z) (dz may alias dh):
//   sigmoid  f' = h (1 - h)      (the seed's d3 = d2 * sigmoid(z1)(1 - sigmoid(z1)))
//   tanh     f' = 1 - h^2
//   relu     f' = [h > 0]
//   leaky    f' = [h > 0] + slope [h <= 0]
template <class T>
void activation_backward(View<T> dz, View<const T> dh, View<const T> h, Activation f,
                         T leaky_slope);

// Yhat = softmax(Z) row by row, computed as exp(z - max z) / sum exp(z - max z).
// Returns the summed cross-entropy sum_i -log yhat_i[label_i] = sum_i (logsumexp(z_i) -
// z_i[label_i]), evaluated from the logits so that it is finite even when a probability underflows
// to 0. With no labels it computes the probabilities only and returns 0. Yhat and Z must not
// overlap. Each row's term is also written to row_losses when it is given (B values); the
// returned sum adds them in row order.
template <class T>
double softmax_cross_entropy_forward(View<T> yhat, View<const T> z,
                                     std::span<const std::int32_t> labels,
                                     std::span<double> row_losses = {});

// dL/dZ = (Yhat - Y) * scale, Y the one-hot labels: the seed's d1 = yhat - y; scale = 1/B
// turns the sum over the minibatch into the mean loss L = 1/N sum_j CE(y_j, yhat_j).
template <class T>
void softmax_cross_entropy_backward(View<T> dz, View<const T> yhat,
                                    std::span<const std::int32_t> labels, T scale);

// Regression: Yhat = Z (linear output). Returns sum over rows and outputs of (yhat - y)^2.
template <class T>
double squared_error_forward(View<const T> yhat, View<const T> y);

// dL/dYhat = 2 (Yhat - Y) * scale; scale = 1/(B r) gives PyTorch's MSELoss (mean over elements).
template <class T>
void squared_error_backward(View<T> dyhat, View<const T> yhat, View<const T> y, T scale);

// Inverted dropout: A = H * m / (1 - p), m_ij ~ Bernoulli(1 - p) drawn from hash(key, i, j), so
// the mask is recomputed in the backward pass instead of stored, and is the same on any thread.
template <class T>
void dropout_forward(View<T> a, View<const T> h, float p, std::uint64_t key);

// dH = dA * m / (1 - p) with the same mask (dh may alias da).
template <class T>
void dropout_backward(View<T> dh, View<const T> da, float p, std::uint64_t key);

// True when every element is finite. One pass, no branches in the loop.
template <class T>
bool all_finite(std::span<const T> values);

}  // namespace backprop::ops
