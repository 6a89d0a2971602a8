// GEMM throughput on the shapes of the training workloads, in GFLOP/s and as a fraction of the
// machine's measured FMA peak for the same thread count.
//   W1: 784-128-10, batch 64         W2: 784-512-256-10, batch 128
//   W3: W1 inference at batch 1 and batch 10000
// Each shape runs with the fast kernel on 1 and 2 threads (the best path, "fast", and on an
// AVX-512 machine also the AVX2 fallback, "avx2"), the plain reference (1 thread) and, when the
// build found it, OpenBLAS (1 and 2 threads). "step" rows run all the GEMMs of one
// training step back to back: their GFLOP/s is the workload's average.
//   gemm_bench --benchmark_filter=fast          only our kernel
//   gemm_bench --benchmark_filter='W1/step'     one workload
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "backprop/matrix.hpp"
#include "backprop/thread_pool.hpp"
#include "kernels/gemm.hpp"

#ifdef BACKPROP_BENCH_OPENBLAS
#include <cblas.h>
#endif

namespace {

using backprop::ConstMatrixView;
using backprop::MatrixView;
using backprop::ThreadPool;
using backprop::kernels::Transpose;

struct Shape {
  const char* name;
  std::int64_t m, n, k;
  Transpose ta, tb;
  // C += -lr op(A) op(B) (gemm_update): W1 trains with plain SGD, which the network applies
  // inside its weight-gradient products (W += -lr X^T D). W2's Adam needs dW itself, written.
  bool update = false;
  double flops() const {
    return 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  }
};

constexpr Transpose N = Transpose::no;
constexpr Transpose T = Transpose::yes;
constexpr float kLr = 0.1f;  // W1's learning rate, for the fused SGD updates

struct Workload {
  const char* name;
  std::vector<Shape> shapes;
  bool step;  // also benchmark all shapes back to back
};

const std::vector<Workload>& workloads() {
  static const std::vector<Workload> w = {
      {"W1",
       {{"Z1=XW1", 64, 128, 784, N, N},
        {"Z2=HW2", 64, 10, 128, N, N},
        {"W2-=lrHtD2", 128, 10, 64, T, N, true},
        {"dH=D2W2t", 64, 128, 10, N, T},
        {"W1-=lrXtD1", 784, 128, 64, T, N, true}},
       true},
      {"W2",
       {{"Z1=XW1", 128, 512, 784, N, N},
        {"Z2=H1W2", 128, 256, 512, N, N},
        {"Z3=H2W3", 128, 10, 256, N, N},
        {"dW3=H2tD3", 256, 10, 128, T, N},
        {"dH2=D3W3t", 128, 256, 10, N, T},
        {"dW2=H1tD2", 512, 256, 128, T, N},
        {"dH1=D2W2t", 128, 512, 256, N, T},
        {"dW1=XtD1", 784, 512, 128, T, N}},
       true},
      {"W3b1", {{"Z1=xW1", 1, 128, 784, N, N}, {"Z2=hW2", 1, 10, 128, N, N}}, true},
      {"W3b10000", {{"Z1=XW1", 10000, 128, 784, N, N}, {"Z2=HW2", 10000, 10, 128, N, N}}, true},
  };
  return w;
}

ThreadPool& pool(int threads) {
  static std::map<int, std::unique_ptr<ThreadPool>> pools;
  auto& p = pools[threads];
  if (!p) p = std::make_unique<ThreadPool>(threads);
  return *p;
}

double peak_gflops(int threads) {
  static std::map<int, double> peaks;
  auto it = peaks.find(threads);
  if (it == peaks.end())
    it = peaks.emplace(threads, backprop::kernels::measure_fma_peak_gflops(threads)).first;
  return it->second;
}

// The operands of one product, stored as the layer stores them (A^T and B^T as their own
// row-major matrices) in the library's 64-byte aligned buffers.
struct Operands {
  Shape shape;
  backprop::AlignedBuffer<float> a, b, c;
  std::int64_t a_rows, a_cols, b_rows, b_cols;

