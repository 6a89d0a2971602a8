// The thread pool: every task runs exactly once, for any task count and pool size, over many
// back-to-back runs; a thread held up on one task gets the rest of its range taken over; workers
// really run tasks concurrently, also after they went to sleep; exceptions come back to the caller;
// pools can be torn down at any moment; a thread that cannot be created is an error, not a hang.
#include "backprop/thread_pool.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "backprop/error.hpp"
#include "sanitizers.hpp"

namespace {

using backprop::ThreadPool;

// Runs `tasks` tasks on `pool` and checks that each ran exactly once.
void expect_each_once(ThreadPool& pool, std::int64_t tasks) {
  std::vector<std::atomic<int>> counts(static_cast<std::size_t>(tasks));
  pool.run(tasks, [&](std::int64_t i) {
    ASSERT_GE(i, 0);
    ASSERT_LT(i, tasks);
    counts[static_cast<std::size_t>(i)].fetch_add(1, std::memory_order_relaxed);
  });
  for (std::int64_t i = 0; i < tasks; ++i) {
    ASSERT_EQ(counts[static_cast<std::size_t>(i)].load(), 1) << "task " << i << " of " << tasks;
  }
}

TEST(ThreadPool, SizeCountsTheCallingThread) {
  EXPECT_EQ(ThreadPool(1).size(), 1);
  EXPECT_EQ(ThreadPool(2).size(), 2);
  EXPECT_EQ(ThreadPool(3).size(), 3);
  EXPECT_GE(ThreadPool::hardware_threads(), 1);
}

TEST(ThreadPool, EveryTaskRunsExactlyOnce) {
  for (const int threads : {1, 2, 3, 4}) {
    ThreadPool pool(threads);
    for (const std::int64_t tasks : {1, 2, 3, 4, 5, 7, 64, 1000, 10007}) {
      expect_each_once(pool, tasks);
      if (HasFatalFailure()) return;
    }
  }
}

// Each thread starts on its own contiguous range of the tasks, so a slow task must not hold up
// the ones behind it in its range: the other threads take them over. Task 0 (the first of one
// thread's range) waits until every other task has run; without that help, the tasks queued
// behind it would never start and it would time out.
TEST(ThreadPool, OtherThreadsTakeOverTheRangeOfABusyOne) {
  for (const int threads : {2, 3}) {
    ThreadPool pool(threads);
    for (const std::int64_t tasks : {4, 9, 64}) {
      std::atomic<std::int64_t> others_done{0};
      std::atomic<bool> timed_out{false};
      pool.run(tasks, [&](std::int64_t i) {
        if (i != 0) {
          others_done.fetch_add(1);
          return;
        }
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (others_done.load() < tasks - 1) {
          if (std::chrono::steady_clock::now() > deadline) {
            timed_out = true;
            return;
          }
          std::this_thread::yield();
        }
      });
      EXPECT_FALSE(timed_out.load()) << threads << " threads, " << tasks << " tasks";
      EXPECT_EQ(others_done.load(), tasks - 1);
    }
  }
}

TEST(ThreadPool, ZeroOrNegativeTasksRunNothing) {
  for (const int threads : {1, 2}) {
    ThreadPool pool(threads);
    std::atomic<int> calls{0};
    pool.run(0, [&](std::int64_t) { calls.fetch_add(1); });
    pool.run(-3, [&](std::int64_t) { calls.fetch_add(1); });
    EXPECT_EQ(calls.load(), 0);
  }
}

TEST(ThreadPool, OneThreadRunsEverythingOnTheCaller) {
  ThreadPool pool(1);
  const auto caller = std::this_thread::get_id();
  std::int64_t next = 0;  // no atomics needed: one thread, in order
  pool.run(100, [&](std::int64_t i) {
    EXPECT_EQ(std::this_thread::get_id(), caller);
    EXPECT_EQ(i, next);
    ++next;
  });
  EXPECT_EQ(next, 100);
}

TEST(ThreadPool, ManyRepeatedRuns) {
  for (const int threads : {2, 3}) {
    ThreadPool pool(threads);
    std::int64_t expected = 0;
    std::atomic<std::int64_t> sum{0};
    std::mutex mutex;
    std::set<std::thread::id> ids;
    for (int run = 0; run < 20000; ++run) {
      const std::int64_t tasks = 1 + run % 9;  // more and fewer tasks than threads
      // Every other run the tasks take a microsecond or so, long enough for the workers to
      // join in; the others are empty, and the caller usually finishes them alone.
      const int spin = run % 2 == 0 ? 0 : 2000;
      pool.run(tasks, [&](std::int64_t i) {
        volatile int sink = 0;
        for (int s = 0; s < spin; ++s) sink = sink + s;
        if (i == tasks - 1 && run % 64 == 1) {
          std::lock_guard lock(mutex);
          ids.insert(std::this_thread::get_id());
        }
        sum.fetch_add(i + 1, std::memory_order_relaxed);
      });
      expected += tasks * (tasks + 1) / 2;
      ASSERT_EQ(sum.load(), expected) << "run " << run << " on " << threads << " threads";
    }
    EXPECT_GE(ids.size(), 1u);
  }
}

// Each task waits until all of them have started: it only completes if `threads` threads run
// tasks at the same time. A generous timeout turns a missed wake-up into a failure, not a hang.
bool all_run_concurrently(ThreadPool& pool, int threads, std::set<std::thread::id>* ids) {
  std::atomic<int> started{0};
  std::atomic<bool> timed_out{false};
  std::mutex mutex;
  pool.run(threads, [&](std::int64_t) {
    {
      std::lock_guard lock(mutex);
      ids->insert(std::this_thread::get_id());
    }
    started.fetch_add(1);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (started.load() < threads) {
      if (std::chrono::steady_clock::now() > deadline) {
        timed_out = true;
        return;
      }
      std::this_thread::yield();
    }
  });
  return !timed_out.load();
}

TEST(ThreadPool, WorkersRunTasksConcurrently) {
  for (const int threads : {2, 3}) {
    ThreadPool pool(threads);
    std::set<std::thread::id> ids;
    EXPECT_TRUE(all_run_concurrently(pool, threads, &ids));
    EXPECT_EQ(ids.size(), static_cast<std::size_t>(threads));
  }
}

TEST(ThreadPool, SleepingWorkersWakeUp) {
  ThreadPool pool(2);
  for (int round = 0; round < 5; ++round) {
    // Longer than the workers spin, so they are asleep when run() comes.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::set<std::thread::id> ids;
    ASSERT_TRUE(all_run_concurrently(pool, 2, &ids)) << "round " << round;
    expect_each_once(pool, 50);
  }
}

TEST(ThreadPool, ExceptionsReachTheCallerAfterAllTasks) {
  ThreadPool pool(2);
  std::atomic<int> ran{0};
  EXPECT_THROW(pool.run(100,
                        [&](std::int64_t i) {
                          ran.fetch_add(1);
                          if (i == 7) throw std::runtime_error("task 7");
                        }),
               std::runtime_error);
  EXPECT_EQ(ran.load(), 100);
  expect_each_once(pool, 100);  // still usable
}

TEST(ThreadPool, NestedRunExecutesInline) {
  ThreadPool pool(2);
  std::vector<std::atomic<int>> counts(10 * 10);
  pool.run(10, [&](std::int64_t i) {
    const auto outer_thread = std::this_thread::get_id();
    pool.run(10, [&](std::int64_t j) {
      EXPECT_EQ(std::this_thread::get_id(), outer_thread);
      counts[static_cast<std::size_t>(i * 10 + j)].fetch_add(1);
    });
  });
  for (const auto& c : counts) EXPECT_EQ(c.load(), 1);
}

TEST(ThreadPool, CallersOnSeveralThreadsTakeTurns) {
  ThreadPool pool(2);
  std::atomic<std::int64_t> sum{0};
  auto hammer = [&] {
    for (int i = 0; i < 3000; ++i) {
      pool.run(4, [&](std::int64_t t) { sum.fetch_add(t + 1, std::memory_order_relaxed); });
    }
  };
  std::thread a(hammer), b(hammer);
  hammer();
  a.join();
  b.join();
  EXPECT_EQ(sum.load(), 3 * 3000 * 10);
}

TEST(ThreadPool, ConstructAndDestroyRepeatedly) {
  // Destroying a pool right after creating it must not hang, even if the workers have not yet
  // started running.
  for (int i = 0; i < 200; ++i) {
    ThreadPool pool(1 + i % 4);
    if (i % 2 == 0) expect_each_once(pool, 3);
  }
}

TEST(ThreadPool, SeparatePoolsRunSideBySide) {
  ThreadPool a(2);
  ThreadPool b(2);
  std::thread other([&] {
    for (int i = 0; i < 2000; ++i) expect_each_once(b, 1 + i % 5);
  });
  for (int i = 0; i < 2000; ++i) expect_each_once(a, 1 + i % 5);
  other.join();
}

// This process's virtual memory size in bytes (0 if /proc does not say).
std::uint64_t virtual_memory_bytes() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmSize:") {
      std::uint64_t kib = 0;
      status >> kib;
      return kib * 1024;
    }
  }
  return 0;
}

