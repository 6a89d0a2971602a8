#pragma once
// Measuring a network on a data set: loss and accuracy with per-class precision, recall and a
// confusion matrix for classification; MSE, MAE and R^2 for regression.
#include <cstdint>
#include <span>
#include <vector>

#include "backprop/dataset.hpp"
#include "backprop/network.hpp"
#include "backprop/preprocessing.hpp"

namespace backprop {

struct Evaluation {
  Task task = Task::classification;
  std::int64_t samples = 0;
  // The training objective: mean cross-entropy, or the mean squared error of the
  // standardised targets (Preprocessing::target_scale); mse, mae and r2 are in the data's units.
  double loss = 0.0;
  // classification
  double accuracy = 0.0;
  std::int64_t classes = 0;
  std::vector<std::int64_t> confusion;  // classes x classes, row = true class, column = predicted
  std::vector<double> precision;        // per class: TP / (TP + FP), 0 when nothing was predicted
  std::vector<double> recall;           // per class: TP / (TP + FN), 0 when the class is absent
  // regression
  double mse = 0.0, mae = 0.0, r2 = 0.0;
};

// Evaluates `network` on the samples `rows` of `data` (all samples when rows is empty).
Evaluation evaluate(Network& network, const Dataset& data, const Preprocessing& prep,
                    std::span<const std::int64_t> rows, ThreadPool& pool);

// The network's outputs (N x r: probabilities, or values in the data's units) for every
// sample of `data`, in order.
std::vector<float> predict(Network& network, const Dataset& data, const Preprocessing& prep,
                           ThreadPool& pool);

// The index of the largest of n values (the first on ties).
std::int64_t argmax(const float* values, std::int64_t n);

// Checks up front that `data` fits `network`: feature count, labels within the outputs, a
// regression network for regression data. Throws Error naming the data set and the mismatch.
void check_compatible(const Network& network, const Dataset& data);

}  // namespace backprop
