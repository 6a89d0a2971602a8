// ops::for_row_blocks and ops::for_column_blocks: every row (column) is handed out exactly once,
// column blocks start on cache-line boundaries, and passes below the size threshold stay on the
// calling thread, for pools of 1 to 3 threads.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "ops/ops.hpp"

namespace backprop {
namespace {

struct Coverage {
  std::vector<std::atomic<int>> visits;
  std::atomic<int> calls{0};
  std::atomic<int> off_caller{0};  // calls that ran on a thread other than the caller's
  explicit Coverage(std::int64_t n) : visits(static_cast<std::size_t>(n)) {}
};

TEST(OpsBlocks, RowsAreEachVisitedOnce) {
  for (const int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    for (const std::int64_t rows : {1, 15, 16, 17, 64, 129, 10000}) {
      for (const std::int64_t cols : {1, 10, 512}) {
        Coverage c(rows);
        const auto caller = std::this_thread::get_id();
        ops::for_row_blocks(pool, rows, cols, [&](std::int64_t first, std::int64_t count) {
          ++c.calls;
          if (std::this_thread::get_id() != caller) ++c.off_caller;
          for (std::int64_t i = first; i < first + count; ++i)
            c.visits[static_cast<std::size_t>(i)]++;
        });
        for (std::int64_t i = 0; i < rows; ++i)
          ASSERT_EQ(c.visits[static_cast<std::size_t>(i)].load(), 1)
              << "row " << i << " of " << rows << "x" << cols << ", " << threads << " threads";
        if (rows * cols < (1 << 16) || threads == 1) {
          EXPECT_EQ(c.calls.load(), 1);
          EXPECT_EQ(c.off_caller.load(), 0);  // small passes stay on the calling thread
        }
      }
    }
  }
}

TEST(OpsBlocks, ColumnsAreEachVisitedOnceInCacheLineBlocks) {
  for (const int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    for (const std::int64_t rows : {1, 128, 1000}) {
      for (const std::int64_t cols : {1, 10, 16, 17, 100, 256, 512, 1000}) {
        Coverage c(cols);
        ops::for_column_blocks(
            pool, rows, cols,
            [&](std::int64_t first, std::int64_t count) {
              ++c.calls;
              EXPECT_EQ(first % 16, 0) << "block starting at column " << first;
              EXPECT_GE(count, 0);
              for (std::int64_t j = first; j < first + count; ++j)
                c.visits[static_cast<std::size_t>(j)]++;
            },
            1024);
        for (std::int64_t j = 0; j < cols; ++j)
          ASSERT_EQ(c.visits[static_cast<std::size_t>(j)].load(), 1)
              << "column " << j << " of " << rows << "x" << cols << ", " << threads << " threads";
        if (rows * cols < 1024 || threads == 1) {
          EXPECT_EQ(c.calls.load(), 1);
        } else if (cols > 16) {
          EXPECT_GT(c.calls.load(), 1);  // big enough and at least two cache lines wide: split
        }
      }
    }
  }
}

}  // namespace
}  // namespace backprop
