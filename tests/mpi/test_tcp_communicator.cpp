// The TCP rendezvous (dist::from_unique_id) inside one process: threads play the ranks. The
// suite under run_tcp_ranks.sh checks it again with real processes.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <string>
#include <thread>

#include <mpe/distributed.hpp>

namespace mpe {
namespace {

std::string fresh_dir() {
  char tmpl[] = "/tmp/mpe_tcp_XXXXXX";
  const char* d = ::mkdtemp(tmpl);
  return d ? d : "/tmp";
}

// These tests make their own ranks (threads): once is enough, in the one-process suite.
#define ONCE_ONLY() \
  if (dist::world()->size() > 1) GTEST_SKIP() << "runs in the one-process suite"

// Runs body(comm) on `n` threads, each joining the rendezvous as one rank.
void with_ranks(int n, const std::string& id,
                const std::function<void(dist::Communicator&)>& body) {
  std::vector<std::thread> ts;
  std::vector<std::string> errors(static_cast<std::size_t>(n));
  for (int r = 0; r < n; ++r) {
    ts.emplace_back([&, r] {
      try {
        auto c = dist::from_unique_id(r, n, id, 30.0);
        EXPECT_EQ(c->rank(), r);
        EXPECT_EQ(c->size(), n);
        body(*c);
      } catch (const std::exception& e) {
        errors[static_cast<std::size_t>(r)] = e.what();
      }
    });
  }
  for (auto& t : ts) t.join();
  for (int r = 0; r < n; ++r) EXPECT_EQ(errors[static_cast<std::size_t>(r)], "") << "rank " << r;
}

TEST(DistTcp, CollectivesAndLargeExchangesAcrossThreads) {
  ONCE_ONLY();
  const std::string id = "file://" + fresh_dir() + "/rendezvous";
  with_ranks(3, id, [](dist::Communicator& c) {
    EXPECT_STREQ(c.kind(), "tcp");
    double d = c.rank() + 0.25;
    c.all_reduce(&d, 1, dist::ReduceOp::sum);
    EXPECT_EQ(d, 3.75);
    std::int64_t m = c.rank();
    c.all_reduce(&m, 1, dist::ReduceOp::max);
    EXPECT_EQ(m, 2);
    const auto all = c.all_gather(std::vector<std::uint8_t>(static_cast<std::size_t>(c.rank()), 9));
    EXPECT_EQ(all.size(), 3u);
    // Every pair swaps 4 MB at once in both directions: more than the sockets buffer.
    const std::size_t n = std::size_t(1) << 20;
    std::vector<std::vector<float>> out(3, std::vector<float>(n)), in(3, std::vector<float>(n, -1));
    std::vector<dist::Neighbour> peers;
    for (int p = 0; p < 3; ++p) {
      if (p == c.rank()) continue;
      for (std::size_t i = 0; i < n; ++i)
        out[static_cast<std::size_t>(p)][i] = float(c.rank() * 10 + p) + float(i % 7);
      peers.push_back({p, out[static_cast<std::size_t>(p)].data(), n * 4,
                       in[static_cast<std::size_t>(p)].data(), n * 4});
    }
    c.neighbour_exchange(peers);
    for (int p = 0; p < 3; ++p) {
      if (p == c.rank()) continue;
      const auto& v = in[static_cast<std::size_t>(p)];
      EXPECT_EQ(v[0], float(p * 10 + c.rank()));
      EXPECT_EQ(v[n - 1], float(p * 10 + c.rank()) + float((n - 1) % 7));
    }
    c.barrier();
  });
}

TEST(DistTcp, AddressFormAndMismatchedSizes) {
  ONCE_ONLY();
  // A free port: bind port 0, read it, close (the rendezvous binds it again at once).
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  socklen_t len = sizeof(a);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  const int port = ntohs(a.sin_port);
  ::close(fd);
  with_ranks(2, "tcp://127.0.0.1:" + std::to_string(port), [](dist::Communicator& c) {
    std::vector<std::vector<std::uint8_t>> to{{1, 2}, {3}};
    const auto from = c.all_to_all(to);
    EXPECT_EQ(from[0],
              c.rank() == 0 ? std::vector<std::uint8_t>({1, 2}) : std::vector<std::uint8_t>({3}));
    EXPECT_EQ(from[1],
              c.rank() == 0 ? std::vector<std::uint8_t>({1, 2}) : std::vector<std::uint8_t>({3}));
    // A send the receiver does not expect in that size is an error, not a hang or garbage.
    double x[2] = {1, 2};
    if (c.rank() == 0) {
      c.neighbour_exchange({{1, x, sizeof x, nullptr, 0}});
    } else {
      EXPECT_THROW(c.neighbour_exchange({{0, nullptr, 0, x, sizeof(double)}}), Error);
    }
  });
}

TEST(DistTcp, APeerThatLeavesFailsTheOthersInsteadOfHanging) {
  ONCE_ONLY();
  const std::string id = "file://" + fresh_dir() + "/rendezvous";
  with_ranks(2, id, [](dist::Communicator& c) {
    if (c.rank() == 1) return;  // leaves: its connections close
    double x = 1;
    try {
      c.all_reduce(&x, 1, dist::ReduceOp::sum);
      ADD_FAILURE() << "all_reduce without the peer returned";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::io_error);
      EXPECT_NE(std::string(e.what()).find("rank 1 closed"), std::string::npos) << e.what();
    }
  });
}

TEST(DistTcp, BadIdsAndTimeoutsFailClearly) {
  ONCE_ONLY();
  EXPECT_THROW(dist::from_unique_id(0, 2, "somewhere"), Error);
  EXPECT_THROW(dist::from_unique_id(0, 2, "tcp://host-without-port"), Error);
  EXPECT_THROW(dist::from_unique_id(2, 2, "file:///tmp/x"), Error);
  EXPECT_EQ(dist::from_unique_id(0, 1, "file:///nonexistent/x")->size(), 1);
  // Rank 1 waits for a rank 0 that never comes: io_error after the timeout, naming the file.
  const std::string path = fresh_dir() + "/never";
  try {
    dist::from_unique_id(1, 2, "file://" + path, 0.3);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::io_error);
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace mpe