  explicit Operands(const Shape& s) : shape(s) {
    a_rows = s.ta == T ? s.k : s.m;
    a_cols = s.ta == T ? s.m : s.k;
    b_rows = s.tb == T ? s.n : s.k;
    b_cols = s.tb == T ? s.k : s.n;
    std::mt19937 rng(42);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    a = backprop::AlignedBuffer<float>(static_cast<std::size_t>(a_rows * a_cols));
    b = backprop::AlignedBuffer<float>(static_cast<std::size_t>(b_rows * b_cols));
    c = backprop::AlignedBuffer<float>(static_cast<std::size_t>(s.m * s.n));
    for (float& v : a.span()) v = dist(rng);
    for (float& v : b.span()) v = dist(rng);
  }
  MatrixView cv() { return {c.data(), shape.m, shape.n}; }
  ConstMatrixView av() const { return {a.data(), a_rows, a_cols}; }
  ConstMatrixView bv() const { return {b.data(), b_rows, b_cols}; }
};

enum class Impl { fast, avx2, reference, openblas };

void run_one(Impl impl, Operands& o, ThreadPool& p) {
  switch (impl) {
    case Impl::fast:
    case Impl::avx2:
      if (o.shape.update) {
        benchmark::DoNotOptimize(backprop::kernels::gemm_update(o.cv(), -kLr, o.av(), o.shape.ta,
                                                                o.bv(), o.shape.tb, p));
      } else {
        backprop::kernels::gemm(o.cv(), o.av(), o.shape.ta, o.bv(), o.shape.tb, false, p);
      }
      break;
    case Impl::reference:
      if (o.shape.update) {
        backprop::kernels::gemm_update_reference(o.cv(), -kLr, o.av(), o.shape.ta, o.bv(),
                                                 o.shape.tb);
      } else {
        backprop::kernels::gemm_reference(o.cv(), o.av(), o.shape.ta, o.bv(), o.shape.tb, false);
      }
      break;
    case Impl::openblas:
#ifdef BACKPROP_BENCH_OPENBLAS
      cblas_sgemm(CblasRowMajor, o.shape.ta == T ? CblasTrans : CblasNoTrans,
                  o.shape.tb == T ? CblasTrans : CblasNoTrans, static_cast<int>(o.shape.m),
                  static_cast<int>(o.shape.n), static_cast<int>(o.shape.k),
                  o.shape.update ? -kLr : 1.0f, o.a.data(), static_cast<int>(o.a_cols), o.b.data(),
                  static_cast<int>(o.b_cols), o.shape.update ? 1.0f : 0.0f, o.c.data(),
                  static_cast<int>(o.shape.n));
#endif
      break;
  }
}

void bench(benchmark::State& state, Impl impl, std::vector<Shape> shapes, int threads) {
#ifdef BACKPROP_BENCH_OPENBLAS
  if (impl == Impl::openblas) openblas_set_num_threads(threads);
#endif
  std::vector<Operands> ops;
  double flops = 0.0;
  for (const Shape& s : shapes) {
    ops.emplace_back(s);
    flops += s.flops();
  }
  ThreadPool& p = pool(impl == Impl::fast || impl == Impl::avx2 ? threads : 1);
  const backprop::kernels::GemmPath saved = backprop::kernels::gemm_path();
  if (impl == Impl::avx2) backprop::kernels::set_gemm_path(backprop::kernels::GemmPath::avx2);
  using Clock = std::chrono::steady_clock;
  double seconds = 0.0;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    for (Operands& o : ops) run_one(impl, o, p);
    const double dt = std::chrono::duration<double>(Clock::now() - t0).count();
    seconds += dt;
    state.SetIterationTime(dt);
    benchmark::DoNotOptimize(ops.back().c.data());
    benchmark::ClobberMemory();
  }
  backprop::kernels::set_gemm_path(saved);
  const double iters = static_cast<double>(state.iterations());
  state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9 * iters, benchmark::Counter::kIsRate);
  state.counters["peak"] = flops * iters / seconds * 1e-9 / peak_gflops(threads);
  state.counters["us"] = seconds / iters * 1e6;
}

