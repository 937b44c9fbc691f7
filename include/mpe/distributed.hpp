#pragma once
/// @file distributed.hpp
/// Many processes: a small communicator over MPI (host buffers), opaque so that this header
/// needs no MPI headers. A build without MPI (MPE_MPI=OFF, or no MPI found) still has the
/// single-process communicator, so the distributed drivers run as one rank everywhere.
///
///     auto comm = mpe::dist::world();        // MPI_COMM_WORLD under mpirun, else one rank
///     double local = ...;
///     comm->all_reduce(&local, 1, mpe::dist::ReduceOp::sum);
///
/// Device buffers: the drivers stage them through host memory (Tensor::to(Device::cpu())),
/// exchange, and copy back (see docs/distributed.md for NCCL).
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include <mpe/device.hpp>
#include <mpe/error.hpp>

namespace mpe::dist {

/// Reductions all_reduce knows.
enum class ReduceOp { sum, max, min };

/// One neighbour's part of a halo exchange: `send_bytes` bytes go from `send` to rank `peer`,
/// `recv_bytes` bytes come from it into `recv`. Either size may be 0.
struct Neighbour {
  int peer = 0;
  const void* send = nullptr;
  std::size_t send_bytes = 0;
  void* recv = nullptr;
  std::size_t recv_bytes = 0;
};

/// A group of processes that exchange host buffers. Every call is collective (all ranks call
/// it, in the same order) except rank() and size().
class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  /// "mpi" or "single".
  virtual const char* kind() const = 0;
  virtual void barrier() = 0;
  /// Element-wise reduction over ranks, in place, result on every rank.
  virtual void all_reduce(double* data, std::size_t count, ReduceOp op) = 0;
  virtual void all_reduce(std::int64_t* data, std::size_t count, ReduceOp op) = 0;
  /// Broadcasts `bytes` bytes of `data` from `root`.
  virtual void broadcast(void* data, std::size_t bytes, int root) = 0;
  /// Concatenation, in rank order, of every rank's bytes; on every rank.
  virtual std::vector<std::uint8_t> all_gather(const std::vector<std::uint8_t>& mine) = 0;
  /// Concatenation, in rank order, of every rank's bytes on `root`; empty on the others.
  virtual std::vector<std::uint8_t> gather(const std::vector<std::uint8_t>& mine, int root) = 0;
  /// to[r] goes to rank r; returns what each rank sent to this one (index = sender).
  virtual std::vector<std::vector<std::uint8_t>> all_to_all(
      const std::vector<std::vector<std::uint8_t>>& to) = 0;
  /// Point-to-point exchange with some neighbours (a halo round): all sends and receives are
  /// posted together and the call returns when all have completed. The pattern must match:
  /// what rank a sends to b, b receives from a, with the same size.
  virtual void neighbour_exchange(const std::vector<Neighbour>& neighbours) = 0;
  /// Ends the whole job with `code` after `message` was printed to stderr (MPI_Abort); the
  /// single-process communicator calls std::exit.
  [[noreturn]] virtual void abort(int code, const std::string& message) = 0;
};

/// Device buffers between ranks, device to device (NCCL). Every call is collective; pointers
/// are device memory of device(); each call waits for the device's queued work first and
/// returns when the transfer is complete.
class DeviceCommunicator {
 public:
  virtual ~DeviceCommunicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual Device device() const = 0;
  /// As Communicator::neighbour_exchange, on device pointers (one NCCL group of sends and
  /// receives).
  virtual void neighbour_exchange(const std::vector<Neighbour>& neighbours) = 0;
  /// Element-wise reduction over ranks of device arrays, in place.
  virtual void all_reduce(float* data, std::size_t count, ReduceOp op) = 0;
  virtual void all_reduce(double* data, std::size_t count, ReduceOp op) = 0;
};

/// Whether this build has NCCL (a CUDA build that found nccl.h and libnccl; MPE_NCCL).
bool nccl_built() noexcept;

