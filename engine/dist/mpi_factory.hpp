#pragma once
// The MPI communicator's factories, defined in engine/dist/mpi/ when MPI is built and as
// not_supported stubs (dist/no_mpi.cpp) otherwise; only communicator.cpp calls them.
#include <memory>

#include <mpe/distributed.hpp>

namespace mpe::dist::detail {
extern const bool kMpiBuilt;
std::shared_ptr<Communicator> make_mpi_world();
std::shared_ptr<Communicator> make_mpi_from_fortran(int handle);
}  // namespace mpe::dist::detail
