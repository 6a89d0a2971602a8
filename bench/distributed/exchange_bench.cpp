// The cost of data-parallel training (docs/distributed.md), run under mpirun:
//   mpirun -np N exchange_bench [--steps K] [--shards S]
// For W1 (784-128-10 sigmoid, batch 64) and W2 (784-512-10, batch 128), 8 shards: the time of
// a whole sharded step (this rank's shards forward and backward, the exchange, the optimiser)
// and of its exchange; then the exchange alone against a plain MPI_Allreduce of the same
// vector, interleaved round by round so that both see the same machine load. With N = 1 it
// also times the one-process step without shards (the fused fast path) for comparison.
#include <fmt/format.h>
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "backprop/optimizer.hpp"
#include "backprop/preprocessing.hpp"
#include "backprop/rng.hpp"
#include "distributed/mpi_exchange.hpp"
#include "distributed/mpi_session.hpp"
#include "train/sharded_step.hpp"

namespace {

using namespace backprop;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

Dataset random_images(std::int64_t rows) {
  Dataset d;
  d.rows = rows;
  d.features = 784;
  d.source = "random";
  Rng rng(1);
  for (std::int64_t i = 0; i < rows * 784; ++i)
    d.values.push_back(static_cast<float>(rng.uniform()));
  for (std::int64_t i = 0; i < rows; ++i) d.labels.push_back(static_cast<std::int32_t>(i % 10));
  for (int c = 0; c < 10; ++c) d.class_names.push_back(std::to_string(c));
  return d;
}

// The largest of the ranks' values: a step is as slow as its slowest rank.
double max_over_ranks(double v) {
  double out = 0;
  MPI_Allreduce(&v, &out, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return out;
}

void run(const char* name, std::int64_t hidden, std::int64_t batch, int steps, std::int64_t shards,
         distributed::MpiExchange& exchange, ThreadPool& pool, const Dataset& data,
         const Preprocessing& prep) {
  Architecture arch;
  arch.widths = {784, hidden, 10};
  arch.activations = {Activation::sigmoid};
  arch.loss = Loss::cross_entropy;
  arch.validate();
  Network net(arch, batch);
  net.initialize(1);
  Optimizer sgd(OptimizerConfig{}, net.parameters().size());
  ShardedStep step(net, shards, batch, exchange);
  std::vector<std::int64_t> order(static_cast<std::size_t>(data.rows));
  std::iota(order.begin(), order.end(), 0);
  const auto rows_of = [&](int s) {
    const std::int64_t first = (s * batch) % (data.rows - batch);
    return std::span<const std::int64_t>(order.data() + first, static_cast<std::size_t>(batch));
  };
  for (int s = 0; s < 5; ++s) {  // warm-up
    step.run(net, data, prep, rows_of(s), 0, pool, false);
    sgd.step(net.parameters(), net.gradients(), 0.1f, pool);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  const double exchange_before = step.exchange_seconds();
  const auto started = Clock::now();
  for (int s = 0; s < steps; ++s) {
    step.run(net, data, prep, rows_of(s), 0, pool, false);
    sgd.step(net.parameters(), net.gradients(), 0.1f, pool);
  }
  const double step_ms = max_over_ranks(seconds_since(started)) * 1e3 / steps;
  const double exchange_ms =
      max_over_ranks(step.exchange_seconds() - exchange_before) * 1e3 / steps;

  // The exchange alone against MPI_Allreduce of the same floats, alternating rounds.
  const auto n = static_cast<std::int64_t>(net.gradients().size());
  std::vector<float> grad(static_cast<std::size_t>(n), 1.0f), sum(grad.size());
  std::vector<double> stats(3, 1.0);
  double combine_s = 0, allreduce_s = 0;
  const int rounds = steps * 2;
  for (int r = 0; r < rounds; ++r) {
    MPI_Barrier(MPI_COMM_WORLD);
    auto t = Clock::now();
    exchange.combine(grad, stats, false);
    combine_s += seconds_since(t);
    MPI_Barrier(MPI_COMM_WORLD);
    t = Clock::now();
    MPI_Allreduce(grad.data(), sum.data(), static_cast<int>(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    allreduce_s += seconds_since(t);
  }
  const double combine_ms = max_over_ranks(combine_s) * 1e3 / rounds;
  const double allreduce_ms = max_over_ranks(allreduce_s) * 1e3 / rounds;

  double fast_ms = 0;
  if (exchange.ranks() == 1) {  // the one-process fast path: whole minibatch, fused SGD
    Network plain(arch, batch);
    plain.initialize(1);
    BatchBuffers buffers(batch, 784, 10);
    const auto t = Clock::now();
    for (int s = 0; s < steps; ++s)
      plain.forward_backward_sgd(buffers.gather(data, prep, rows_of(s), &pool), 0, 0.1f, pool);
    fast_ms = seconds_since(t) * 1e3 / steps;
  }
  if (exchange.rank() == 0)
    fmt::print(
        "{:<3} np {}  {:>8.1f} KB  step {:7.3f} ms  (exchange {:6.3f} ms)  exchange alone "
        "{:6.3f} ms  MPI_Allreduce {:6.3f} ms  ratio {:4.2f}{}\n",
        name, exchange.ranks(), static_cast<double>(n) * 4 / 1024, step_ms, exchange_ms, combine_ms,
        allreduce_ms, allreduce_ms > 0 ? combine_ms / allreduce_ms : 0.0,
        fast_ms > 0 ? fmt::format("  | unsharded fused step {:.3f} ms", fast_ms) : "");
}

}  // namespace

int main(int argc, char** argv) {
  int steps = 200;
  std::int64_t shards = 8;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--steps") == 0) steps = std::max(1, std::atoi(argv[i + 1]));
    if (std::strcmp(argv[i], "--shards") == 0) shards = std::atoll(argv[i + 1]);
  }
  try {
    distributed::MpiSession session;
    distributed::MpiExchange exchange;
    ThreadPool pool(ThreadPool::hardware_threads());
    const Dataset data = random_images(4096);
    const Preprocessing prep = Preprocessing::identity(784);
    if (session.rank() == 0)
      fmt::print("# {} processes, {} threads each, {} shards, {} steps\n", session.ranks(),
                 ThreadPool::hardware_threads(), shards, steps);
    run("W1", 128, 64, steps, shards, exchange, pool, data, prep);
    run("W2", 512, 128, steps / 2, shards, exchange, pool, data, prep);
  } catch (const std::exception& e) {
    fmt::print(stderr, "exchange_bench: {}\n", e.what());
    return 1;
  }
  return 0;
}
