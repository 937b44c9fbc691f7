// Partitioned graphs: the halo plan, and GNN layers / message passing on partitions against the
// single-process call on the whole graph (every rank computes that reference itself).
#include <gtest/gtest.h>

#include <mpe/dist_graph.hpp>
#include <mpe/gnn.hpp>

#include "support/reference.hpp"

namespace mpe {
namespace {

dist::Communicator& W() { return *dist::world(); }

Tensor t2(const std::vector<float>& v, std::int64_t a, std::int64_t b) {
  return Tensor::from_vector(v, {a, b});
}
Tensor t1(const std::vector<float>& v) {
  return Tensor::from_vector(v, {static_cast<std::int64_t>(v.size())});
}

// Every partition method this build has.
std::vector<dist::PartitionMethod> methods() {
  std::vector<dist::PartitionMethod> m{dist::PartitionMethod::contiguous};
  if (dist::metis_built()) {
    m.push_back(dist::PartitionMethod::metis);
    m.push_back(dist::PartitionMethod::metis_volume);
  }
  return m;
}

// Largest |a - b| over this rank's rows of `want` (the whole-graph result); 0 means bit-equal.
double max_diff(const dist::PartitionedGraph& part, const Tensor& got_owned, const Tensor& want) {
  const auto got = got_owned.to_vector<float>();
  const auto ref = part.owned_rows(want).to_vector<float>();
  EXPECT_EQ(got.size(), ref.size());
  double d = 0;
  for (std::size_t i = 0; i < std::min(got.size(), ref.size()); ++i)
    d = std::max(d, static_cast<double>(std::abs(got[i] - ref[i])));
  return d;
}

TEST(DistGraph, HaloRoundDeliversTheOwnersRows) {
  const Csr g = test::random_csr(97, 97, 4.0, true, 11);
  for (auto m : methods()) {
    const auto owner = dist::partition(g, W().size(), m);
    const auto part = dist::PartitionedGraph::build(dist::world(), g, owner);
    // x[i] = (i, -i): after the round, local row k holds its node's id.
    std::vector<double> x(2 * 97);
    for (int i = 0; i < 97; ++i) x[2 * i] = i, x[2 * i + 1] = -i;
    const Tensor xl = part.with_halo(part.owned_rows(Tensor::from_vector(x, {97, 2})));
    const auto v = xl.to_vector<double>();
    const std::size_t n_own = part.owned().size();
    ASSERT_EQ(v.size(), 2 * (n_own + part.halo().size()));
    for (std::size_t k = 0; k < n_own + part.halo().size(); ++k) {
      const double id = static_cast<double>(k < n_own ? part.owned()[k] : part.halo()[k - n_own]);
      EXPECT_EQ(v[2 * k], id);
      EXPECT_EQ(v[2 * k + 1], -id);
    }
    // all_gather_rows puts every rank's rows back in node order.
    const auto back = part.all_gather_rows(part.owned_rows(Tensor::from_vector(x, {97, 2})));
    EXPECT_EQ(back.to_vector<double>(), x);
    // The cut the partition reports matches the halo this rank holds.
    const auto cut = dist::edge_cut(g, owner, W().size());
    std::int64_t halo = static_cast<std::int64_t>(part.halo().size());
    W().all_reduce(&halo, 1, dist::ReduceOp::sum);
    EXPECT_EQ(halo, cut.halo_nodes);
  }
}

TEST(DistGraph, GcnTwoLayersEqualOneProcess) {
  const std::int64_t n = 150, in = 6, hid = 8, out = 3;
  const Csr g = test::random_csr(n, n, 5.0, false, 21);
  const Csr norm = gnn::gcn_normalize(g);
  gnn::GcnConv l1{t2(test::random_floats(hid * in, -1, 1, 1), hid, in),
                  t1(test::random_floats(hid, -1, 1, 2))};
  gnn::GcnConv l2{t2(test::random_floats(out * hid, -1, 1, 3), out, hid),
                  t1(test::random_floats(out, -1, 1, 4))};
  const Tensor x = t2(test::random_floats(n * in, -1, 1, 5), n, in);
  const Tensor want = l2.forward(norm, l1.forward(norm, x, Activation::relu));
  for (auto m : methods()) {
    const auto part =
        dist::PartitionedGraph::build(dist::world(), norm, dist::partition(norm, W().size(), m));
    const Tensor h = dist::forward(part, l1, part.owned_rows(x), Activation::relu);
    const Tensor y = dist::forward(part, l2, h);
    // Each row sums its in-edges in the global order and the dense product is row by row, so
    // the result is bit-equal (asserted: a change that breaks this should be noticed).
    EXPECT_EQ(max_diff(part, y, want), 0.0);
  }
}

TEST(DistGraph, SageGinGatEqualOneProcess) {
  const std::int64_t n = 120, in = 5, out = 4;
  const Csr g = test::random_csr(n, n, 4.0, true, 31);
  const Tensor x = t2(test::random_floats(n * in, -1, 1, 6), n, in);
  gnn::SageConv sage{t2(test::random_floats(out * in, -1, 1, 1), out, in),
                     t1(test::random_floats(out, -1, 1, 2)),
                     t2(test::random_floats(out * in, -1, 1, 3), out, in)};
  gnn::GinConv gin;
  gin.eps = 0.25f;
  gin.w1 = t2(test::random_floats(7 * in, -1, 1, 4), 7, in);
  gin.b1 = t1(test::random_floats(7, -1, 1, 5));
  gin.w2 = t2(test::random_floats(out * 7, -1, 1, 6), out, 7);
  gin.b2 = t1(test::random_floats(out, -1, 1, 7));
  gnn::GatConv gat;
  gat.heads = 2;
  gat.channels = 3;
  gat.weight = t2(test::random_floats(6 * in, -1, 1, 8), 6, in);
  gat.att_src = t1(test::random_floats(6, -1, 1, 9));
  gat.att_dst = t1(test::random_floats(6, -1, 1, 10));
  gat.bias = t1(test::random_floats(6, -1, 1, 11));
  const Csr gl = gnn::with_self_loops(g);
  for (auto m : methods()) {
    const auto part =
        dist::PartitionedGraph::build(dist::world(), g, dist::partition(g, W().size(), m));
    const auto part_l =
        dist::PartitionedGraph::build(dist::world(), gl, dist::partition(gl, W().size(), m));
    EXPECT_EQ(max_diff(part, dist::forward(part, sage, part.owned_rows(x), Activation::relu),
                       sage.forward(g, x, Activation::relu)),
              0.0);
    EXPECT_EQ(max_diff(part, dist::forward(part, gin, part.owned_rows(x)), gin.forward(g, x)), 0.0);
    EXPECT_EQ(
        max_diff(part_l, dist::forward(part_l, gat, part_l.owned_rows(x)), gat.forward(gl, x)),
        0.0);
  }
}

TEST(DistGraph, MessagePassingRoundsEqualOneProcess) {
  const std::int64_t n = 200, F = 4;
  const Csr g = test::random_csr(n, n, 3.0, true, 41);
  const Tensor x = t2(test::random_floats(n * F, -1, 1, 12), n, F);
  std::vector<std::int32_t> types(static_cast<std::size_t>(g.nnz()));
  for (std::size_t e = 0; e < types.size(); ++e) types[e] = static_cast<std::int32_t>(e % 3);
  EdgeTypes et{Tensor::from_vector(types, {g.nnz()}), t1({0.5f, -1.0f, 2.0f})};
  for (auto agg : {Aggregation::sum, Aggregation::mean, Aggregation::max, Aggregation::logsumexp}) {
    MessagePassing mp;
    mp.message = MessageKind::edge_and_type_weight;
    mp.aggregate = agg;
    mp.update = Update::residual(0.5f, Activation::tanh);
    Tensor want = x;
    for (int r = 0; r < 3; ++r) want = message_passing(g, want, mp, et);
    for (auto m : methods()) {
      const auto part =
          dist::PartitionedGraph::build(dist::world(), g, dist::partition(g, W().size(), m));
      const Tensor y = dist::message_passing(part, part.owned_rows(x), mp, 3, et);
      EXPECT_EQ(max_diff(part, y, want), 0.0) << aggregation_name(agg);
    }
  }
}

TEST(DistGraph, BadInputIsRefusedClearly) {
  const Csr g = test::random_csr(10, 10, 2.0, false, 1);
  std::vector<int> owner(10, 0);
  owner[3] = W().size();  // no such rank
  EXPECT_THROW(dist::PartitionedGraph::build(dist::world(), g, owner), Error);
  EXPECT_THROW(dist::PartitionedGraph::build(dist::world(), g, std::vector<int>(9, 0)), Error);
  EXPECT_THROW(dist::parse_partition_method("spectral"), Error);
  EXPECT_EQ(dist::parse_partition_method("metis-volume"), dist::PartitionMethod::metis_volume);
  if (!dist::metis_built()) {
    EXPECT_THROW(dist::partition(g, 2, dist::PartitionMethod::metis), Error);
  }
}

}  // namespace
}  // namespace mpe

