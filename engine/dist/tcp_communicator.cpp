// A communicator over TCP sockets (dist::from_unique_id, tcp_rendezvous.cpp makes the
// connections): one ordered stream per pair of ranks; a round's transfers progress together
// (poll); the collectives are point-to-point rounds through rank 0 (reductions in rank order,
// so every rank gets the same bits).
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "dist/tcp.hpp"

namespace mpe::dist::tcp {
namespace {

class TcpCommunicator final : public Communicator {
 public:
  TcpCommunicator(int rank, int size, std::vector<int> fds)
      : rank_(rank), size_(size), fd_(std::move(fds)) {
    for (int fd : fd_) {
      if (fd < 0) continue;
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    }
  }
  ~TcpCommunicator() override {
    for (int fd : fd_)
      if (fd >= 0) ::close(fd);
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  const char* kind() const override { return "tcp"; }
  void barrier() override {
    std::int64_t x = 0;
    all_reduce(&x, 1, ReduceOp::sum);
  }
  void all_reduce(double* data, std::size_t count, ReduceOp op) override {
    reduce_typed(data, count, op);
  }
  void all_reduce(std::int64_t* data, std::size_t count, ReduceOp op) override {
    reduce_typed(data, count, op);
  }
  void broadcast(void* data, std::size_t bytes, int root) override {
    check_rank(root, "broadcast root");
    std::vector<Neighbour> n;
    if (rank_ == root) {
      for (int r = 0; r < size_; ++r)
        if (r != root) n.push_back({r, data, bytes, nullptr, 0});
    } else {
      n.push_back({root, nullptr, 0, data, bytes});
    }
    neighbour_exchange(n);
  }
  std::vector<std::uint8_t> gather(const std::vector<std::uint8_t>& mine, int root) override {
    check_rank(root, "gather root");
    const std::uint64_t my_n = mine.size();
    std::vector<std::uint64_t> sizes(static_cast<std::size_t>(size_), 0);
    sizes[static_cast<std::size_t>(rank_)] = my_n;
    std::vector<Neighbour> n;
    if (rank_ == root) {
      for (int r = 0; r < size_; ++r)
        if (r != root) n.push_back({r, nullptr, 0, &sizes[static_cast<std::size_t>(r)], 8});
    } else {
      n.push_back({root, &my_n, 8, nullptr, 0});
    }
    neighbour_exchange(n);
    std::vector<std::uint8_t> out;
    n.clear();
    if (rank_ == root) {
      std::uint64_t total = 0;
      for (auto s : sizes) total += s;
      out.resize(static_cast<std::size_t>(total));
      std::size_t at = 0;
      for (int r = 0; r < size_; ++r) {
        const auto s = static_cast<std::size_t>(sizes[static_cast<std::size_t>(r)]);
        if (r == root) {
          if (s) std::memcpy(out.data() + at, mine.data(), s);
        } else {
          n.push_back({r, nullptr, 0, out.data() + at, s});
        }
        at += s;
      }
    } else {
      n.push_back({root, mine.data(), mine.size(), nullptr, 0});
    }
    neighbour_exchange(n);
    return out;
  }
  std::vector<std::uint8_t> all_gather(const std::vector<std::uint8_t>& mine) override {
    std::vector<std::uint8_t> all = gather(mine, 0);
    std::uint64_t total = all.size();
    broadcast(&total, 8, 0);
    all.resize(static_cast<std::size_t>(total));
    broadcast(all.data(), all.size(), 0);
    return all;
  }
  std::vector<std::vector<std::uint8_t>> all_to_all(
      const std::vector<std::vector<std::uint8_t>>& to) override {
    if (to.size() != static_cast<std::size_t>(size_)) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("all_to_all: {} buffers for {} ranks", to.size(), size_));
    }
    std::vector<std::uint64_t> out_n(to.size()), in_n(to.size(), 0);
    std::vector<Neighbour> n;
    for (std::size_t r = 0; r < to.size(); ++r) {
      out_n[r] = to[r].size();
      n.push_back({static_cast<int>(r), &out_n[r], 8, &in_n[r], 8});
    }
    neighbour_exchange(n);
    std::vector<std::vector<std::uint8_t>> from(to.size());
    n.clear();
    for (std::size_t r = 0; r < to.size(); ++r) {
      from[r].resize(static_cast<std::size_t>(in_n[r]));
      n.push_back(
          {static_cast<int>(r), to[r].data(), to[r].size(), from[r].data(), from[r].size()});
    }
    neighbour_exchange(n);
    return from;
  }
  // Each non-empty buffer travels as an 8-byte length and the bytes, on the pair's stream; all
  // of a round's transfers progress together (poll), so large exchanges cannot deadlock.
  void neighbour_exchange(const std::vector<Neighbour>& neighbours) override {
    struct Xfer {
      int fd;
      int peer;
      const std::uint8_t* out;
      std::uint8_t* in;
      std::size_t out_n, in_n, out_done = 0, in_done = 0;
      std::uint64_t out_hdr = 0, in_hdr = 0;
    };
    std::vector<Xfer> xs;
    std::vector<char> seen(static_cast<std::size_t>(size_), 0);
    for (const Neighbour& n : neighbours) {
      check_rank(n.peer, "neighbour_exchange peer");
      if (seen[static_cast<std::size_t>(n.peer)]++) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("neighbour_exchange: peer {} listed twice", n.peer));
      }
      if (n.peer == rank_) {  // with itself: a copy
        if (n.send_bytes != n.recv_bytes) {
          throw Error(ErrorCode::invalid_argument,
                      fmt::format("neighbour_exchange: {} bytes to itself, {} expected",
                                  n.send_bytes, n.recv_bytes));
        }
        if (n.send_bytes) std::memmove(n.recv, n.send, n.send_bytes);
        continue;
      }
      if (!n.send_bytes && !n.recv_bytes) continue;
      Xfer x{fd_[static_cast<std::size_t>(n.peer)],    n.peer,
             static_cast<const std::uint8_t*>(n.send), static_cast<std::uint8_t*>(n.recv),
             n.send_bytes ? n.send_bytes + 8 : 0,      n.recv_bytes ? n.recv_bytes + 8 : 0};
      x.out_hdr = n.send_bytes;
      xs.push_back(x);
    }
    std::vector<pollfd> pf;
    std::vector<std::size_t> which;
    while (true) {
      pf.clear();
      which.clear();
      for (std::size_t k = 0; k < xs.size(); ++k) {
        const Xfer& x = xs[k];
        short ev = 0;
        if (x.out_done < x.out_n) ev |= POLLOUT;
        if (x.in_done < x.in_n) ev |= POLLIN;
        if (ev) {
          pf.push_back({x.fd, ev, 0});
          which.push_back(k);
        }
      }
      if (pf.empty()) return;
      const int rc = ::poll(pf.data(), static_cast<nfds_t>(pf.size()), -1);
      if (rc < 0) {
        if (errno == EINTR) continue;
        io_fail("poll: " + sys_error());
      }
      for (std::size_t i = 0; i < pf.size(); ++i) {
        Xfer& x = xs[which[i]];
        if (pf[i].revents & (POLLOUT | POLLERR | POLLHUP))
          progress_send(x.fd, x.peer, x.out_hdr, x.out, x.out_n, x.out_done);
        if (pf[i].revents & (POLLIN | POLLERR | POLLHUP)) {
          progress_recv(x.fd, x.peer, x.in_hdr, x.in, x.in_n, x.in_done);
        }
      }
    }
  }
  [[noreturn]] void abort(int code, const std::string& message) override {
    std::fprintf(stderr, "%s\n", message.c_str());
    std::fflush(stderr);
    for (int fd : fd_)  // the peers see the connection close and fail instead of waiting
      if (fd >= 0) ::close(fd);
    std::_Exit(code);
  }

 private:
  void check_rank(int r, const char* what) const {
    if (r < 0 || r >= size_)
      throw Error(ErrorCode::invalid_argument, fmt::format("{} {} of {} ranks", what, r, size_));
  }
  // Moves the next bytes of [8-byte header][payload] (total n) as far as the socket takes.
  void progress_send(int fd, int peer, std::uint64_t hdr, const std::uint8_t* data, std::size_t n,
                     std::size_t& done) {
    while (done < n) {
      const std::uint8_t* p =
          done < 8 ? reinterpret_cast<const std::uint8_t*>(&hdr) + done : data + (done - 8);
      const std::size_t len = done < 8 ? 8 - done : n - done;
      const ssize_t k = ::send(fd, p, len, MSG_NOSIGNAL);
      if (k < 0 && errno == EINTR) continue;
      if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (k <= 0)
        io_fail(fmt::format("rank {}: sending to rank {} failed: {}", rank_, peer, sys_error()));
      done += static_cast<std::size_t>(k);
    }
  }
  void progress_recv(int fd, int peer, std::uint64_t& hdr, std::uint8_t* data, std::size_t n,
                     std::size_t& done) {
    while (done < n) {
      std::uint8_t* p = done < 8 ? reinterpret_cast<std::uint8_t*>(&hdr) + done : data + (done - 8);
      const std::size_t len = done < 8 ? 8 - done : n - done;
      const ssize_t k = ::recv(fd, p, len, 0);
      if (k < 0 && errno == EINTR) continue;
      if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (k == 0) {
        io_fail(fmt::format("rank {}: rank {} closed its connection (it ended or failed)", rank_,
                            peer));
      }
      if (k < 0)
        io_fail(
            fmt::format("rank {}: receiving from rank {} failed: {}", rank_, peer, sys_error()));
      done += static_cast<std::size_t>(k);
      if (done == 8 && hdr != n - 8) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("neighbour_exchange: rank {} sent {} bytes, rank {} expected {} "
                                "(the ranks' calls do not match)",
                                peer, hdr, rank_, n - 8));
      }
    }
  }
  template <class T>
  void reduce_typed(T* data, std::size_t count, ReduceOp op) {
    if (size_ == 1 || count == 0) return;
    const std::size_t bytes = count * sizeof(T);
    if (rank_ == 0) {
      std::vector<T> all(count * static_cast<std::size_t>(size_));
      std::vector<Neighbour> n;
      for (int r = 1; r < size_; ++r)
        n.push_back({r, nullptr, 0, all.data() + count * static_cast<std::size_t>(r), bytes});
      neighbour_exchange(n);
      for (int r = 1; r < size_; ++r) {  // rank order: every run adds the same way
        const T* v = all.data() + count * static_cast<std::size_t>(r);
        for (std::size_t i = 0; i < count; ++i) {
          switch (op) {
            case ReduceOp::sum: data[i] += v[i]; break;
            case ReduceOp::max: data[i] = std::max(data[i], v[i]); break;
            case ReduceOp::min: data[i] = std::min(data[i], v[i]); break;
          }
        }
      }
      n.clear();
      for (int r = 1; r < size_; ++r) n.push_back({r, data, bytes, nullptr, 0});
      neighbour_exchange(n);
    } else {
      neighbour_exchange({{0, data, bytes, nullptr, 0}});
      neighbour_exchange({{0, nullptr, 0, data, bytes}});
    }
  }

  int rank_, size_;
  std::vector<int> fd_;  // connection to each rank (-1 for itself)
};

// Closes the fds it holds unless released (setup failed half-way).
}  // namespace

std::shared_ptr<Communicator> make_communicator(int rank, int size, std::vector<int> fds) {
  return std::make_shared<TcpCommunicator>(rank, size, std::move(fds));
}

}  // namespace mpe::dist::tcp
