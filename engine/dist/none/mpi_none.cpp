// Built when MPI is not (MPE_MPI=OFF or not found): world() is then always one rank.
#include <mpe/error.hpp>

#include "dist/mpi_factory.hpp"

namespace mpe::dist::detail {
const bool kMpiBuilt = false;
std::shared_ptr<Communicator> make_mpi_world() {
  throw Error(ErrorCode::not_supported, "this build has no MPI (configure with MPE_MPI=ON)");
}
std::shared_ptr<Communicator> make_mpi_from_fortran(int) { return make_mpi_world(); }
}  // namespace mpe::dist::detail
