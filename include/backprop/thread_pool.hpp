#pragma once
// One pool of worker threads for the whole library, so that nothing oversubscribes the cores.
// Determinism: callers split work so that each task owns its outputs; which thread runs a
// task never changes a result, so every thread count gives bit-identical numbers.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace backprop {

// A non-owning reference to a callable taking a task index. Unlike std::function it never
// allocates, so a training step that hands work to the pool allocates nothing. It refers to
// the callable, which must outlive the call it is passed to (a lambda argument does).
class TaskRef {
 public:
  template <class F>
  requires(!std::is_same_v<std::remove_cvref_t<F>, TaskRef>)
      TaskRef(F&& f)  // NOLINT(google-explicit-constructor): lambdas convert at the call site
      : callable_(const_cast<void*>(static_cast<const void*>(&f))),
        call_([](void* c, std::int64_t i) { (*static_cast<std::remove_reference_t<F>*>(c))(i); }) {}
  void operator()(std::int64_t i) const { call_(callable_, i); }

 private:
  void* callable_;
  void (*call_)(void*, std::int64_t);
};

class ThreadPool {
 public:
  // threads >= 1: the calling thread works too, so threads - 1 workers are started. When a
  // thread cannot be created (a limit on processes or memory), the ones already started are
  // stopped and Error is thrown, naming the limit.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Runs task(i) for every i in [0, tasks) and returns when all have finished. The calling
  // thread takes tasks too; idle workers spin for a while (a couple of milliseconds) before
  // they sleep, so back-to-back calls hand off in well under a microsecond. If tasks throw, the
  // first exception is rethrown here once every task has run.
  // Thread t of n (the caller is 0) first takes tasks from the t-th of n contiguous ranges of
  // [0, tasks), then helps with the others'. So consecutive calls that index their data the same
  // way (a product's row blocks, then the optimiser's chunks of the same rows) find it in the
  // same core's cache, while a thread that falls behind is still helped.
  // Calls from several threads at once take turns. A task that calls run() on the same pool
  // runs that inner loop itself, in order.
  // Every task runs with subnormal floats flushed to zero (x86 FTZ + DAZ), on the workers and
  // on the caller alike; the caller's own mode is restored when run() returns.
  void run(std::int64_t tasks, TaskRef task);

  // The number of cores this process may use (at least 1).
  static int hardware_threads();

 private:
  struct Job;
  // One thread's range of a job's tasks: the next unclaimed index and the end. On its own
  // cache line, since its owner claims from it on every task.
  struct alignas(64) Range {
    std::atomic<std::int64_t> next{0};
    std::int64_t end = 0;
  };
  void worker_loop(int index);
  // Tells every worker to stop and joins them (the destructor, or a constructor that fails).
  void stop_workers();
  // Blocks until generation_ differs from `seen` (or the pool stops); returns the new value.
  std::uint32_t wait_for_work(std::uint32_t seen);

  std::vector<std::thread> workers_;
  std::unique_ptr<Range[]> ranges_;  // one per thread, reused by every run() (no allocation)
  // The job of the current run() (null between runs) and a counter bumped for every job; the
  // workers poll the counter. Both written by run() only, so they share a cache line.
  alignas(64) std::atomic<Job*> job_{nullptr};
  std::atomic<std::uint32_t> generation_{0};
  std::atomic<bool> stop_{false};
  // Workers that have looked up job_ and not yet let go of it; run() waits for zero before its
  // job (on its stack) goes away.
  alignas(64) std::atomic<int> active_{0};
  // Workers asleep (or about to sleep) on wake_; run() only notifies when this is non-zero.
  alignas(64) std::atomic<int> sleepers_{0};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::mutex run_mutex_;  // one run() at a time
};

}  // namespace backprop
