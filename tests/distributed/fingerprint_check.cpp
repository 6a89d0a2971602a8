// Run under mpirun -np 3: MpiSession::check_same_fingerprint passes when every rank agrees and,
// when rank 1 differs, refuses on every rank with a message naming rank 1 and both
// fingerprints. Exit status 0 when every rank saw that.
#include <fmt/format.h>

#include <string>

#include "backprop/error.hpp"
#include "distributed/mpi_session.hpp"

int main() {
  using backprop::distributed::MpiSession;
  MpiSession session;
  int failures = 0;
  try {
    session.check_same_fingerprint("build A, gemm avx2");
  } catch (const backprop::Error& e) {
    fmt::print(stderr, "rank {}: agreeing fingerprints refused: {}\n", session.rank(), e.what());
    ++failures;
  }
  std::string message;
  try {
    session.check_same_fingerprint(session.rank() == 1 ? "build A, gemm portable"
                                                       : "build A, gemm avx2");
  } catch (const backprop::Error& e) {
    message = e.what();
  }
  for (const char* part :
       {"rank 0 has 'build A, gemm avx2'", "rank 1 has 'build A, gemm portable'"})
    if (message.find(part) == std::string::npos) {
      fmt::print(stderr, "rank {}: the refusal '{}' does not say \"{}\"\n", session.rank(), message,
                 part);
      ++failures;
    }
  if (message.find("rank 2") != std::string::npos) {
    fmt::print(stderr, "rank {}: rank 2 agreed but is named: {}\n", session.rank(), message);
    ++failures;
  }
  if (session.rank() == 0 && failures == 0) fmt::print("fingerprint check: ok\n{}\n", message);
  return failures == 0 ? 0 : 1;
}
