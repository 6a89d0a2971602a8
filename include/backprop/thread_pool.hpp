#pragma once
// One pool of worker threads for the whole library, so that nothing oversubscribes the cores.
// Determinism: callers split work so that each task owns its outputs; which thread runs a
// task never changes a result, so every thread count gives bit-identical numbers.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace backprop {

class ThreadPool {
 public:
  // threads >= 1: the calling thread works too, so threads - 1 workers are started.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Runs task(i) for every i in [0, tasks) and returns when all have finished.
  // Not reentrant: a task must not call run() on the same pool.
  void run(std::int64_t tasks, const std::function<void(std::int64_t)>& task);

  // The number of cores this process may use (at least 1).
  static int hardware_threads();

 private:
  void worker_loop();
  void drain();

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  const std::function<void(std::int64_t)>* task_ = nullptr;
  std::int64_t task_count_ = 0;
  std::atomic<std::int64_t> next_{0};
  std::atomic<int> busy_{0};
  std::atomic<std::uint64_t> generation_{0};
  bool stop_ = false;
};

}  // namespace backprop
