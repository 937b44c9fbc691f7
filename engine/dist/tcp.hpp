#pragma once
// Socket helpers of the TCP communicator (tcp_sockets.cpp) and its factory
// (tcp_communicator.cpp), shared with the rendezvous (tcp_rendezvous.cpp). POSIX sockets.
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <mpe/distributed.hpp>

namespace mpe::dist::tcp {

/// Throws Error(io_error) "tcp communicator: <what>".
[[noreturn]] void io_fail(const std::string& what);
/// strerror(errno).
std::string sys_error();
/// Seconds on a monotonic clock.
double now_s();
/// This machine's host name ("localhost" when it has none).
std::string my_hostname();
/// Blocking whole-buffer send / receive (the rendezvous); io_error on failure or EOF.
void send_all(int fd, const void* data, std::size_t n);
void recv_all(int fd, void* data, std::size_t n);
/// A listening socket on `port` (0: any free one) of every interface; *bound = its port.
int listen_on(int port, int* bound);
/// Connects to the address `where` gives, retrying until `deadline` (now_s() clock).
int connect_to(const std::function<std::pair<std::string, int>()>& where, double deadline);
/// Accepts one connection before `deadline`; *peer_ip = its IPv4 address.
int accept_before(int listener, double deadline, std::string* peer_ip);

/// The communicator over connected sockets: fds[r] is the connection to rank r (-1 for
/// itself). Takes ownership of the fds.
std::shared_ptr<Communicator> make_communicator(int rank, int size, std::vector<int> fds);

}  // namespace mpe::dist::tcp
