#pragma once
// The mpe program under mpirun: the world communicator, the device of this rank (each rank its
// own GPU when there are several), and printing on rank 0 only.
#include <cstdlib>
#include <string>

#include <mpe/device.hpp>
#include <mpe/distributed.hpp>

namespace mpe::cli {

inline int local_rank(const dist::Communicator& comm) {
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"}) {
    if (const char* v = std::getenv(name); v && *v) return std::atoi(v);
  }
  return comm.rank();
}

/// "auto" or "cuda" with several ranks and several GPUs: rank r takes GPU (local rank mod
/// count); otherwise the device as written.
inline Device rank_device(const std::string& text, const dist::Communicator& comm) {
  const int gpus = cuda_device_count();
  if (comm.size() > 1 && gpus > 1 && (text == "auto" || text == "cuda")) {
    return Device::cuda(local_rank(comm) % gpus);
  }
  return parse_device(text);
}

}  // namespace mpe::cli
