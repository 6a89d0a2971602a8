#pragma once
// The one verb a data-parallel step needs from its processes: combine the shard sums of a step.
//
// A sharded step (TrainOptions::shards = S) cuts each global minibatch into S contiguous
// micro-shards and sums their gradients in one fixed pairwise tree:
//   level 0: g_0 ... g_{S-1};  level k+1: node_j = node_{2j} + node_{2j+1}.
// Of N processes (N a power of two, N <= S), rank r owns the shards [r S/N, (r+1) S/N), a whole
// subtree, and sums them itself; the exchange adds the N subtree sums in the top log2(N) levels
// of the same tree. Every addition is therefore the same for any N, and so are the bits.
#include <cstdint>
#include <span>

namespace backprop {

class GradientExchange {
 public:
  virtual ~GradientExchange() = default;
  virtual int rank() const = 0;
  virtual int ranks() const = 0;
  // Every rank passes its block: `grad` (the same length on every rank) and `stats` (a few
  // doubles: loss and counts) summed over its own shards in the tree, and its stop flag. On
  // return `grad` and `stats` hold, on every rank, the top of the tree over all ranks' blocks
  // (rank 0's on the left), and the result is true if any rank asked to stop.
  virtual bool combine(std::span<float> grad, std::span<double> stats, bool stop) = 0;
};

// The exchange of a process that is the whole run: its block is already the sum.
class LocalExchange final : public GradientExchange {
 public:
  int rank() const override { return 0; }
  int ranks() const override { return 1; }
  bool combine(std::span<float>, std::span<double>, bool stop) override { return stop; }
};

}  // namespace backprop
