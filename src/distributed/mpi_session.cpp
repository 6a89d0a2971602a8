#include "distributed/mpi_session.hpp"

#include <fmt/format.h>
#include <mpi.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#include "backprop/error.hpp"
#include "kernels/gemm.hpp"

namespace backprop::distributed {

bool launched_by_mpi_launcher() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
    if (std::getenv(name) != nullptr) return true;
  return false;
}

std::string compute_fingerprint(const std::string& version) {
  __builtin_cpu_init();
  const char* clones = __builtin_cpu_supports("avx512f") ? "avx512f"
                       : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")
                           ? "avx2+fma"
                           : "baseline";
  return fmt::format("backprop {} built by {}, gemm {}, elementwise {}, float FTZ+DAZ", version,
                     __VERSION__, kernels::gemm_path_name(), clones);
}

void check_mpi(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw Error(
      fmt::format("{} failed: {} (a process of the job has probably died or lost its "
                  "connection)",
                  call, std::string(text, static_cast<std::size_t>(length))));
}

MpiSession::MpiSession() {
  int provided = 0;
  if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
    throw Error("MPI_Init_thread failed: the MPI launcher's environment is broken");
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks_);
}

MpiSession::~MpiSession() { MPI_Finalize(); }

void MpiSession::check_same_fingerprint(const std::string& mine) const {
  constexpr std::size_t kLength = 512;
  std::vector<char> all(kLength * static_cast<std::size_t>(ranks_));
  std::vector<char> own(kLength, '\0');
  std::memcpy(own.data(), mine.data(), std::min(mine.size(), kLength - 1));
  check_mpi(
      MPI_Allgather(own.data(), kLength, MPI_CHAR, all.data(), kLength, MPI_CHAR, MPI_COMM_WORLD),
      "MPI_Allgather (fingerprints)");
  const auto of = [&](int r) {
    return std::string(all.data() + kLength * static_cast<std::size_t>(r));
  };
  std::string differ;
  for (int r = 1; r < ranks_; ++r)
    if (of(r) != of(0))
      differ += fmt::format("{}rank {} has '{}'", differ.empty() ? "" : "; ", r, of(r));
  if (!differ.empty())
    throw Error(fmt::format(
        "the processes would compute different bits: rank 0 has '{}', but {}. Run every rank "
        "from the same build on machines with the same instruction set (or restrict the job to "
        "such nodes)",
        of(0), differ));
}

void MpiSession::abort(int status) const {
  MPI_Abort(MPI_COMM_WORLD, status);
  std::_Exit(status);
}

}  // namespace backprop::distributed
