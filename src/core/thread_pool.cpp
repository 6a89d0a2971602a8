#include "backprop/thread_pool.hpp"

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <string>
#include <system_error>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include "backprop/error.hpp"
#include "core/float_mode.hpp"

namespace backprop {

namespace {

// An idle worker spins (with a pause hint) this long after its last task, then keeps polling
// with sched_yield (which returns at once when the core is otherwise idle, and gives the core
// away when it is not) until kYieldTime, and only then sleeps on the condition variable.
// The minibatch loop calls run() every few microseconds, so in training the workers never
// sleep and a hand-off costs about a microsecond; a sleeping worker costs nothing once training
// ends. Waking a sleeping worker takes tens of microseconds (a futex round trip).
constexpr auto kSpinTime = std::chrono::microseconds(100);
constexpr auto kYieldTime = std::chrono::microseconds(2000);

// The pool whose task this thread is running, if any (to run nested run() calls inline).
thread_local const ThreadPool* t_inside = nullptr;

// Sets t_inside for a scope.
class InsideScope {
 public:
  explicit InsideScope(const ThreadPool* pool) : saved_(t_inside) { t_inside = pool; }
  ~InsideScope() { t_inside = saved_; }
  InsideScope(const InsideScope&) = delete;
  InsideScope& operator=(const InsideScope&) = delete;

 private:
  const ThreadPool* saved_;
};

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#endif
}

}  // namespace

// One call of run(): it lives on run()'s stack.
struct ThreadPool::Job {
  const TaskRef* task = nullptr;
  Range* ranges = nullptr;  // the pool's, one per part
  int parts = 0;
  alignas(64) std::atomic<std::int64_t> done{0};  // tasks finished (or skipped after an error)
  std::mutex error_mutex;
  std::exception_ptr error;

  // Claims and runs tasks until none are left, its own range first; returns how many this
  // thread finished. Every claim is a fetch_add on a range's counter checked against its end,
  // so each task runs exactly once whoever claims it.
  std::int64_t work(int self) {
    std::int64_t finished = 0;
    for (int k = 0; k < parts; ++k) {
      Range& r = ranges[static_cast<std::size_t>((self + k) % parts)];
      for (;;) {
        const std::int64_t i = r.next.fetch_add(1, std::memory_order_relaxed);
        if (i >= r.end) break;
        try {
          (*task)(i);
        } catch (...) {
          std::lock_guard lock(error_mutex);
          if (!error) error = std::current_exception();
        }
        ++finished;
      }
    }
    return finished;
  }
};

int ThreadPool::hardware_threads() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

ThreadPool::ThreadPool(int threads)
    : ranges_(std::make_unique<Range[]>(static_cast<std::size_t>(std::max(threads, 1)))) {
  workers_.reserve(static_cast<std::size_t>(std::max(threads - 1, 0)));
  for (int i = 1; i < threads; ++i) {
    try {
      workers_.emplace_back([this, i] { worker_loop(i); });
    } catch (const std::system_error& e) {
      // The workers already started must be stopped and joined here: the destructor does not
      // run for an object whose constructor throws, and a joinable std::thread that is
      // destroyed ends the process.
      stop_workers();
      throw Error("cannot start worker thread " + std::to_string(i) + " of " +
                  std::to_string(threads - 1) + " (" + e.what() +
                  "): the process has reached a limit on threads or memory; use fewer threads "
                  "(--threads) or raise the limit (ulimit -u, ulimit -v)");
    }
  }
}

ThreadPool::~ThreadPool() { stop_workers(); }

void ThreadPool::stop_workers() {
  {
    std::lock_guard lock(mutex_);
    stop_.store(true);
    generation_.fetch_add(1);
  }
  wake_.notify_all();
  for (auto& w : workers_) w.join();
  workers_.clear();
}

void ThreadPool::run(std::int64_t tasks, TaskRef task) {
  if (tasks <= 0) return;
  const FloatModeScope float_mode;  // the workers' mode, for the tasks this thread runs
  if (workers_.empty() || tasks == 1 || t_inside == this) {
    for (std::int64_t i = 0; i < tasks; ++i) task(i);
    return;
  }
  std::lock_guard turn(run_mutex_);
  const InsideScope inside(this);
  Job job;
  job.task = &task;
  job.ranges = ranges_.get();
  job.parts = static_cast<int>(std::min<std::int64_t>(size(), tasks));
  for (int p = 0; p < job.parts; ++p) {  // part p: [p tasks / parts, (p + 1) tasks / parts)
    Range& r = ranges_[static_cast<std::size_t>(p)];
    r.next.store(p * tasks / job.parts, std::memory_order_relaxed);
    r.end = (p + 1) * tasks / job.parts;
  }
  // Publish, then wake sleepers. Both sides use sequentially consistent operations: a worker
  // bumps sleepers_ before it re-checks generation_, run() bumps generation_ before it reads
  // sleepers_, so at least one of them sees the other.
  job_.store(&job);
  generation_.fetch_add(1);
  if (sleepers_.load() > 0) {
    { std::lock_guard lock(mutex_); }
    wake_.notify_all();
  }

  const std::int64_t mine = job.work(0);
  std::int64_t spins = 0;
  while (job.done.load(std::memory_order_acquire) + mine < tasks) {
    cpu_relax();
    if (++spins > 4096) sched_yield();  // a worker was preempted: let it run
  }
  // No worker may pick the job up from now on; wait for those that already hold it (they
  // are awake and only checking that no task is left).
  job_.store(nullptr);
  for (spins = 0; active_.load() != 0;) {
    cpu_relax();
    if (++spins > 4096) sched_yield();
  }
  if (job.error) std::rethrow_exception(job.error);
}

std::uint32_t ThreadPool::wait_for_work(std::uint32_t seen) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  for (std::uint32_t polls = 1;; ++polls) {
    const std::uint32_t g = generation_.load(std::memory_order_acquire);
    if (g != seen) return g;
    if (polls % 64 != 0) {
      cpu_relax();
      continue;
    }
    const auto idle = Clock::now() - start;
    if (idle < kSpinTime) {
      cpu_relax();
    } else if (idle < kYieldTime) {
      sched_yield();
    } else {
      std::unique_lock lock(mutex_);
      sleepers_.fetch_add(1);
      wake_.wait(lock, [&] { return generation_.load() != seen; });
      sleepers_.fetch_sub(1);
      return generation_.load(std::memory_order_acquire);
    }
  }
}

void ThreadPool::worker_loop(int index) {
  const InsideScope inside(this);
  FloatModeScope::set_for_this_thread();
  // Not generation_.load(): run() or the destructor may already have bumped it before this
  // thread got here, and that bump must not be missed.
  std::uint32_t seen = 0;
  for (;;) {
    seen = wait_for_work(seen);
    if (stop_.load()) return;
    // Announce ourselves before looking at job_, so that run() cannot return (and its job go
    // away) between our load of the pointer and our use of it.
    active_.fetch_add(1);
    if (Job* job = job_.load(); job != nullptr) {
      const std::int64_t finished = job->work(index);
      if (finished != 0) job->done.fetch_add(finished, std::memory_order_release);
    }
    active_.fetch_sub(1);
  }
}

}  // namespace backprop