/// Collective over `host`: rank 0 makes a NCCL unique id, `host` broadcasts it, and every rank
/// joins (ncclCommInitRank) on `device`, its own GPU (one rank per GPU). Error(not_supported)
/// when NCCL is not built, invalid_argument for a non-CUDA device; a failure on any rank
/// throws AgreedError on every rank.
std::shared_ptr<DeviceCommunicator> nccl(Communicator& host, const Device& device);

/// Whether this build has MPI (MPE_MPI).
bool mpi_built() noexcept;

/// Whether the process was started by an MPI launcher (mpirun/mpiexec/srun set PMIx, PMI or
/// Open MPI environment variables).
bool launched_by_mpi() noexcept;

/// The world: MPI_COMM_WORLD when built with MPI and started by a launcher (MPI is
/// initialised on the first call and finalised at exit); else, when the environment sets
/// MPE_UNIQUE_ID, MPE_RANK and MPE_WORLD_SIZE, from_unique_id() with them (processes started
/// without mpirun); else a single-rank communicator. The same object on every call.
std::shared_ptr<Communicator> world();

/// A communicator of one rank (no MPI calls).
std::shared_ptr<Communicator> single();

/// External bootstrap from a program that already runs MPI (mpi4py: `comm.py2f()`, C:
/// MPI_Comm_c2f): wraps that communicator without initialising or finalising MPI. Throws
/// Error(not_supported) when MPI is not built.
std::shared_ptr<Communicator> from_fortran_handle(int handle);

/// External bootstrap without MPI: a communicator over TCP among `size` processes started by
/// anything (torchrun, Ray, a shell loop), each passing its rank and the same `unique_id`:
///  - "tcp://HOST:PORT": rank 0 listens on PORT, the others connect to HOST:PORT;
///  - "file://PATH": rank 0 listens on a free port and writes "host:port" into PATH (a fresh
///    path on a file system every rank sees), the others read it.
/// The ranks then connect pairwise (a full mesh; one stream per pair, TCP_NODELAY). The same
/// calls as the MPI communicator on host buffers; collectives go through rank 0 (reductions
/// in rank order). A rank that ends or aborts closes its connections: the others fail with
/// Error(io_error) instead of waiting. Collective over the `size` processes; throws
/// Error(io_error) when they have not all met within `timeout_seconds`, invalid_argument for a
/// bad rank or id. size 1 gives single(). Works in builds without MPI.
std::shared_ptr<Communicator> from_unique_id(int rank, int size, const std::string& unique_id,
                                             double timeout_seconds = 120.0);

/// The range [first, first + count) of `total` items rank `rank` of `ranks` owns: contiguous
/// blocks in rank order, the first `total % ranks` ranks one item longer.
struct Shard {
  std::int64_t first = 0, count = 0;
};
Shard shard(std::int64_t total, int rank, int ranks);

/// An error every rank of a communicator agreed on (check_all): the code and message of the
/// first failing rank, prefixed with "rank R of N: ". Programs print it once (on rank 0).
class AgreedError : public Error {
 public:
  AgreedError(ErrorCode code, const std::string& message, int failing_rank)
      : Error(code, message), failing_rank_(failing_rank) {}
  int failing_rank() const noexcept { return failing_rank_; }

 private:
  int failing_rank_;
};

/// Collective error check after a phase of local work: every rank passes the error its part
/// raised (null: none). When any rank failed, every rank throws AgreedError, so all ranks leave
/// together and none waits in a collective the others never reach.
void check_all(Communicator& comm, const Error* local_error);

/// Runs `work` (local, no collectives inside) and then check_all with what it threw:
/// mpe::Error as itself, std::bad_alloc as out_of_memory, other exceptions as internal.
template <class F>
void run_checked(Communicator& comm, F&& work) {
  std::unique_ptr<Error> failed;
  try {
    work();
  } catch (const Error& e) {
    failed = std::make_unique<Error>(e);
  } catch (const std::bad_alloc&) {
    failed = std::make_unique<Error>(ErrorCode::out_of_memory, "host allocation failed");
  } catch (const std::exception& e) {
    failed = std::make_unique<Error>(ErrorCode::internal, e.what());
  }
  check_all(comm, failed.get());
}

}  // namespace mpe::dist
