// A communicator over TCP sockets for processes started without an MPI launcher (torchrun,
// Ray, a shell loop): every process knows its rank, the world size and one shared id naming
// rank 0's address (or a file where rank 0 writes it). Rendezvous through rank 0, then a full
// mesh of connections (one ordered stream per pair); the collectives are point-to-point rounds
// through rank 0 (reductions in rank order, so every rank gets the same bits).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <mpe/distributed.hpp>

namespace mpe::dist {
namespace {

constexpr std::uint32_t kMagic = 0x4d504531;  // "MPE1"

[[noreturn]] void io_fail(const std::string& what) {
  throw Error(ErrorCode::io_error, fmt::format("tcp communicator: {}", what));
}
std::string sys_error() { return std::strerror(errno); }

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string my_hostname() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0) return "localhost";
  return name;
}

void send_all(int fd, const void* data, std::size_t n) {
  const auto* p = static_cast<const char*>(data);
  while (n) {
    const ssize_t k = ::send(fd, p, n, MSG_NOSIGNAL);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) io_fail("send failed: " + sys_error());
    p += k;
    n -= static_cast<std::size_t>(k);
  }
}

void recv_all(int fd, void* data, std::size_t n) {
  auto* p = static_cast<char*>(data);
  while (n) {
    const ssize_t k = ::recv(fd, p, n, 0);
    if (k < 0 && errno == EINTR) continue;
    if (k == 0) io_fail("the peer closed the connection during the rendezvous");
    if (k < 0) io_fail("recv failed: " + sys_error());
    p += k;
    n -= static_cast<std::size_t>(k);
  }
}

// A listening socket on `port` (0: any free one) of every interface; returns the fd and port.
int listen_on(int port, int* bound) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) io_fail("socket: " + sys_error());
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_ANY);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || ::listen(fd, 4096) != 0) {
    const std::string e = sys_error();
    ::close(fd);
    io_fail(fmt::format("cannot listen on port {}: {}", port, e));
  }
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  *bound = ntohs(a.sin_port);
  return fd;
}

// Connects to the address `where` gives, retrying until `deadline` (the listener may not be up
// yet; a rendezvous file may still hold an older run's address, so it is read again each time).
int connect_to(const std::function<std::pair<std::string, int>()>& where, double deadline) {
  std::string last = "no attempt";
  while (true) {
    auto [host, port] = where();
    addrinfo hints{};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    const std::string service = std::to_string(port);
    int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res);
    if (rc != 0 && host == my_hostname()) {  // this machine's name, not in its resolver
      host = "127.0.0.1";
      rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res);
    }
    if (rc != 0) {
      last = fmt::format("cannot resolve '{}': {}", host, ::gai_strerror(rc));
    } else {
      for (addrinfo* ai = res; ai; ai = ai->ai_next) {
        const int fd = ::socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) continue;
        if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
          ::freeaddrinfo(res);
          return fd;
        }
        last = sys_error();
        ::close(fd);
      }
      ::freeaddrinfo(res);
    }
    if (now_s() > deadline) io_fail(fmt::format("cannot connect to {}:{}: {}", host, port, last));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

int accept_before(int listener, double deadline, std::string* peer_ip) {
  while (true) {
    pollfd p{listener, POLLIN, 0};
    const int left_ms = static_cast<int>(std::max(0.0, deadline - now_s()) * 1000);
    const int rc = ::poll(&p, 1, std::min(left_ms, 1000));
    if (rc < 0 && errno != EINTR) io_fail("poll: " + sys_error());
    if (rc > 0) {
      sockaddr_in a{};
      socklen_t len = sizeof(a);
      const int fd = ::accept(listener, reinterpret_cast<sockaddr*>(&a), &len);
      if (fd >= 0) {
        char ip[INET_ADDRSTRLEN] = {};
        ::inet_ntop(AF_INET, &a.sin_addr, ip, sizeof(ip));
        *peer_ip = ip;
        return fd;
      }
    }
    if (now_s() > deadline) io_fail("the other ranks did not all connect in time");
  }
}

struct Hello {
  std::uint32_t magic = kMagic;
  std::int32_t rank = 0, size = 0, port = 0;
};

// "tcp://HOST:PORT" or "file://PATH".
struct Id {
  std::string path, host;
  int port = 0;
};
Id parse_id(const std::string& id) {
  Id out;
  if (id.rfind("file://", 0) == 0 && id.size() > 7) {
    out.path = id.substr(7);
    return out;
  }
  if (id.rfind("tcp://", 0) == 0) {
    const std::string hp = id.substr(6);
    const auto colon = hp.rfind(':');
    char* end = nullptr;
    const long port =
        colon == std::string::npos ? -1 : std::strtol(hp.c_str() + colon + 1, &end, 10);
    if (colon != std::string::npos && colon > 0 && end && *end == '\0' && port > 0 &&
        port < 65536) {
      out.host = hp.substr(0, colon);
      out.port = static_cast<int>(port);
      return out;
    }
  }
  throw Error(ErrorCode::invalid_argument,
              fmt::format("unique id '{}': expected tcp://HOST:PORT or file://PATH", id));
}

