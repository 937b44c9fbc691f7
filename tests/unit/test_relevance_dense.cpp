// Relevance propagation's dense switch: forced pull iterations, forced push iterations and the
// default switch all match the float64 reference (activations, confidences, iterations, messages)
// on random graphs with type weights, zero type weights and levels, in mixed batches.
#include <cmath>
#include <random>
#include <set>
#include <tuple>

#include <gtest/gtest.h>
#include <mpe/error.hpp>
#include <mpe/relevance.hpp>

#include "support/relevance_random.hpp"
#include "support/relevance_ref.hpp"

namespace mpe::test {
namespace {
using namespace mpe::relevance;

// A dense random graph (the frontier covers most of it within two hops).
Store dense_store(std::mt19937_64& rng, int n, int m, int levels, bool zero_type_weight) {
  Store s = Store::in_memory(4);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  const char* types[] = {"ENABLES", "REQUIRES", "PART_OF"};
  std::vector<Node> nodes;
  std::vector<float> emb;
  for (int i = 0; i < n; ++i) {
    Node nd;
    nd.id = "n" + std::to_string(i);
    nd.type = "concept";
    random_node_params(rng, nd, levels, zero_type_weight && i % 2);
    nodes.push_back(nd);
    for (int c = 0; c < 4; ++c) emb.push_back(c == i % 4 ? 1.0f : 0.1f);
  }
  s.add_nodes(nodes, emb);
  std::vector<Edge> edges;
  std::set<std::tuple<int, int, int>> seen;
  while (int(edges.size()) < m) {
    const int a = int(rng() % unsigned(n)), b = int(rng() % unsigned(n)), t = int(rng() % 3);
    if (!seen.insert({a, b, t}).second) continue;
    const float w = u(rng) < 0.1f ? 0.0f : u(rng);  // some zero weights: never a message
    edges.push_back({"n" + std::to_string(a), "n" + std::to_string(b), types[t], w, u(rng), 0.5f});
  }
  s.add_edges(edges);
  return s;
}

TEST(RelevanceDense, PullPushAndSwitchMatchFloat64Reference) {
  std::mt19937_64 rng(11);
  int compared = 0;
  for (int trial = 0; trial < 8; ++trial) {
    const int n = 60 + 25 * trial, m = n * (4 + trial % 3);
    Store s = dense_store(rng, n, m, trial % 2 ? 3 : 1, trial % 4 == 2);
    std::vector<Query> batch;
    for (int qk = 0; qk < 7; ++qk) {
      Query q;
      q.seeds = random_seeds(rng, n, 4, 0.3f);
      q.params.max_iterations = 1 + int(rng() % 8);
      q.params.tolerance = qk % 2 ? 1e-3f : 0.0f;
      q.params.edge_gate = qk % 3 == 0 ? 0.0f : 0.2f;
      q.params.propagation_threshold = qk % 3 == 1 ? 0.0f : 0.05f;
      q.params.level_up_scale = qk % 2 ? 0.7f : 1.0f;  // two groups of level scales
      q.params.level_down_scale = qk == 5 ? 0.0f : 1.3f;
      q.params.types = {};
      batch.push_back(q);
    }
    std::vector<RelRef> refs;
    for (const Query& q : batch) refs.push_back(relevance_reference(s, q));
    for (float fraction : {0.0f, 0.3f, 5.0f}) {  // always pull, the switch, always push
      s.set_dense_switch(fraction);
      const std::vector<QueryResult> rs = s.query_batch(batch);
      for (std::size_t qk = 0; qk < batch.size(); ++qk) {
        const QueryResult& r = rs[qk];
        const std::string where = std::to_string(trial) + "/" + std::to_string(qk) + " f=" +
                                  std::to_string(fraction);
        expect_matches_reference(r, refs[qk], n, where);
        // One query alone gives the same as in the batch (the batch shares the products).
        if (qk == 3) {
          const QueryResult one = s.query(batch[qk]);
          ASSERT_EQ(one.active.size(), r.active.size()) << where;
          for (std::size_t k = 0; k < r.active.size(); ++k) {
            EXPECT_EQ(one.active[k].first, r.active[k].first) << where;
            EXPECT_NEAR(one.active[k].second, r.active[k].second, 1e-6) << where;
          }
        }
        ++compared;
      }
    }
  }
  EXPECT_EQ(compared, 8 * 7 * 3);
}

// A batch of 150 pulling queries (one wide gated product; the dense update on every thread):
// every query matches the float64 reference.
TEST(RelevanceDense, WideBatchesMatchFloat64Reference) {
  std::mt19937_64 rng(23);
  const int n = 140;
  Store s = dense_store(rng, n, n * 5, 1, true);
  s.set_dense_switch(0.0f);
  std::vector<Query> batch;
  for (int qk = 0; qk < 150; ++qk) {
    Query q;
    q.seeds = random_seeds(rng, n, 4, 0.3f);
    q.params.max_iterations = 2 + qk % 5;
    q.params.tolerance = 0.0f;
    q.params.edge_gate = qk % 3 == 0 ? 0.0f : 0.1f * float(qk % 4);
    q.params.types = {};
    batch.push_back(q);
  }
  const std::vector<QueryResult> rs = s.query_batch(batch);
  for (std::size_t qk = 0; qk < batch.size(); ++qk)
    expect_matches_reference(rs[qk], relevance_reference(s, batch[qk]), n,
                             "query " + std::to_string(qk));
}

TEST(RelevanceDense, WritesBetweenQueriesReachThePullView) {
  std::mt19937_64 rng(5);
  Store s = dense_store(rng, 80, 600, 1, false);
  s.set_dense_switch(0.0f);
  Query q;
  q.seeds = {{"n1", 0.9f}, {"n2", 0.8f}};
  q.params.types = {};
  q.params.tolerance = 0.0f;
  s.query(q);  // builds the pull view
  s.add_edges({{"n1", "n79", "NEW", 1.0f, 0.9f, 0.5f}});
  s.set_edge_weight("n1", "n79", "NEW", 0.6f);
  const QueryResult r = s.query(q);
  std::vector<std::pair<std::int64_t, double>> seeds = {{s.find("n1"), 0.9}, {s.find("n2"), 0.8}};
  const RelRef ref = relevance_reference(s, seeds, q.params);
  EXPECT_EQ(r.edges_touched, ref.messages);
  std::vector<double> got(80, 0.0);
  for (const auto& [i, a] : r.active) got[std::size_t(i)] = a;
  for (int i = 0; i < 80; ++i) EXPECT_NEAR(got[std::size_t(i)], ref.act[std::size_t(i)], 2e-5) << i;
}

TEST(RelevanceDense, BadFractionIsRefused) {
  Store s = Store::in_memory(4);
  EXPECT_THROW(s.set_dense_switch(-0.1f), Error);
  EXPECT_THROW(s.set_dense_switch(NAN), Error);
  s.set_dense_switch(0.25f);
  EXPECT_EQ(s.dense_switch(), 0.25f);
}

}  // namespace
}  // namespace mpe::test
