// Relevance propagation over a partitioned store against Store::query in one process (every
// rank runs that reference itself): bit-equal to the pulling (dense) iterations, within float
// rounding of the default pushing ones.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include <mpe/dist_models.hpp>

namespace mpe {
namespace {

dist::Communicator& W() { return *dist::world(); }

constexpr int kDim = 16;

// A random store with levels, per-type weights (one of them 0), thresholds and a universal
// node, so every rule of the update and of extraction is exercised.
relevance::Store random_store(std::uint32_t seed, int n, int m) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f), s(-1.0f, 1.0f);
  const char* types[] = {"constraint", "capability", "guideline", "concept"};
  const char* etypes[] = {"ENABLES", "REQUIRES", "PART_OF"};
  relevance::Store store = relevance::Store::in_memory(kDim);
  std::vector<relevance::Node> nodes;
  std::vector<float> emb;
  for (int i = 0; i < n; ++i) {
    relevance::Node nd;
    nd.id = "n" + std::to_string(i);
    nd.type = types[i % 4];
    nd.title = "node " + std::to_string(i);
    nd.level = i % 5 == 0 ? 1 : 0;
    nd.residual = 0.2f + 0.6f * u(rng);
    nd.decay = 0.5f + 0.5f * u(rng);
    nd.threshold = i % 3 == 0 ? 0.02f * u(rng) : 0.0f;
    nd.universal = i == 7;
    if (i % 4 == 1) nd.type_weights = {{"REQUIRES", 0.5f + u(rng)}, {"PART_OF", 0.0f}};
    nodes.push_back(nd);
    for (int c = 0; c < kDim; ++c) emb.push_back(s(rng));
  }
  store.add_nodes(nodes, emb);
  std::vector<relevance::Edge> edges;
  std::uniform_int_distribution<int> pick(0, n - 1);
  for (int k = 0; k < m; ++k) {
    relevance::Edge e;
    e.source = "n" + std::to_string(pick(rng));
    e.target = "n" + std::to_string(pick(rng));
    e.type = etypes[k % 3];
    e.weight = u(rng);
    e.confidence = u(rng);
    if (e.source == e.target) continue;
    bool dup = false;
    for (const auto& x : edges)
      dup = dup || (x.source == e.source && x.target == e.target && x.type == e.type);
    if (!dup) edges.push_back(e);
  }
  store.add_edges(edges);
  return store;
}

std::vector<relevance::Query> queries() {
  std::vector<relevance::Query> qs(3);
  qs[0].seeds = {{"n3", 1.0f}, {"n11", 0.6f}, {"n40", 0.8f}};
  qs[0].params.edge_gate = 0.05f;
  qs[0].params.max_iterations = 12;
  qs[0].params.tolerance = 1e-5f;
  qs[0].params.propagation_threshold = 0.02f;
  qs[0].params.types = {};
  qs[1].embedding.assign(kDim, 0.0f);
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> s(-1.0f, 1.0f);
  for (auto& v : qs[1].embedding) v = s(rng);
  qs[1].params.top_k = 4;
  qs[1].params.seed_threshold = -1.0f;
  qs[1].params.level_up_scale = 0.7f;
  qs[1].params.level_down_scale = 1.3f;
  qs[1].params.max_iterations = 8;
  qs[1].params.min_activation = 0.05f;
  qs[2] = qs[0];
  qs[2].params.level_up_scale = 0.0f;  // messages of strength 0 still count
  qs[2].params.max_results = 5;
  return qs;
}

void expect_equal(const relevance::QueryResult& got, const relevance::QueryResult& want,
                  float tol) {
  EXPECT_EQ(got.iterations, want.iterations);
  EXPECT_EQ(got.converged, want.converged);
  EXPECT_EQ(got.edges_touched, want.edges_touched);
  ASSERT_EQ(got.active.size(), want.active.size());
  for (std::size_t k = 0; k < got.active.size(); ++k) {
    EXPECT_EQ(got.active[k].first, want.active[k].first);
    EXPECT_NEAR(got.active[k].second, want.active[k].second, tol);
    if (tol == 0.0f) {
      EXPECT_EQ(got.active[k].second, want.active[k].second);
    }
  }
  ASSERT_EQ(got.results.size(), want.results.size());
  for (std::size_t k = 0; k < got.results.size(); ++k) {
    EXPECT_EQ(got.results[k].id, want.results[k].id);
    EXPECT_NEAR(got.results[k].activation, want.results[k].activation, tol);
    EXPECT_NEAR(got.results[k].confidence, want.results[k].confidence, tol);
    if (tol == 0.0f) {
      EXPECT_EQ(got.results[k].activation, want.results[k].activation);
      EXPECT_EQ(got.results[k].confidence, want.results[k].confidence);
    }
    EXPECT_EQ(got.results[k].seed, want.results[k].seed);
    EXPECT_EQ(got.results[k].universal, want.results[k].universal);
  }
  ASSERT_EQ(got.seeds.size(), want.seeds.size());
  for (std::size_t k = 0; k < got.seeds.size(); ++k)
    EXPECT_EQ(got.seeds[k].node, want.seeds[k].node);
}

TEST(DistRelevance, PartitionedStoreEqualsOneProcess) {
  relevance::Store store = random_store(17, 60, 260);
  std::vector<dist::PartitionMethod> ms{dist::PartitionMethod::contiguous};
  if (dist::metis_built()) ms.push_back(dist::PartitionMethod::metis);
  const auto qs = queries();
  for (auto m : ms) {
    const auto owner = dist::partition_nodes(store, W().size(), m);
    const auto ps = dist::PartitionedStore::build(dist::world(), store, owner);
    std::int64_t halo = static_cast<std::int64_t>(ps.graph().halo().size());
    W().all_reduce(&halo, 1, dist::ReduceOp::sum);
    if (W().size() > 1) {  // activations do cross between ranks
      EXPECT_GT(halo, 0);
    }
    for (std::size_t k = 0; k < qs.size(); ++k) {
      SCOPED_TRACE("query " + std::to_string(k) + ", method " + std::to_string(int(m)));
      const relevance::QueryResult got = ps.query(qs[k]);
      EXPECT_GT(got.iterations, 1);
      EXPECT_GT(got.active.size(), 3u);
      store.set_dense_switch(0.0f);  // one process pulls every iteration: the same sums
      expect_equal(got, store.query(qs[k]), 0.0f);
      store.set_dense_switch(2.0f);  // one process pushes: sums in another order
      expect_equal(got, store.query(qs[k]), 1e-6f);
    }
  }
}

TEST(DistRelevance, PprIsRefusedOnEveryRank) {
  relevance::Store store = random_store(3, 20, 60);
  const auto ps = dist::PartitionedStore::build(
      dist::world(), store,
      dist::partition_nodes(store, W().size(), dist::PartitionMethod::contiguous));
  relevance::Query q;
  q.seeds = {{"n1", 1.0f}};
  q.params.propagation = relevance::Propagation::ppr;
  EXPECT_THROW(ps.query(q), dist::AgreedError);
  q.params.propagation = relevance::Propagation::spreading;
  q.seeds = {{"no-such-node", 1.0f}};
  EXPECT_THROW(ps.query(q), dist::AgreedError);
}

}  // namespace
}  // namespace mpe
