// The communicator's collectives and the collective error check, on whatever world this runs
// in: one process (no launcher, or no MPI built) or `mpirun -np N` (ctest runs 1, 2 and 4).
#include <gtest/gtest.h>

#include <numeric>

#include <mpe/distributed.hpp>

namespace mpe {
namespace {

dist::Communicator& W() { return *dist::world(); }

TEST(DistCommunicator, AllReduceSumMaxMin) {
  const int r = W().rank(), P = W().size();
  double d[3] = {r + 0.5, static_cast<double>(r), static_cast<double>(r)};
  W().all_reduce(d, 1, dist::ReduceOp::sum);
  W().all_reduce(d + 1, 1, dist::ReduceOp::max);
  W().all_reduce(d + 2, 1, dist::ReduceOp::min);
  EXPECT_DOUBLE_EQ(d[0], P * (P - 1) / 2.0 + 0.5 * P);
  EXPECT_DOUBLE_EQ(d[1], P - 1);
  EXPECT_DOUBLE_EQ(d[2], 0);
  std::int64_t big[2] = {std::int64_t{1} << 40, r};
  W().all_reduce(big, 2, dist::ReduceOp::sum);
  EXPECT_EQ(big[0], (std::int64_t{1} << 40) * P);
  EXPECT_EQ(big[1], P * (P - 1) / 2);
}

TEST(DistCommunicator, GatherAllGatherBroadcastInRankOrder) {
  const int r = W().rank(), P = W().size();
  // Rank r sends r + 1 bytes of value r: lengths differ on purpose.
  const std::vector<std::uint8_t> mine(static_cast<std::size_t>(r) + 1,
                                       static_cast<std::uint8_t>(r));
  std::vector<std::uint8_t> want;
  for (int k = 0; k < P; ++k)
    want.insert(want.end(), static_cast<std::size_t>(k) + 1, static_cast<std::uint8_t>(k));
  EXPECT_EQ(W().all_gather(mine), want);
  const int root = P - 1;
  const auto g = W().gather(mine, root);
  EXPECT_EQ(g, r == root ? want : std::vector<std::uint8_t>{});
  std::int64_t v[2] = {r == root ? 42 : -1, r == root ? 7 : -1};
  W().broadcast(v, sizeof v, root);
  EXPECT_EQ(v[0], 42);
  EXPECT_EQ(v[1], 7);
}

TEST(DistCommunicator, AllToAllAndRingExchange) {
  const int r = W().rank(), P = W().size();
  std::vector<std::vector<std::uint8_t>> to(static_cast<std::size_t>(P));
  for (int k = 0; k < P; ++k)
    to[static_cast<std::size_t>(k)].assign(static_cast<std::size_t>(k + r),
                                           static_cast<std::uint8_t>(10 * r + k));
  const auto from = W().all_to_all(to);
  ASSERT_EQ(from.size(), static_cast<std::size_t>(P));
  for (int k = 0; k < P; ++k) {
    EXPECT_EQ(from[static_cast<std::size_t>(k)],
              std::vector<std::uint8_t>(static_cast<std::size_t>(r + k),
                                        static_cast<std::uint8_t>(10 * k + r)));
  }
  // Ring: send to the right, receive from the left (a pair exchange when P = 2, self when 1).
  const int right = (r + 1) % P, left = (r + P - 1) % P;
  double out[3] = {r * 1.0, r * 2.0, r * 3.0}, in[3] = {-1, -1, -1};
  if (right == left) {
    W().neighbour_exchange({{right, out, sizeof out, in, sizeof in}});
  } else {
    W().neighbour_exchange(
        {{right, out, sizeof out, nullptr, 0}, {left, nullptr, 0, in, sizeof in}});
  }
  EXPECT_EQ(in[0], left * 1.0);
  EXPECT_EQ(in[2], left * 3.0);
}

TEST(DistCommunicator, ShardsCoverEveryItemOnce) {
  for (std::int64_t total : {0, 1, 5, 7, 100}) {
    for (int P : {1, 2, 3, 4, 8}) {
      std::int64_t next = 0;
      for (int r = 0; r < P; ++r) {
        const dist::Shard s = dist::shard(total, r, P);
        EXPECT_EQ(s.first, next);
        EXPECT_GE(s.count, total / P);
        EXPECT_LE(s.count, total / P + 1);
        next += s.count;
      }
      EXPECT_EQ(next, total);
    }
  }
  EXPECT_THROW(dist::shard(5, 2, 2), Error);
}

TEST(DistCommunicator, OneFailingRankFailsEveryRankWithItsMessage) {
  const int r = W().rank(), P = W().size();
  const int bad = P - 1;
  try {
    dist::run_checked(W(), [&] {
      if (r == bad) throw Error(ErrorCode::parse_error, "line 3 of the input is broken");
    });
    FAIL() << "rank " << r << " did not throw";
  } catch (const dist::AgreedError& e) {
    EXPECT_EQ(e.failing_rank(), bad);
    EXPECT_EQ(e.code(), ErrorCode::parse_error);
    EXPECT_NE(std::string(e.what()).find("line 3 of the input is broken"), std::string::npos);
  }
  // And nothing is raised when every part succeeds.
  EXPECT_NO_THROW(dist::run_checked(W(), [] {}));
}

}  // namespace
}  // namespace mpe
