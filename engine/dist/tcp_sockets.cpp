// Socket helpers of the TCP communicator (engine/dist/tcp.hpp): blocking transfers for the
// rendezvous, listening, connecting with retries, accepting with a deadline.
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
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "dist/tcp.hpp"

namespace mpe::dist::tcp {

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

}  // namespace mpe::dist::tcp
