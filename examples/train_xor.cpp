// XOR with the library API: the seed's net(p, q, r) = net(2, 4, 2) with sigmoid hidden units and
// softmax + cross-entropy, trained by full-batch gradient descent with momentum on the four
// samples.
//
//   Architecture           what the network is (widths, activations, loss)
//   Network                its weights, gradients and activation buffers, allocated once
//   forward_backward       one forward and backward pass: the mean loss, dL/dtheta in gradients()
//   Optimizer::step        v <- mu v + dL/dtheta; theta <- theta - lr v, over the flat buffer
//   forward                inference: the class probabilities Yhat
//
// Build: cmake -S . -B build -G Ninja && ninja -C build train_xor && ./build/examples/train_xor
#include <backprop/architecture.hpp>
#include <backprop/error.hpp>
#include <backprop/network.hpp>
#include <backprop/optimizer.hpp>
#include <backprop/thread_pool.hpp>

#include <cstdint>
#include <cstdio>
#include <vector>

int main() {
  using namespace backprop;
  try {
    Architecture arch;
    arch.widths = {2, 4, 2};                   // p = 2 inputs, q = 4 hidden units, r = 2 classes
    arch.activations = {Activation::sigmoid};  // one per hidden layer
    arch.loss = Loss::cross_entropy;           // softmax output, mean cross-entropy

    // The minibatch X (4 x 2): one sample per row, as in the seed's row-vector convention.
    const std::vector<float> x = {0, 0,  //
                                  0, 1,  //
                                  1, 0,  //
                                  1, 1};
    const std::vector<std::int32_t> labels = {0, 1, 1, 0};  // XOR as class indices
    const std::int64_t rows = 4;

    Network net(arch, rows);  // buffers for minibatches of up to 4 rows
    net.initialize(1);        // Glorot-uniform weights from seed 1, zero biases
    ThreadPool pool(1);

    OptimizerConfig config;
    config.kind = OptimizerKind::momentum;
    config.momentum = 0.9f;
    Optimizer optimizer(config, net.parameters().size());

    Batch<float> batch;
    batch.x = View<const float>(x.data(), rows, 2);
    batch.labels = labels;

    const float lr = 0.5f;
    for (int step = 1; step <= 2000; ++step) {
      const double loss = net.forward_backward(batch, /*dropout_key=*/0, pool);
      optimizer.step(net.parameters(), net.gradients(), lr, pool);
      if (step == 1 || step % 400 == 0) std::printf("step %4d  loss %.6f\n", step, loss);
    }

    const View<const float> yhat = net.forward(batch.x, pool);
    int correct = 0;
    std::printf("\n x1 x2  xor  p(0)    p(1)    predicted\n");
    for (std::int64_t i = 0; i < rows; ++i) {
      const int predicted = yhat(i, 1) > yhat(i, 0) ? 1 : 0;
      correct += predicted == labels[static_cast<std::size_t>(i)] ? 1 : 0;
      std::printf("  %.0f  %.0f   %d   %.4f  %.4f  %d\n",
                  static_cast<double>(x[static_cast<std::size_t>(2 * i)]),
                  static_cast<double>(x[static_cast<std::size_t>(2 * i + 1)]),
                  labels[static_cast<std::size_t>(i)], static_cast<double>(yhat(i, 0)),
                  static_cast<double>(yhat(i, 1)), predicted);
    }
    std::printf("%d of 4 correct\n", correct);
    return correct == 4 ? 0 : 1;
  } catch (const Error& e) {
    std::fprintf(stderr, "train_xor: %s\n", e.what());
    return 1;
  }
}
