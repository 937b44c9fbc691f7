// The TCP rendezvous (dist::from_unique_id): every process knows its rank, the world size and
// one shared id naming rank 0's address (or a file where rank 0 writes it). Each rank tells
// rank 0 its own listening port, rank 0 answers with every rank's address, and each pair
// connects directly (a full mesh), for processes started without an MPI launcher (torchrun,
// Ray, a shell loop).
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "dist/tcp.hpp"

namespace mpe::dist {
using namespace tcp;  // this file's only helpers
namespace {

constexpr std::uint32_t kMagic = 0x4d504531;  // "MPE1"

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
  return tcp::make_communicator(rank, size, conn.release());
}

}  // namespace mpe::dist
