#pragma once
// What the library's trainer adds to a training step (BasicNetwork::forward_backward and
// forward_backward_sgd): work to run beside the output layer, and X laid out as a fast path
// asked for it. Neither changes a bit of the step.
#include "backprop/matrix.hpp"
#include "core/beside_work.hpp"

namespace backprop {

template <class T>
struct StepExtras {
  BesideWork beside;
  // When set, the minibatch's X comes in two column panels (FastPath::input_panel_column):
  // Batch::x holds X's columns [0, k) and x_right the columns [k, p).
  View<const T> x_right = {};
};

}  // namespace backprop