// About a microsecond of work that the compiler cannot drop or shorten: a dependent chain.
double busy_work(std::int64_t seed) {
  double x = static_cast<double>(seed);
  for (int i = 0; i < 300; ++i) {
    x = x * 1.0000001 + 1e-9;
    benchmark::DoNotOptimize(x);
  }
  return x;
}

// The cost of a parallel region: run() with one ~1 us task per thread, against one such task
// on the caller alone. "overhead_us" is the difference: publishing the job, waking (spinning)
// workers, claiming, and waiting for the last one.
void bench_handoff(benchmark::State& state, int threads) {
  ThreadPool& p = pool(threads);
  using Clock = std::chrono::steady_clock;
  double single = 1e9;
  for (int i = 0; i < 2000; ++i) {
    const auto t0 = Clock::now();
    benchmark::DoNotOptimize(busy_work(i));
    single = std::min(single, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  const std::function<void(std::int64_t)> task = [](std::int64_t i) {
    benchmark::DoNotOptimize(busy_work(i));
  };
  double seconds = 0.0;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    p.run(threads, task);
    const double dt = std::chrono::duration<double>(Clock::now() - t0).count();
    seconds += dt;
    state.SetIterationTime(dt);
  }
  const double per_run = seconds / static_cast<double>(state.iterations());
  state.counters["task_us"] = single * 1e6;
  state.counters["overhead_us"] = (per_run - single) * 1e6;
}

void register_all() {
  std::vector<Impl> impls = {Impl::fast, Impl::reference};
  // The AVX2 path as well, when the machine would otherwise take the AVX-512 one.
  if (backprop::kernels::gemm_path() == backprop::kernels::GemmPath::avx512)
    impls.push_back(Impl::avx2);
#ifdef BACKPROP_BENCH_OPENBLAS
  impls.push_back(Impl::openblas);
#endif
  const char* impl_names[] = {"fast", "avx2", "reference", "openblas"};
  for (const Workload& w : workloads()) {
    std::vector<std::pair<std::string, std::vector<Shape>>> cases;
    for (const Shape& s : w.shapes) {
      const std::string dims =
          std::to_string(s.m) + "x" + std::to_string(s.n) + "x" + std::to_string(s.k);
      const std::string trans = std::string(s.ta == T ? "T" : "N") + (s.tb == T ? "T" : "N");
      cases.push_back({std::string(w.name) + "/" + s.name + "/" + trans + "/" + dims, {s}});
    }
    if (w.step) cases.push_back({std::string(w.name) + "/step", w.shapes});
    for (const auto& [name, shapes] : cases) {
      for (const Impl impl : impls) {
        for (const int threads : {1, 2}) {
          if (impl == Impl::reference && threads != 1) continue;
          const std::string full = std::string(impl_names[static_cast<int>(impl)]) + "/" + name +
                                   "/threads:" + std::to_string(threads);
          benchmark::RegisterBenchmark(full.c_str(), bench, impl, shapes, threads)->UseManualTime();
        }
      }
    }
  }
  for (const int threads : {1, 2, 3}) {
    benchmark::RegisterBenchmark(("pool/handoff/threads:" + std::to_string(threads)).c_str(),
                                 bench_handoff, threads)
        ->UseManualTime();
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("gemm_path", backprop::kernels::gemm_path_name());
  benchmark::AddCustomContext("fma_peak_gflops_1_thread", std::to_string(peak_gflops(1)));
  benchmark::AddCustomContext("fma_peak_gflops_2_threads", std::to_string(peak_gflops(2)));
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