namespace mpe {
namespace {

// A rank that only has its own rows (from_rows) gets the same partition and results as one that
// extracts them from the whole graph (build).
TEST(DistGraph, FromOwnRowsEqualsBuildFromWholeGraph) {
  const std::int64_t n = 90, F = 3;
  const Csr g = test::random_csr(n, n, 4.0, true, 51);
  const auto owner = dist::partition(g, W().size(), methods().back());
  const auto off = g.row_offsets.to_vector<std::int64_t>();
  const auto col = g.col_indices.to_vector<std::int32_t>();
  const auto w = g.weights.to_vector<float>();
  std::vector<std::int64_t> roff{0};
  std::vector<std::int32_t> rcol;
  std::vector<float> rw;
  for (std::int64_t i = 0; i < n; ++i) {
    if (owner[static_cast<std::size_t>(i)] != W().rank()) continue;
    for (std::int64_t e = off[static_cast<std::size_t>(i)];
         e < off[static_cast<std::size_t>(i) + 1]; ++e) {
      rcol.push_back(col[static_cast<std::size_t>(e)]);
      rw.push_back(w[static_cast<std::size_t>(e)]);
    }
    roff.push_back(static_cast<std::int64_t>(rcol.size()));
  }
  const auto rows_n = static_cast<std::int64_t>(roff.size()) - 1;
  const Csr rows = test::make_csr(rows_n, n, roff, rcol, rw);
  const auto a = dist::PartitionedGraph::build(dist::world(), g, owner);
  const auto b = dist::PartitionedGraph::from_rows(dist::world(), rows, owner);
  EXPECT_EQ(a.owned(), b.owned());
  EXPECT_EQ(a.halo(), b.halo());
  EXPECT_EQ(a.local().col_indices.to_vector<std::int32_t>(),
            b.local().col_indices.to_vector<std::int32_t>());
  const Tensor x = t2(test::random_floats(n * F, -1, 1, 13), n, F);
  MessagePassing mp;
  mp.message = MessageKind::edge_weight;
  mp.aggregate = Aggregation::mean;
  const Tensor want = message_passing(g, message_passing(g, x, mp), mp);
  EXPECT_EQ(max_diff(b, dist::message_passing(b, b.owned_rows(x), mp, 2), want), 0.0);
  // Rows that do not match what this rank owns are refused before any exchange.
  EXPECT_THROW(
      dist::PartitionedGraph::from_rows(
          dist::world(),
          test::make_csr(rows_n + 1, n,
                         std::vector<std::int64_t>(static_cast<std::size_t>(rows_n) + 2, 0), {}),
          owner),
      Error);
}

}  // namespace
}  // namespace mpe
