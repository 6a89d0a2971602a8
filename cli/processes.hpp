#pragma once
// The processes of one `backprop train`: this one alone, or those of an MPI job when an MPI
// launcher started it (docs/distributed.md).
#include <memory>

#include "backprop/gradient_exchange.hpp"

namespace backprop::cli {

class Processes {
 public:
  // Joins the MPI job when launched by mpirun or srun (and built with MPI); checks that every
  // process computes the same bits.
  Processes();
  ~Processes();
  int rank() const;
  int ranks() const;
  bool primary() const { return rank() == 0; }
  // The exchange of a sharded step across the processes (nullptr: this process alone).
  GradientExchange* exchange();
  // After an error on this process: with others, ends the whole job with `status` (they would
  // otherwise wait for this one at the next step); alone, returns.
  void abort_others(int status);

 private:
  struct Mpi;
  std::unique_ptr<Mpi> mpi_;
};

}  // namespace backprop::cli
