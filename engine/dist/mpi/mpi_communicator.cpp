// The MPI communicator: host buffers over MPI (Open MPI or MPICH, C API). Large buffers are
// sent in pieces of at most INT_MAX bytes (MPI counts are int).
#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>
#include <mpe/distributed.hpp>

#include "dist/mpi_factory.hpp"

namespace mpe::dist::detail {

const bool kMpiBuilt = true;

namespace {
void check(int rc, const char* call) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw Error(ErrorCode::internal, fmt::format("{} failed: {}", call, std::string(text, len)));
}

MPI_Op op_of(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum: return MPI_SUM;
    case ReduceOp::max: return MPI_MAX;
    case ReduceOp::min: return MPI_MIN;
  }
  return MPI_SUM;
}

int as_int(std::size_t n, const char* what) {
  if (n > static_cast<std::size_t>(INT_MAX)) {
    throw Error(ErrorCode::not_supported,
                fmt::format("{}: {} elements exceed MPI's int count", what, n));
  }
  return static_cast<int>(n);
}

// Finalises MPI at exit when mpengine initialised it.
struct Finaliser {
  ~Finaliser() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
  }
};

class MpiCommunicator final : public Communicator {
 public:
  explicit MpiCommunicator(MPI_Comm comm) : comm_(comm) {
    check(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
    check(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  const char* kind() const override { return "mpi"; }
  void barrier() override { check(MPI_Barrier(comm_), "MPI_Barrier"); }
  void all_reduce(double* data, std::size_t count, ReduceOp op) override {
    check(MPI_Allreduce(MPI_IN_PLACE, data, as_int(count, "all_reduce"), MPI_DOUBLE, op_of(op),
                        comm_),
          "MPI_Allreduce");
  }
  void all_reduce(std::int64_t* data, std::size_t count, ReduceOp op) override {
    check(MPI_Allreduce(MPI_IN_PLACE, data, as_int(count, "all_reduce"), MPI_INT64_T, op_of(op),
                        comm_),
          "MPI_Allreduce");
  }
  void broadcast(void* data, std::size_t bytes, int root) override {
    auto* p = static_cast<char*>(data);
    for (std::size_t done = 0; done < bytes;) {
      const std::size_t n = std::min<std::size_t>(bytes - done, INT_MAX);
      check(MPI_Bcast(p + done, static_cast<int>(n), MPI_BYTE, root, comm_), "MPI_Bcast");
      done += n;
    }
  }
  std::vector<std::uint8_t> all_gather(const std::vector<std::uint8_t>& mine) override {
    const int n = as_int(mine.size(), "all_gather");
    std::vector<int> counts(static_cast<std::size_t>(size_)), displs(counts.size());
    check(MPI_Allgather(&n, 1, MPI_INT, counts.data(), 1, MPI_INT, comm_), "MPI_Allgather");
    std::size_t total = 0;
    for (std::size_t r = 0; r < counts.size(); ++r) {
      displs[r] = as_int(total, "all_gather (total)");
      total += static_cast<std::size_t>(counts[r]);
    }
    std::vector<std::uint8_t> out(total);
    check(MPI_Allgatherv(mine.data(), n, MPI_BYTE, out.data(), counts.data(), displs.data(),
                         MPI_BYTE, comm_),
          "MPI_Allgatherv");
    return out;
  }
  std::vector<std::uint8_t> gather(const std::vector<std::uint8_t>& mine, int root) override {
    const int n = as_int(mine.size(), "gather");
    std::vector<int> counts(static_cast<std::size_t>(size_)), displs(counts.size());
    check(MPI_Gather(&n, 1, MPI_INT, counts.data(), 1, MPI_INT, root, comm_), "MPI_Gather");
    std::size_t total = 0;
    if (rank_ == root) {
      for (std::size_t r = 0; r < counts.size(); ++r) {
        displs[r] = as_int(total, "gather (total)");
        total += static_cast<std::size_t>(counts[r]);
      }
    }
    std::vector<std::uint8_t> out(total);
    check(MPI_Gatherv(mine.data(), n, MPI_BYTE, out.data(), counts.data(), displs.data(), MPI_BYTE,
                      root, comm_),
          "MPI_Gatherv");
    return out;
  }
  std::vector<std::vector<std::uint8_t>> all_to_all(
      const std::vector<std::vector<std::uint8_t>>& to) override {
    if (to.size() != static_cast<std::size_t>(size_)) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("all_to_all: {} buffers for {} ranks", to.size(), size_));
    }
    std::vector<int> send_n(to.size()), recv_n(to.size());
    for (std::size_t r = 0; r < to.size(); ++r) send_n[r] = as_int(to[r].size(), "all_to_all");
    check(MPI_Alltoall(send_n.data(), 1, MPI_INT, recv_n.data(), 1, MPI_INT, comm_),
          "MPI_Alltoall");
    std::vector<std::vector<std::uint8_t>> from(to.size());
    std::vector<Neighbour> pieces;
    for (std::size_t r = 0; r < to.size(); ++r) {
      from[r].resize(static_cast<std::size_t>(recv_n[r]));
      if (to[r].empty() && from[r].empty()) continue;
      pieces.push_back(
          {static_cast<int>(r), to[r].data(), to[r].size(), from[r].data(), from[r].size()});
    }
    neighbour_exchange(pieces);
    return from;
  }
  void neighbour_exchange(const std::vector<Neighbour>& neighbours) override {
    std::vector<MPI_Request> reqs;
    reqs.reserve(neighbours.size() * 2);
    for (const auto& n : neighbours) {
      if (n.peer < 0 || n.peer >= size_) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("neighbour_exchange: peer {} of {} ranks", n.peer, size_));
      }
      if (n.recv_bytes) {
        reqs.emplace_back();
        check(MPI_Irecv(n.recv, as_int(n.recv_bytes, "neighbour_exchange"), MPI_BYTE, n.peer, kTag,
                        comm_, &reqs.back()),
              "MPI_Irecv");
      }
    }
    for (const auto& n : neighbours) {
      if (n.send_bytes) {
        reqs.emplace_back();
        check(MPI_Isend(n.send, as_int(n.send_bytes, "neighbour_exchange"), MPI_BYTE, n.peer, kTag,
                        comm_, &reqs.back()),
              "MPI_Isend");
      }
    }
    check(MPI_Waitall(static_cast<int>(reqs.size()), reqs.data(), MPI_STATUSES_IGNORE),
          "MPI_Waitall");
  }
  [[noreturn]] void abort(int code, const std::string& message) override {
    std::fprintf(stderr, "%s\n", message.c_str());
    std::fflush(stderr);
    MPI_Abort(comm_, code);
    std::exit(code);  // MPI_Abort does not return; this satisfies [[noreturn]]
  }

 private:
  static constexpr int kTag = 1801;
  MPI_Comm comm_;
  int rank_ = 0, size_ = 1;
};
}  // namespace

std::shared_ptr<Communicator> make_mpi_world() {
  int initialized = 0;
  check(MPI_Initialized(&initialized), "MPI_Initialized");
  if (!initialized) {
    int provided = 0;
    // The engine's worker threads never call MPI; only the thread that called world() does.
    check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    static Finaliser finaliser;
  }
  return std::make_shared<MpiCommunicator>(MPI_COMM_WORLD);
}

std::shared_ptr<Communicator> make_mpi_from_fortran(int handle) {
  int initialized = 0;
  check(MPI_Initialized(&initialized), "MPI_Initialized");
  if (!initialized) {
    throw Error(ErrorCode::invalid_argument,
                "from_fortran_handle: MPI is not initialised in this process (the caller owns "
                "MPI: initialise it first, e.g. import mpi4py)");
  }
  MPI_Comm comm = MPI_Comm_f2c(static_cast<MPI_Fint>(handle));
  if (comm == MPI_COMM_NULL) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("from_fortran_handle: handle {} is MPI_COMM_NULL", handle));
  }
  return std::make_shared<MpiCommunicator>(comm);
}

}  // namespace mpe::dist::detail
