#pragma once
// GradientExchange over MPI: the top levels of the shard tree as one MPI_Alltoall of slices,
// each rank's slice summed in the fixed tree, and one MPI_Allgather of the sums (with every
// rank's statistics and stop flag riding along): the bytes of a reduce-scatter + allgather
// ring allreduce, with an order of addition that does not depend on the process count.
#include <cstdint>
#include <vector>

#include "backprop/gradient_exchange.hpp"

namespace backprop::distributed {

class MpiExchange final : public GradientExchange {
 public:
  MpiExchange();  // on MPI_COMM_WORLD, which must be initialised (MpiSession)
  int rank() const override { return rank_; }
  int ranks() const override { return ranks_; }
  bool combine(std::span<float> grad, std::span<double> stats, bool stop) override;

 private:
  int rank_ = 0, ranks_ = 1;
  std::vector<float> send_, receive_;
  std::vector<unsigned char> chunk_, gathered_;
  std::vector<double> stats_;
};

}  // namespace backprop::distributed
