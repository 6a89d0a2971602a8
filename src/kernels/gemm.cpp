// gemm(): shape checks, the run-time choice of instruction set, and the split of C into tasks
// for the thread pool. The kernels themselves live in gemm_avx512.cpp, gemm_avx2.cpp and
// gemm_portable.cpp; see docs/performance.md for the design and the measurements.
#include "kernels/gemm.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "backprop/error.hpp"
#include "kernels/gemm_kernels.hpp"

namespace backprop::kernels {

namespace {

using detail::Product;
using detail::TileShape;

GemmPath detect_path() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("fma")) {
    return GemmPath::avx512;
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return GemmPath::avx2;
  return GemmPath::portable;
}

GemmPath best_path() {
  static const GemmPath path = detect_path();
  return path;
}

std::atomic<GemmPath>& active_path() {
  static std::atomic<GemmPath> path{best_path()};
  return path;
}

detail::BlockKernel block_kernel(GemmPath path) {
  switch (path) {
    case GemmPath::avx512:
      return &detail::block_avx512;
    case GemmPath::avx2:
      return &detail::block_avx2;
    case GemmPath::portable:
      break;
  }
  return &detail::block_portable;
}

TileShape tile_shape(GemmPath path) {
  switch (path) {
    case GemmPath::avx512:
      return detail::kTileAvx512;
    case GemmPath::avx2:
      return detail::kTileAvx2;
    case GemmPath::portable:
      break;
  }
  return detail::kTilePortable;
}

void check_view(const char* name, std::int64_t rows, std::int64_t cols, std::int64_t stride) {
  if (rows < 0 || cols < 0 || (rows > 1 && stride < cols)) {
    throw Error(std::string("gemm: matrix ") + name +
                " has a negative size or a stride below its width");
  }
}

void check_shapes(MatrixView c, ConstMatrixView a, Transpose ta, ConstMatrixView b, Transpose tb) {
  check_view("C", c.rows, c.cols, c.stride);
  check_view("A", a.rows, a.cols, a.stride);
  check_view("B", b.rows, b.cols, b.stride);
  const std::int64_t am = ta == Transpose::yes ? a.cols : a.rows;
  const std::int64_t ak = ta == Transpose::yes ? a.rows : a.cols;
  const std::int64_t bk = tb == Transpose::yes ? b.cols : b.rows;
  const std::int64_t bn = tb == Transpose::yes ? b.rows : b.cols;
  if (am != c.rows || bn != c.cols || ak != bk) throw Error("gemm: shapes do not agree");
}

// How C is cut into tasks: a grid of row_blocks x col_blocks blocks, each a whole number of
// register tiles. Since a block never splits the k sum, every cut gives the same bits; the cut
// only decides speed. It is a pure function of the shape, the path and the thread count (never
// of timing): products too small to repay a hand-off run on the calling thread alone.
struct Plan {
  std::int64_t block_rows = 0;
  std::int64_t block_cols = 0;
  std::int64_t row_blocks = 1;
  std::int64_t col_blocks = 1;
  std::int64_t tasks() const { return row_blocks * col_blocks; }
};

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

// A rough cost model, in core cycles, calibrated on Zen 4 (good enough to rank cuts).
constexpr double kL2BytesPerCycle = 24.0;  // a tile streams its B panel from L2 at best this fast
constexpr double kMemBytesPerCycle = 6.0;  // one core streaming from L3 / DRAM
constexpr double kCacheBytes = 1 << 20;    // operands smaller than this are assumed cache resident
constexpr double kTileOverhead = 40.0;     // call, pointer set-up, loop exit
constexpr double kPackCyclesPerFloat = 0.3;  // transposing B into a panel (16 x 16 blocks)
constexpr double kTaskOverhead = 1000.0;     // claiming a task, cold caches at its start
// Waking the workers and waiting for the last one: `pool/handoff` in gemm_bench measures
// 0.26 us with two threads on Zen 4 and 0.95-1.0 us on a Sapphire Rapids-class Xeon (both KVM
// guests), i.e. ~1000 and ~2800 cycles. At 600 cycles W1's three products with 10-wide sides
// (64x10x128, 128x10x64, 64x128x10) were split, and on the Xeon that made W1's output-layer
// backward pass take 13.5-14.5 us per step instead of 8.6-8.8 us run serially; on Zen 4 the
// split saved under 1 us per step. W2's and W3's plans are the same either way.
constexpr double kHandOff = 2500.0;
constexpr std::int64_t kMaxTasksPerThread = 4;
// The machine may be shared: a thread can lose its core in the middle of a task, and the other
// threads can only take over tasks nobody has claimed yet. Each candidate cut is charged this
// fraction of its largest task, which favours a few tasks per thread over one big one each.
constexpr double kStragglerWeight = 0.15;

struct CostModel {
  const Product& g;
  GemmPath path;
  TileShape tile = tile_shape(path);
  // Whether a block of this many rows packs its panels of B first (a transposed B always does).
  bool packs_b(std::int64_t rows) const {
    return g.b_cs != 1 || (path == GemmPath::avx512 && detail::copies_b_panels(g, rows));
  }
  bool a_in_memory() const {
    return static_cast<double>(g.m) * static_cast<double>(g.k) * 4.0 > kCacheBytes;
  }
  std::int64_t tile_cols_for(std::int64_t rows) const {
    return rows <= 2 ? tile.cols * tile.wide_factor : tile.cols;
  }
  // One microkernel call on rows x cols of C.
  double tile_cost(std::int64_t rows, std::int64_t cols) const {
    const double vectors = static_cast<double>(ceil_div(cols, tile.lanes));
    const double k = static_cast<double>(g.k);
    const double fma = static_cast<double>(rows) * vectors * k / tile.vector_fmas_per_cycle;
    const double stream = vectors * static_cast<double>(tile.lanes) * 4.0 * k / kL2BytesPerCycle;
    const double stores = static_cast<double>(rows) * vectors * (g.accumulate ? 2.0 : 1.0);
    return std::max(fma, stream) + kTileOverhead + stores;
  }
  // One block of rows x cols, as the kernels walk it.
  double block_cost(std::int64_t rows, std::int64_t cols) const {
    const std::int64_t tc = tile_cols_for(rows);
    const std::int64_t full_r = rows / tile.rows, rem_r = rows % tile.rows;
    const std::int64_t full_c = cols / tc, rem_c = cols % tc;
    double cost = 0.0;
    for (const auto& [nr, r] :
         {std::pair{full_r, tile.rows}, std::pair{std::int64_t{rem_r > 0}, rem_r}}) {
      for (const auto& [nc, c] :
           {std::pair{full_c, tc}, std::pair{std::int64_t{rem_c > 0}, rem_c}}) {
        if (nr > 0 && nc > 0) cost += static_cast<double>(nr * nc) * tile_cost(r, c);
      }
    }
    if (packs_b(rows)) {
      cost += static_cast<double>(ceil_div(cols, tc) * tc * g.k) * kPackCyclesPerFloat;
    }
    // Each block reads its rows of A once (row tiles are the outer loop); when A is too big to
    // stay in cache, that is a stream from memory.
    if (a_in_memory()) {
      const double stream = static_cast<double>(rows * g.k) * 4.0 / kMemBytesPerCycle;
      cost = std::max(cost, stream);
    }
    return cost;
  }
};

// Simulates the pool's dynamic scheduling (each thread takes the next task when it is free;
// workers start a hand-off later than the caller) and returns when the last task ends, plus
// the straggler charge.
double plan_time(const CostModel& model, const Plan& plan, int threads) {
  std::vector<double> free_at(static_cast<std::size_t>(threads), kHandOff / 2);
  free_at[0] = 0.0;
  const double cost_full = model.block_cost(plan.block_rows, plan.block_cols);
  const std::int64_t last_rows = model.g.m - (plan.row_blocks - 1) * plan.block_rows;
  const std::int64_t last_cols = model.g.n - (plan.col_blocks - 1) * plan.block_cols;
  const double cost_last_row = model.block_cost(last_rows, plan.block_cols);
  const double cost_last_col = model.block_cost(plan.block_rows, last_cols);
  const double cost_corner = model.block_cost(last_rows, last_cols);
  for (std::int64_t t = 0; t < plan.tasks(); ++t) {
    const bool lr = t / plan.col_blocks == plan.row_blocks - 1;
    const bool lc = t % plan.col_blocks == plan.col_blocks - 1;
    const double cost = (lr && lc ? cost_corner
                         : lr     ? cost_last_row
                         : lc     ? cost_last_col
                                  : cost_full) +
                        kTaskOverhead;
    auto first = std::min_element(free_at.begin(), free_at.end());
    *first += cost;
  }
  const double largest = std::max({cost_full, cost_last_row, cost_last_col, cost_corner});
  return *std::max_element(free_at.begin(), free_at.end()) + kHandOff / 2 +
         kStragglerWeight * largest;
}

Plan make_plan(const Product& g, GemmPath path, int threads) {
  Plan serial;
  serial.block_rows = g.m;
  serial.block_cols = g.n;
  if (threads <= 1) return serial;
  const CostModel model{g, path};
  const TileShape tile = model.tile;
  const double serial_cost = model.block_cost(g.m, g.n);
  if (serial_cost < 2 * kHandOff) return serial;

  const std::int64_t tile_cols = model.tile_cols_for(g.m);
  const std::int64_t tiles_m = ceil_div(g.m, tile.rows);
  const std::int64_t tiles_n = ceil_div(g.n, tile_cols);
  const std::int64_t max_tasks = kMaxTasksPerThread * threads;
  Plan best = serial;
  double best_time = serial_cost;
  // A tall A that lives in memory is cut into row blocks only, so that it streams in once
  // (column blocks would each read all of their rows of A again).
  const std::int64_t max_cb = model.a_in_memory() && tiles_m >= 2 * threads ? 1 : tiles_n;
  for (std::int64_t rb = 1; rb <= std::min(tiles_m, max_tasks); ++rb) {
    const std::int64_t bm = ceil_div(tiles_m, rb);
    for (std::int64_t cb = 1; cb <= std::min(max_cb, max_tasks / rb); ++cb) {
      const std::int64_t bn = ceil_div(tiles_n, cb);
      Plan p;
      p.block_rows = bm * tile.rows;
      p.block_cols = bn * tile_cols;
      p.row_blocks = ceil_div(g.m, p.block_rows);
      p.col_blocks = ceil_div(g.n, p.block_cols);
      if (p.tasks() == 1) continue;
      const double time = plan_time(model, p, threads);
      // Ties go to fewer tasks (less claiming, more reuse of packed panels).
      if (time < best_time * 0.999) {
        best = p;
        best_time = time;
      }
    }
  }
  return best;
}

// Planning takes about a microsecond - as long as a small product - and training repeats the
// same few shapes, so each thread remembers its last plans.
Plan cached_plan(const Product& g, GemmPath path, int threads) {
  struct Entry {
    std::int64_t m = -1, n = 0, k = 0;
    unsigned flags = 0;
    int threads = 0;
    Plan plan;
  };
  constexpr std::size_t kEntries = 16;
  thread_local std::array<Entry, kEntries> cache;
  thread_local std::size_t next_slot = 0;
  const unsigned flags =
      (g.b_cs != 1 ? 1u : 0u) | (g.accumulate ? 2u : 0u) | (static_cast<unsigned>(path) << 2);
  for (const Entry& e : cache) {
    if (e.m == g.m && e.n == g.n && e.k == g.k && e.flags == flags && e.threads == threads) {
      return e.plan;
    }
  }
  Entry& e = cache[next_slot];
  next_slot = (next_slot + 1) % kEntries;
  e = Entry{g.m, g.n, g.k, flags, threads, make_plan(g, path, threads)};
  return e.plan;
}

bool all_finite(MatrixView c) {
  for (std::int64_t i = 0; i < c.rows; ++i)
    for (std::int64_t j = 0; j < c.cols; ++j)
      if (!std::isfinite(c(i, j))) return false;
  return true;
}

// The common body of gemm() and gemm_update(): C = alpha op(A) op(B) [+ C].
bool run_product(MatrixView c, float alpha, ConstMatrixView a, Transpose ta, ConstMatrixView b,
                 Transpose tb, bool accumulate, bool check_finite, ThreadPool& pool,
                 const BlockEpilogue* epilogue) {
  check_shapes(c, a, ta, b, tb);
  const std::int64_t m = c.rows;
  const std::int64_t n = c.cols;
  const std::int64_t k = ta == Transpose::yes ? a.rows : a.cols;
  if (m == 0 || n == 0) return true;
  if (k == 0) {
    if (!accumulate) {
      for (std::int64_t i = 0; i < m; ++i) std::fill(c.row(i), c.row(i) + n, 0.0f);
    }
    const bool finite = !check_finite || all_finite(c);
    if (epilogue != nullptr) (*epilogue)(c, 0, 0);
    return finite;
  }

  Product g;
  g.c = c.data;
  g.ldc = c.stride;
  g.a = a.data;
  g.a_rs = ta == Transpose::yes ? 1 : a.stride;
  g.a_ks = ta == Transpose::yes ? a.stride : 1;
  g.b = b.data;
  g.b_ks = tb == Transpose::yes ? 1 : b.stride;
  g.b_cs = tb == Transpose::yes ? b.stride : 1;
  g.m = m;
  g.n = n;
  g.k = k;
  g.accumulate = accumulate;
  g.alpha = alpha;
  g.check_finite = check_finite;

  const GemmPath path = active_path().load(std::memory_order_relaxed);
  const detail::BlockKernel kernel = block_kernel(path);
  const Plan plan = cached_plan(g, path, pool.size());
  // The epilogue on rows [i, i + rows) x columns [j, j + cols) of C.
  const auto finish = [&](std::int64_t i, std::int64_t rows, std::int64_t j, std::int64_t cols) {
    if (epilogue != nullptr) (*epilogue)(MatrixView(c.row(i) + j, rows, cols, c.stride), i, j);
  };
  if (plan.tasks() == 1) {
    const bool finite = kernel(g, 0, m, 0, n);
    finish(0, m, 0, n);
    return finite;
  }
  std::atomic<bool> finite{true};  // stored to only by a block that found an inf or NaN
  pool.run(plan.tasks(), [&g, &plan, &finite, &finish, kernel](std::int64_t t) {
    const std::int64_t i0 = t / plan.col_blocks * plan.block_rows;
    const std::int64_t j0 = t % plan.col_blocks * plan.block_cols;
    const std::int64_t i1 = std::min(g.m, i0 + plan.block_rows);
    const std::int64_t j1 = std::min(g.n, j0 + plan.block_cols);
    if (!kernel(g, i0, i1, j0, j1)) finite.store(false, std::memory_order_relaxed);
    finish(i0, i1 - i0, j0, j1 - j0);
  });
  return finite.load(std::memory_order_relaxed);
}

}  // namespace

