#pragma once
// The minibatches of an epoch, in order, each gathered while the step before it trains.
//
// Step s runs, beside its output layer (core/beside_work.hpp), the tasks that gather
// minibatch s + 1 into the other of two buffers, kRowsPerPart rows a task (or, when a fast
// path takes X in two column panels, one panel a task), and each task then prefetches the same
// rows of minibatch s + 2 into its core's cache (the core that is likely to gather them a step
// later). The batches are exactly those of gathering each when its step begins: the gather is
// a pure function of the data, the preprocessing and the rows.
#include <atomic>
#include <cstdint>
#include <span>

#include "backprop/dataset.hpp"
#include "backprop/network.hpp"
#include "backprop/preprocessing.hpp"
#include "backprop/thread_pool.hpp"
#include "core/beside_work.hpp"
#include "train/batch_buffers.hpp"

namespace backprop {

class MinibatchPipeline {
 public:
  static constexpr std::int64_t kRowsPerPart = 8;

  // panel_column > 0: the minibatches come in BatchBuffers' two column panels, column there
  // (FastPath::input_panel_column), gathered ahead one panel a task, task c being thread c's:
  // the core that reads that panel.
  MinibatchPipeline(std::int64_t max_batch, std::int64_t features, std::int64_t outputs,
                    std::int64_t panel_column = 0);

  // An epoch: minibatch s is rows order[s * batch, min((s + 1) * batch, order.size())) of
  // `data`. Forgets any minibatch gathered ahead. data, prep and order must outlive the epoch.
  void start(const Dataset& data, const Preprocessing& prep, std::span<const std::int64_t> order,
             std::int64_t batch);
  std::int64_t steps() const;

  // Minibatch s: the one gathered beside step s - 1, or else gathered now on the pool (and the
  // rows of minibatch s + 1 prefetched). Valid until take(s + 1)'s step has run its beside work.
  // With panels, Batch::x is the first and x_right the second.
  struct Minibatch {
    Batch<float> batch;
    View<const float> x_right;
  };
  Minibatch take(std::int64_t step, ThreadPool& pool);

  // The work for step s to run beside its output layer: gathering minibatch s + 1 (none for
  // the last step). `task` must be a TaskRef that calls gather_ahead(s, i).
  BesideWork ahead(std::int64_t step, const TaskRef& task);
  // Part `part` of that work. An error (a row out of range, say) is not thrown here but left
  // for take(s + 1), which then gathers the minibatch itself and reports it there.
  void gather_ahead(std::int64_t step, std::int64_t part);

 private:
  std::span<const std::int64_t> rows_of(std::int64_t step) const;
  // gather_ahead for a column layout: part 0 is columns [0, panel_column), part 1 the rest.
  void gather_columns_ahead(std::int64_t step, std::int64_t part);

  BatchBuffers buffers_[2];  // minibatch s lives in buffers_[s % 2]
  const Dataset* data_ = nullptr;
  const Preprocessing* prep_ = nullptr;
  std::span<const std::int64_t> order_;
  std::int64_t batch_ = 1;
  std::int64_t ahead_step_ = -1;  // the minibatch gathered (or being gathered) ahead, or -1
  std::atomic<bool> ahead_failed_{false};  // set by a part that threw; read after the step
};

}  // namespace backprop