// In a child process: an address-space cap 64 MiB above what the process uses leaves room for a
// few 8 MiB thread stacks but not for 399 of them. Exits 0 when the pool reports that as an Error;
// an alarm turns a hang into a failure.
[[noreturn]] void start_399_workers_under_an_address_space_cap() {
  ::alarm(60);
  const std::uint64_t used = virtual_memory_bytes();
  const std::uint64_t cap = used + (std::uint64_t{64} << 20);
  rlimit limit{};
  limit.rlim_cur = cap;
  limit.rlim_max = cap;
  if (used == 0 || ::setrlimit(RLIMIT_AS, &limit) != 0) std::_Exit(3);
  try {
    ThreadPool pool(400);
    std::fprintf(stderr, "all 399 workers started under the cap\n");
    std::_Exit(2);
  } catch (const backprop::Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    std::_Exit(0);
  }
}

TEST(ThreadPoolDeathTest, AThreadThatCannotBeCreatedIsAnErrorNotAHangOrACrash) {
  if (backprop::testing_support::kAddressSanitizer)
    GTEST_SKIP() << "ASan maps terabytes of shadow memory, so no address-space cap can apply";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(start_399_workers_under_an_address_space_cap(), ::testing::ExitedWithCode(0),
              "cannot start worker thread [0-9]+ of 399 \\(.*\\): the process has reached a "
              "limit on threads or memory; use fewer threads");
}

}  // namespace
