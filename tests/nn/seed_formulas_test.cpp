// The seed's net(p, q, r) on a tiny example: the library's gradients equal the post's formulas,
// computed here independently with plain loops over row vectors, one sample at a time:
//   z1 = x W1 + b1, h = sigmoid(z1), z2 = h W2 + b2, yhat = softmax(z2), CE = -sum y log yhat
//   d1 = yhat - y, dW2 = h^T d1, db2 = d1, d2 = d1 W2^T, d3 = d2 * h (1 - h), dW1 = x^T d3, db1 =
//   d3
// and L = 1/N sum_j CE_j, so each sample's gradient is averaged over the N samples.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "backprop/network.hpp"

namespace backprop {
namespace {

constexpr int p = 4, q = 3, r = 2, N = 3;

TEST(SeedFormulas, ThreeLayerNetworkGradientsMatchThePost) {
  Architecture arch{{p, q, r}, {Activation::sigmoid}, Loss::cross_entropy};
  Network net(arch, N);
  net.initialize(42);
  for (int j = 0; j < q; ++j)
    net.bias(0)[static_cast<std::size_t>(j)] = 0.1f * static_cast<float>(j) - 0.1f;
  for (int k = 0; k < r; ++k)
    net.bias(1)[static_cast<std::size_t>(k)] = 0.05f * static_cast<float>(k + 1);

  const float xs[N][p] = {
      {0.5f, -1.0f, 0.25f, 2.0f}, {-0.3f, 0.8f, 1.5f, -0.7f}, {1.0f, 0.0f, -0.5f, 0.3f}};
  const std::int32_t labels[N] = {1, 0, 1};
  ThreadPool pool(1);
  Batch<float> batch{View<const float>(&xs[0][0], N, p), labels, {}};
  const double loss = net.forward_backward(batch, 0, pool);

  const auto W1 = net.weight(0);
  const auto b1 = net.bias(0);
  const auto W2 = net.weight(1);
  const auto b2 = net.bias(1);
  double dW1[p][q] = {}, db1[q] = {}, dW2[q][r] = {}, db2[r] = {}, expected_loss = 0;
  for (int n = 0; n < N; ++n) {
    const float* x = xs[n];
    double h[q], yhat[r], y[r] = {}, d1[r], d2[q], d3[q];
    y[labels[n]] = 1.0;
    for (int j = 0; j < q; ++j) {
      double z1 = double(b1[static_cast<std::size_t>(j)]);
      for (int i = 0; i < p; ++i) z1 += double(x[i]) * double(W1(i, j));
      h[j] = 1.0 / (1.0 + std::exp(-z1));
    }
    double z2[r], total = 0;
    for (int k = 0; k < r; ++k) {
      z2[k] = double(b2[static_cast<std::size_t>(k)]);
      for (int j = 0; j < q; ++j) z2[k] += h[j] * double(W2(j, k));
      total += std::exp(z2[k]);
    }
    for (int k = 0; k < r; ++k) {
      yhat[k] = std::exp(z2[k]) / total;
      expected_loss -= y[k] * std::log(yhat[k]) / N;
      d1[k] = yhat[k] - y[k];  // d1 = yhat - y
    }
    for (int j = 0; j < q; ++j) {
      d2[j] = 0;
      for (int k = 0; k < r; ++k) {
        dW2[j][k] += h[j] * d1[k] / N;      // dW2 = h^T d1
        d2[j] += d1[k] * double(W2(j, k));  // d2 = d1 W2^T
      }
      d3[j] = d2[j] * h[j] * (1 - h[j]);  // d3 = d2 * sigmoid(z1)(1 - sigmoid(z1))
      db1[j] += d3[j] / N;                // db1 = d3
      for (int i = 0; i < p; ++i) dW1[i][j] += double(x[i]) * d3[j] / N;  // dW1 = x^T d3
    }
    for (int k = 0; k < r; ++k) db2[k] += d1[k] / N;  // db2 = d1
  }

  EXPECT_NEAR(loss, expected_loss, 1e-6);
  auto gW1 = net.weight_grad(0);
  auto gb1 = net.bias_grad(0);
  auto gW2 = net.weight_grad(1);
  auto gb2 = net.bias_grad(1);
  double largest = 0;
  for (int i = 0; i < p; ++i)
    for (int j = 0; j < q; ++j) {
      EXPECT_NEAR(gW1(i, j), dW1[i][j], 1e-6) << "dW1[" << i << "][" << j << "]";
      largest = std::max(largest, std::abs(dW1[i][j]));
    }
  for (int j = 0; j < q; ++j)
    EXPECT_NEAR(gb1[static_cast<std::size_t>(j)], db1[j], 1e-6) << "db1[" << j << "]";
  for (int j = 0; j < q; ++j)
    for (int k = 0; k < r; ++k)
      EXPECT_NEAR(gW2(j, k), dW2[j][k], 1e-6) << "dW2[" << j << "][" << k << "]";
  for (int k = 0; k < r; ++k)
    EXPECT_NEAR(gb2[static_cast<std::size_t>(k)], db2[k], 1e-6) << "db2[" << k << "]";
  EXPECT_GT(largest, 1e-4) << "the example must exercise the first layer";
}

TEST(SeedFormulas, GradientHasTheShapeOfItsParameter) {
  Architecture arch{{784, 128, 10}, {Activation::sigmoid}, Loss::cross_entropy};
  Network net(arch, 2);
  EXPECT_EQ(net.weight_grad(0).rows, 784);
  EXPECT_EQ(net.weight_grad(0).cols, 128);
  EXPECT_EQ(net.bias_grad(0).size(), 128u);
  EXPECT_EQ(net.weight_grad(1).rows, 128);
  EXPECT_EQ(net.weight_grad(1).cols, 10);
  EXPECT_EQ(net.bias_grad(1).size(), 10u);
  EXPECT_EQ(arch.parameter_count(), 784 * 128 + 128 + 128 * 10 + 10);
}

}  // namespace
}  // namespace backprop
