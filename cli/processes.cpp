#include "processes.hpp"

#include "commands.hpp"

#ifdef BACKPROP_HAVE_MPI
#include "distributed/mpi_exchange.hpp"
#include "distributed/mpi_session.hpp"
#endif

namespace backprop::cli {

#ifdef BACKPROP_HAVE_MPI
struct Processes::Mpi {
  distributed::MpiSession session;
  distributed::MpiExchange exchange;
};

Processes::Processes() {
  if (!distributed::launched_by_mpi_launcher()) return;
  mpi_ = std::make_unique<Mpi>();
  if (mpi_->session.ranks() > 1) {
    try {
      mpi_->session.check_same_fingerprint(distributed::compute_fingerprint(kVersion));
    } catch (...) {
      mpi_.reset();  // every rank refuses; MPI_Finalize, then the error
      throw;
    }
  }
}

int Processes::rank() const { return mpi_ ? mpi_->session.rank() : 0; }
int Processes::ranks() const { return mpi_ ? mpi_->session.ranks() : 1; }
GradientExchange* Processes::exchange() { return mpi_ ? &mpi_->exchange : nullptr; }
void Processes::abort_others(int status) {
  if (mpi_ && mpi_->session.ranks() > 1) mpi_->session.abort(status);
}
#else
struct Processes::Mpi {};
Processes::Processes() = default;
int Processes::rank() const { return 0; }
int Processes::ranks() const { return 1; }
GradientExchange* Processes::exchange() { return nullptr; }
void Processes::abort_others(int) {}
#endif

Processes::~Processes() = default;

}  // namespace backprop::cli
