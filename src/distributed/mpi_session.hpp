#pragma once
// The processes of an MPI job (docs/distributed.md): joining it, the check that every process
// computes the same bits, and ending the whole job on an error.
#include <string>

namespace backprop::distributed {

// True when an MPI launcher started this process (mpirun / mpiexec of OpenMPI, or a PMI / PMIx
// launcher such as MPICH's Hydra or Slurm's srun). Without one the tool runs as one process and
// never calls MPI.
bool launched_by_mpi_launcher();

// What decides the bits a process computes: the version and compiler of the build, the GEMM
// path the dispatcher chose for this CPU, the ISA of the elementwise clones and the float mode.
std::string compute_fingerprint(const std::string& version);

class MpiSession {
 public:
  // MPI_Init_thread (funneled: only the calling thread talks to MPI); MPI errors are returned,
  // not fatal, and become Error.
  MpiSession();
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;
  int rank() const { return rank_; }
  int ranks() const { return ranks_; }
  // Throws Error on every rank unless every rank's fingerprint is rank 0's; the message names
  // the ranks that differ and both fingerprints.
  void check_same_fingerprint(const std::string& mine) const;
  // Ends every process of the job with `status` (MPI_Abort): one rank's error must not leave
  // the others waiting in a collective.
  [[noreturn]] void abort(int status) const;

 private:
  int rank_ = 0, ranks_ = 1;
};

// Throws Error naming `call` and the MPI error `code` unless it is MPI_SUCCESS.
void check_mpi(int code, const char* call);

}  // namespace backprop::distributed
