// "The training step allocates nothing": every heap allocation in this test binary is counted
// (a replaced global operator new), and a warmed-up step of gather + forward + backward +
// optimiser, on 1 and 2 threads, must not make one.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <numeric>

#include "backprop/evaluate.hpp"
#include "backprop/optimizer.hpp"
#include "train/batch_buffers.hpp"

namespace {
std::atomic<long> allocations{0};
}

void* operator new(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace backprop {
namespace {

TEST(NoAllocation, TrainingStepAllocatesNothing) {
  for (const int threads : {1, 2}) {
    Dataset data;
    data.rows = 256;
    data.features = 64;
    for (std::int64_t i = 0; i < data.rows * data.features; ++i)
      data.bytes.push_back(static_cast<std::uint8_t>(i * 7));
    for (std::int64_t i = 0; i < data.rows; ++i)
      data.labels.push_back(static_cast<std::int32_t>(i % 10));
    data.class_names.assign(10, "c");
    const Preprocessing prep = Preprocessing::fit(Normalization::unit_range, data, {});
    Architecture arch{
        {64, 256, 128, 10}, {Activation::sigmoid, Activation::relu}, Loss::cross_entropy};
    arch.dropout = 0.1f;
    Network net(arch, 64);
    net.initialize(1);
    OptimizerConfig config;
    config.kind = OptimizerKind::adam;
    Optimizer optimizer(config, net.parameters().size());
    BatchBuffers buffers(64, 64, 10);
    ThreadPool pool(threads);
    std::vector<std::int64_t> rows(64);
    // Adam after the backward pass on even steps, plain SGD inside it on odd ones.
    auto step = [&](std::int64_t s) {
      std::iota(rows.begin(), rows.end(), (s * 64) % 192);
      const Batch<float> batch = buffers.gather(data, prep, rows);
      if (s % 2 == 0) {
        net.forward_backward(batch, static_cast<std::uint64_t>(s), pool);
        optimizer.step(net.parameters(), net.gradients(), 1e-3f, pool);
      } else {
        net.forward_backward_sgd(batch, static_cast<std::uint64_t>(s), 0.01f, pool);
      }
    };
    // Warm-up: first-use initialisation (dispatch tables, thread start) may allocate.
    step(0);
    step(1);
    const long before = allocations.load();
    for (std::int64_t s = 2; s <= 51; ++s) step(s);
    EXPECT_EQ(allocations.load() - before, 0) << threads << " thread(s)";
  }
}

}  // namespace
}  // namespace backprop
