#include "distributed/mpi_exchange.hpp"

#include <mpi.h>

#include <algorithm>
#include <cstring>

#include "distributed/mpi_session.hpp"
#include "train/pairwise_tree.hpp"

namespace backprop::distributed {

MpiExchange::MpiExchange() {
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks_);
}

bool MpiExchange::combine(std::span<float> grad, std::span<double> stats, bool stop) {
  if (ranks_ == 1) return stop;  // the block is the whole tree
  const auto n = static_cast<std::int64_t>(grad.size());
  const auto k = static_cast<std::int64_t>(stats.size());
  const std::int64_t ranks = ranks_;
  const std::int64_t slice = (n + ranks - 1) / ranks;  // rank i sums elements [i slice, ...)
  // 1. Every rank's block, cut into slices, slice i to rank i (zeros pad the last one).
  send_.assign(static_cast<std::size_t>(slice * ranks), 0.0f);
  std::copy(grad.begin(), grad.end(), send_.begin());
  receive_.resize(send_.size());
  check_mpi(MPI_Alltoall(send_.data(), static_cast<int>(slice), MPI_FLOAT, receive_.data(),
                         static_cast<int>(slice), MPI_FLOAT, MPI_COMM_WORLD),
            "MPI_Alltoall (gradient slices)");
  // 2. This rank's slice of the N blocks (rank 0's first) summed in the top of the tree.
  pairwise_sum_blocks(receive_.data(), ranks, slice, slice);
  // 3. Every rank's summed slice, block statistics and stop flag to every rank.
  const std::size_t floats = static_cast<std::size_t>(slice) * sizeof(float);
  const std::size_t chunk = floats + static_cast<std::size_t>(k + 1) * sizeof(double);
  chunk_.resize(chunk);
  std::memcpy(chunk_.data(), receive_.data(), floats);
  std::memcpy(chunk_.data() + floats, stats.data(), static_cast<std::size_t>(k) * sizeof(double));
  const double flag = stop ? 1.0 : 0.0;
  std::memcpy(chunk_.data() + floats + static_cast<std::size_t>(k) * sizeof(double), &flag,
              sizeof(double));
  gathered_.resize(chunk * static_cast<std::size_t>(ranks));
  check_mpi(MPI_Allgather(chunk_.data(), static_cast<int>(chunk), MPI_BYTE, gathered_.data(),
                          static_cast<int>(chunk), MPI_BYTE, MPI_COMM_WORLD),
            "MPI_Allgather (summed slices)");
  bool any_stop = false;
  stats_.resize(static_cast<std::size_t>((k + 1) * ranks));
  for (std::int64_t i = 0; i < ranks; ++i) {
    const unsigned char* c = gathered_.data() + chunk * static_cast<std::size_t>(i);
    const std::int64_t first = i * slice;
    const std::int64_t count = std::clamp<std::int64_t>(n - first, 0, slice);
    if (count > 0)
      std::memcpy(grad.data() + first, c, static_cast<std::size_t>(count) * sizeof(float));
    std::memcpy(stats_.data() + i * (k + 1), c + floats,
                static_cast<std::size_t>(k + 1) * sizeof(double));
    any_stop = any_stop || stats_[static_cast<std::size_t>(i * (k + 1) + k)] != 0.0;
  }
  // 4. The statistics' top levels, the same tree over the ranks' blocks.
  pairwise_sum_blocks(stats_.data(), ranks, k, k + 1);
  std::copy(stats_.begin(), stats_.begin() + k, stats.begin());
  return any_stop;
}

}  // namespace backprop::distributed