// Rank 0's address from the rendezvous file, waiting until rank 0 has written it.
Id read_id_file(const std::string& path, double deadline) {
  while (true) {
    std::ifstream in(path);
    std::string line;
    if (in && std::getline(in, line)) {
      const auto colon = line.rfind(':');
      if (colon != std::string::npos) {
        Id id;
        id.host = line.substr(0, colon);
        id.port = std::atoi(line.c_str() + colon + 1);
        if (id.port > 0) return id;
      }
    }
    if (now_s() > deadline) io_fail(fmt::format("rank 0 did not write '{}' in time", path));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

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
struct FdList {
  std::vector<int> fds;
  ~FdList() {
    for (int fd : fds)
      if (fd >= 0) ::close(fd);
  }
  std::vector<int> release() { return std::exchange(fds, {}); }
};
}  // namespace

std::shared_ptr<Communicator> from_unique_id(int rank, int size, const std::string& unique_id,
                                             double timeout_seconds) {
  if (size < 1 || rank < 0 || rank >= size) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("from_unique_id: rank {} of {} ranks", rank, size));
  }
  if (!(timeout_seconds > 0)) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("from_unique_id: timeout {} s must be positive", timeout_seconds));
  }
  Id id = parse_id(unique_id);
  if (size == 1) return single();
  const double deadline = now_s() + timeout_seconds;
  FdList conn;
  conn.fds.assign(static_cast<std::size_t>(size), -1);
  FdList listener;
  int my_port = 0;
  if (rank == 0) {
    listener.fds.push_back(listen_on(id.path.empty() ? id.port : 0, &my_port));
    if (!id.path.empty()) {  // publish host:port, atomically (others may be polling the file)
      const std::string tmp = fmt::format("{}.{}.tmp", id.path, ::getpid());
      {
        std::ofstream out(tmp);
        out << my_hostname() << ':' << my_port << '\n';
        if (!out) io_fail(fmt::format("cannot write '{}'", tmp));
      }
      if (std::rename(tmp.c_str(), id.path.c_str()) != 0)
        io_fail(fmt::format("cannot write '{}': {}", id.path, sys_error()));
    }
    std::vector<std::string> ip(static_cast<std::size_t>(size));
    std::vector<std::int32_t> port(static_cast<std::size_t>(size), 0);
    for (int k = 1; k < size; ++k) {
      std::string peer_ip;
      const int fd = accept_before(listener.fds[0], deadline, &peer_ip);
      Hello h;
      try {
        recv_all(fd, &h, sizeof(h));
      } catch (...) {
        ::close(fd);
        throw;
      }
      if (h.magic != kMagic || h.size != size || h.rank < 1 || h.rank >= size ||
          conn.fds[static_cast<std::size_t>(h.rank)] >= 0) {
        ::close(fd);
        io_fail(
            fmt::format("a process said it is rank {} of {} (this is rank 0 of {}; a "
                        "duplicate rank, another world size, or not mpengine)",
                        h.rank, h.size, size));
      }
      conn.fds[static_cast<std::size_t>(h.rank)] = fd;
      ip[static_cast<std::size_t>(h.rank)] = peer_ip;
      port[static_cast<std::size_t>(h.rank)] = h.port;
    }
    std::string table;  // "ip port\n" per rank 1..size-1
    for (int r = 1; r < size; ++r)
      table += fmt::format("{} {}\n", ip[static_cast<std::size_t>(r)],
                           port[static_cast<std::size_t>(r)]);
    const std::uint64_t len = table.size();
    for (int r = 1; r < size; ++r) {
      send_all(conn.fds[static_cast<std::size_t>(r)], &len, 8);
      send_all(conn.fds[static_cast<std::size_t>(r)], table.data(), table.size());
    }
  } else {
    listener.fds.push_back(listen_on(0, &my_port));
    conn.fds[0] = connect_to(
        [&] {
          const Id at = id.path.empty() ? id : read_id_file(id.path, deadline);
          return std::make_pair(at.host, at.port);
        },
        deadline);
    Hello h;
    h.rank = rank;
    h.size = size;
    h.port = my_port;
    send_all(conn.fds[0], &h, sizeof(h));
    std::uint64_t len = 0;
    recv_all(conn.fds[0], &len, 8);
    std::string table(static_cast<std::size_t>(len), '\0');
    recv_all(conn.fds[0], table.data(), table.size());
    std::vector<std::string> ip(static_cast<std::size_t>(size));
    std::vector<int> port(static_cast<std::size_t>(size), 0);
    std::size_t at = 0;
    for (int r = 1; r < size; ++r) {
      const auto eol = table.find('\n', at);
      const auto sp = table.find(' ', at);
      if (eol == std::string::npos || sp == std::string::npos || sp > eol)
        io_fail("bad address table");
      ip[static_cast<std::size_t>(r)] = table.substr(at, sp - at);
      port[static_cast<std::size_t>(r)] = std::atoi(table.c_str() + sp + 1);
      at = eol + 1;
    }
    // The mesh: connect to every lower rank (their listeners exist: each opened it before
    // joining rank 0), then accept every higher one.
    for (int r = 1; r < rank; ++r) {
      const int fd = connect_to(
          [&] {
            return std::make_pair(ip[static_cast<std::size_t>(r)],
                                  port[static_cast<std::size_t>(r)]);
          },
          deadline);
      conn.fds[static_cast<std::size_t>(r)] = fd;
      Hello me;
      me.rank = rank;
      me.size = size;
      send_all(fd, &me, sizeof(me));
    }
    for (int k = rank + 1; k < size; ++k) {
      std::string peer_ip;
      const int fd = accept_before(listener.fds[0], deadline, &peer_ip);
      Hello hh;
      try {
        recv_all(fd, &hh, sizeof(hh));
      } catch (...) {
        ::close(fd);
        throw;
      }
      if (hh.magic != kMagic || hh.size != size || hh.rank <= rank || hh.rank >= size ||
          conn.fds[static_cast<std::size_t>(hh.rank)] >= 0) {
        ::close(fd);
        io_fail(fmt::format("rank {}: unexpected connection from 'rank {} of {}'", rank, hh.rank,
                            hh.size));
      }
      conn.fds[static_cast<std::size_t>(hh.rank)] = fd;
    }
  }
  return std::make_shared<TcpCommunicator>(rank, size, conn.release());
}

}  // namespace mpe::dist
