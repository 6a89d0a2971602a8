#pragma once
// Work that a training step runs beside a stretch too small to split across threads (its
// output layer, its loss and their backward pass), during which the other threads would wait:
// `count` independent tasks, task(i) for i in [0, count), on the pool while the calling thread
// computes that stretch. Every task has run when the step returns. The tasks must not touch
// the network; the trainer gathers the next minibatch this way (train/minibatch_pipeline.hpp).
#include <cstdint>

#include "backprop/thread_pool.hpp"

namespace backprop {

struct BesideWork {
  std::int64_t count = 0;
  const TaskRef* task = nullptr;
};

}  // namespace backprop