void gemm(MatrixView c, ConstMatrixView a, Transpose ta, ConstMatrixView b, Transpose tb,
          bool accumulate, ThreadPool& pool, const BlockEpilogue* epilogue) {
  run_product(c, 1.0f, a, ta, b, tb, accumulate, false, pool, epilogue);
}

bool gemm_update(MatrixView c, float alpha, ConstMatrixView a, Transpose ta, ConstMatrixView b,
                 Transpose tb, ThreadPool& pool) {
  return run_product(c, alpha, a, ta, b, tb, true, true, pool, nullptr);
}

GemmPath gemm_path() { return active_path().load(std::memory_order_relaxed); }

const char* gemm_path_name(GemmPath path) {
  switch (path) {
    case GemmPath::avx512:
      return "avx512";
    case GemmPath::avx2:
      return "avx2";
    case GemmPath::portable:
      break;
  }
  return "portable";
}

const char* gemm_path_name() { return gemm_path_name(gemm_path()); }

bool gemm_path_supported(GemmPath path) {
  const GemmPath best = best_path();
  switch (path) {
    case GemmPath::avx512:
      return best == GemmPath::avx512;
    case GemmPath::avx2:
      return best == GemmPath::avx512 || best == GemmPath::avx2;
    case GemmPath::portable:
      break;
  }
  return true;
}

