// The single-process communicator, the world() choice, shards and the collective error check.
// The MPI communicator lives in engine/dist/mpi/ (compiled only when MPI is built).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include <fmt/format.h>
#include <mpe/distributed.hpp>

#include "dist/mpi_factory.hpp"

namespace mpe::dist {

namespace {
class SingleCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  const char* kind() const override { return "single"; }
  void barrier() override {}
  void all_reduce(double*, std::size_t, ReduceOp) override {}
  void all_reduce(std::int64_t*, std::size_t, ReduceOp) override {}
  void broadcast(void*, std::size_t, int root) override { require_root(root); }
  std::vector<std::uint8_t> all_gather(const std::vector<std::uint8_t>& mine) override {
    return mine;
  }
  std::vector<std::uint8_t> gather(const std::vector<std::uint8_t>& mine, int root) override {
    require_root(root);
    return mine;
  }
  std::vector<std::vector<std::uint8_t>> all_to_all(
      const std::vector<std::vector<std::uint8_t>>& to) override {
    if (to.size() != 1) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("all_to_all: {} buffers for 1 rank", to.size()));
    }
    return to;
  }
  void neighbour_exchange(const std::vector<Neighbour>& neighbours) override {
    for (const auto& n : neighbours) {  // only exchanges with itself can match on one rank
      if (n.peer != 0 || n.send_bytes != n.recv_bytes) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("neighbour_exchange: peer {} ({} bytes out, {} in) on 1 rank",
                                n.peer, n.send_bytes, n.recv_bytes));
      }
      if (n.send_bytes) std::memmove(n.recv, n.send, n.send_bytes);
    }
  }
  [[noreturn]] void abort(int code, const std::string& message) override {
    std::fprintf(stderr, "%s\n", message.c_str());
    std::fflush(stderr);
    std::exit(code);
  }

 private:
  static void require_root(int root) {
    if (root != 0) {
      throw Error(ErrorCode::invalid_argument, fmt::format("root {} of 1 rank", root));
    }
  }
};

bool has_env(const char* name) {
  const char* v = std::getenv(name);
  return v && *v;
}
}  // namespace

bool mpi_built() noexcept { return detail::kMpiBuilt; }

bool launched_by_mpi() noexcept {
  return has_env("OMPI_COMM_WORLD_SIZE") || has_env("PMIX_RANK") || has_env("PMI_SIZE") ||
         has_env("PMI_RANK") || has_env("MPI_LOCALNRANKS");
}

std::shared_ptr<Communicator> single() { return std::make_shared<SingleCommunicator>(); }

std::shared_ptr<Communicator> world() {
  static std::mutex m;
  static std::shared_ptr<Communicator> w;
  std::lock_guard<std::mutex> lock(m);
  if (w) return w;
  if (mpi_built() && launched_by_mpi()) {
    w = detail::make_mpi_world();
  } else if (has_env("MPE_UNIQUE_ID")) {  // started without mpirun: the TCP rendezvous
    auto number = [](const char* name) {
      const char* v = std::getenv(name);
      char* end = nullptr;
      const long x = v ? std::strtol(v, &end, 10) : -1;
      if (!v || !*v || *end || x < 0 || x > (1 << 24)) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("MPE_UNIQUE_ID is set, so {} must be a rank number, got '{}'", name,
                                v ? v : ""));
      }
      return static_cast<int>(x);
    };
    w = from_unique_id(number("MPE_RANK"), number("MPE_WORLD_SIZE"), std::getenv("MPE_UNIQUE_ID"));
  } else {
    w = single();
  }
  return w;
}

std::shared_ptr<Communicator> from_fortran_handle(int handle) {
  if (!mpi_built()) {
    throw Error(ErrorCode::not_supported,
                "from_fortran_handle: this build has no MPI (configure with MPE_MPI=ON)");
  }
  return detail::make_mpi_from_fortran(handle);
}

Shard shard(std::int64_t total, int rank, int ranks) {
  if (total < 0 || ranks < 1 || rank < 0 || rank >= ranks) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("shard: {} items, rank {} of {}", total, rank, ranks));
  }
  const std::int64_t base = total / ranks, extra = total % ranks;
  Shard s;
  s.count = base + (rank < extra ? 1 : 0);
  s.first = rank * base + std::min<std::int64_t>(rank, extra);
  return s;
}

void check_all(Communicator& comm, const Error* local_error) {
  std::int64_t failed = local_error ? 1 : 0;
  comm.all_reduce(&failed, 1, ReduceOp::sum);
  if (failed == 0) return;
  // Every rank sends [code (4 bytes)][failed (1)][message]; sizes differ, all_gather takes them.
  const std::string msg_out = local_error ? local_error->message() : std::string();
  std::vector<std::uint8_t> mine(5 + msg_out.size(), 0);
  if (local_error) {
    const std::int32_t code = static_cast<std::int32_t>(local_error->code());
    std::memcpy(mine.data(), &code, 4);
    mine[4] = 1;
    if (!msg_out.empty()) std::memcpy(mine.data() + 5, msg_out.data(), msg_out.size());
  }
  const std::int64_t len = static_cast<std::int64_t>(mine.size());
  std::vector<std::int64_t> lens(static_cast<std::size_t>(comm.size()), 0);
  lens[static_cast<std::size_t>(comm.rank())] = len;
  comm.all_reduce(lens.data(), lens.size(), ReduceOp::sum);
  const auto all = comm.all_gather(mine);
  std::size_t at = 0;
  int first = -1;
  ErrorCode first_code = ErrorCode::internal;
  std::string first_msg;
  for (int r = 0; r < comm.size(); ++r) {
    const auto n = static_cast<std::size_t>(lens[static_cast<std::size_t>(r)]);
    if (all[at + 4] == 1) {
      std::int32_t code = 0;
      std::memcpy(&code, all.data() + at, 4);
      const std::string msg(reinterpret_cast<const char*>(all.data()) + at + 5, n - 5);
      if (first < 0) {
        first = r;
        first_code = static_cast<ErrorCode>(code);
        first_msg = msg;
      }
      if (comm.rank() == 0 && failed > 1) {
        std::fprintf(stderr, "mpe: rank %d of %d failed: %s: %s\n", r, comm.size(),
                     error_code_name(static_cast<ErrorCode>(code)), msg.c_str());
      }
    }
    at += n;
  }
  throw AgreedError(first_code, fmt::format("rank {} of {}: {}", first, comm.size(), first_msg),
                    first);
}

}  // namespace mpe::dist