void set_gemm_path(GemmPath path) {
  if (!gemm_path_supported(path)) {
    throw Error(std::string("gemm: this CPU cannot run the ") + gemm_path_name(path) + " path");
  }
  active_path().store(path, std::memory_order_relaxed);
}

double measure_fma_peak_gflops(int threads, double seconds) {
  using Clock = std::chrono::steady_clock;
  const GemmPath path = gemm_path();
  const auto loop = path == GemmPath::avx512 ? &detail::fma_loop_avx512
                    : path == GemmPath::avx2 ? &detail::fma_loop_avx2
                                             : &detail::fma_loop_portable;
  threads = std::max(threads, 1);
  // Calibrate on this thread: about 1/20 of the requested time.
  float sink = 0.0f;
  std::int64_t iterations = 1 << 16;
  for (;;) {
    const auto t0 = Clock::now();
    loop(iterations, 1.0f, &sink);
    const double dt = std::chrono::duration<double>(Clock::now() - t0).count();
    if (dt > seconds / 20 || iterations > (std::int64_t{1} << 40)) {
      iterations = std::max<std::int64_t>(
          1, static_cast<std::int64_t>(static_cast<double>(iterations) * seconds / dt));
      break;
    }
    iterations *= 4;
  }
  // The best of three runs of a third of the time each: a core that was busy elsewhere for a
  // moment must not lower the yardstick.
  iterations = std::max<std::int64_t>(1, iterations / 3);
  double best = 0.0;
  for (int trial = 0; trial < 3; ++trial) {
    std::vector<float> sinks(static_cast<std::size_t>(threads));
    std::vector<double> flops(static_cast<std::size_t>(threads));
    std::vector<std::thread> workers;
    const auto t0 = Clock::now();
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        const auto i = static_cast<std::size_t>(t);
        flops[i] = loop(iterations, 1.0f + static_cast<float>(t), &sinks[i]);
      });
    }
    for (auto& w : workers) w.join();
    const double dt = std::chrono::duration<double>(Clock::now() - t0).count();
    double total = 0.0;
    for (const double f : flops) total += f;
    best = std::max(best, total / dt * 1e-9);
  }
  return best;
}

}  // namespace backprop::kernels
