// Relevance queries on CUDA against the CPU twin: seeds (cuBLAS similarity + top-k kernel),
// propagation (frontier push with atomics, update, convergence per query) and extraction, on
// random graphs with hubs (rows longer than a warp), levels, type weights and gates, in
// batches mixing semantic and explicit-seed queries that stop at different iterations.
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <tuple>

#include <gtest/gtest.h>
#include <mpe/relevance.hpp>

#include "support/gpu.hpp"
#include "support/relevance_random.hpp"

namespace mpe {
namespace {
using namespace mpe::relevance;

const Device kGpu = Device::cuda(0);

Store random_store(std::mt19937_64& rng, int n, int m, int dim) {
  Store s = Store::in_memory(dim);
  std::uniform_real_distribution<float> u(0.0f, 1.0f), g(-1.0f, 1.0f);
  const char* types[] = {"ENABLES", "REQUIRES", "PART_OF"};
  std::vector<Node> nodes;
  std::vector<float> emb;
  for (int i = 0; i < n; ++i) {
    Node nd;
    nd.id = "n" + std::to_string(i);
    nd.type = i % 3 ? "constraint" : "capability";
    nd.universal = i % 29 == 5;
    test::random_node_params(rng, nd, 3);
    nodes.push_back(nd);
    for (int c = 0; c < dim; ++c) emb.push_back(g(rng));
  }
  s.add_nodes(nodes, emb);
  std::vector<Edge> edges;
  std::set<std::tuple<int, int, int>> seen;
  auto add = [&](int a, int b, int t) {
    if (!seen.insert({a, b, t}).second) return;
    edges.push_back({"n" + std::to_string(a), "n" + std::to_string(b), types[t], u(rng), u(rng), u(rng)});
  };
  for (int hub : {0, 1, n / 2})  // hubs: rows of many warps
    for (int k = 0; k < 300; ++k) add(hub, int(rng() % unsigned(n)), int(rng() % 3));
  while (int(edges.size()) < m) add(int(rng() % unsigned(n)), int(rng() % unsigned(n)), int(rng() % 3));
  s.add_edges(edges);
  return s;
}

void expect_same(const QueryResult& gpu, const QueryResult& cpu, const std::string& what) {
  EXPECT_EQ(gpu.iterations, cpu.iterations) << what;
  EXPECT_EQ(gpu.converged, cpu.converged) << what;
  EXPECT_EQ(gpu.edges_touched, cpu.edges_touched) << what;
  ASSERT_EQ(gpu.seeds.size(), cpu.seeds.size()) << what;
  for (std::size_t k = 0; k < cpu.seeds.size(); ++k) {
    EXPECT_EQ(gpu.seeds[k].node, cpu.seeds[k].node) << what;
    EXPECT_NEAR(gpu.seeds[k].similarity, cpu.seeds[k].similarity, 1e-5) << what;
  }
  std::map<std::int64_t, float> g(gpu.active.begin(), gpu.active.end());
  std::map<std::int64_t, float> c(cpu.active.begin(), cpu.active.end());
  EXPECT_EQ(g.size(), c.size()) << what;
  for (const auto& [i, a] : c) {
    ASSERT_TRUE(g.count(i)) << what << ": node " << i << " active on the CPU only";
    ASSERT_FALSE(std::isnan(g[i]));
    EXPECT_NEAR(g[i], a, 2e-5) << what << ": node " << i;
  }
  ASSERT_EQ(gpu.results.size(), cpu.results.size()) << what;
  for (std::size_t k = 0; k < cpu.results.size(); ++k) {
    EXPECT_NEAR(gpu.results[k].activation, cpu.results[k].activation, 2e-5) << what;
    EXPECT_NEAR(gpu.results[k].confidence, cpu.results[k].confidence, 1e-4) << what;
  }
}

TEST(RelevanceParity, BatchedQueriesMatchCpu) {
  MPE_REQUIRE_CUDA_OR_SKIP();
  std::mt19937_64 rng(21);
  for (int trial = 0; trial < 4; ++trial) {
    const int n = 200 + trial * 700, dim = 16 + trial * 24;
    Store s = random_store(rng, n, n * (3 + trial), dim);
    std::uniform_real_distribution<float> g(-1.0f, 1.0f);
    std::vector<Query> batch;
    for (int k = 0; k < 37; ++k) {
      Query q;
      if (k % 4 == 3) {
        q.seeds = {{"n" + std::to_string(k), 0.9f}, {"n0", 0.5f}};
      } else {
        for (int c = 0; c < dim; ++c) q.embedding.push_back(g(rng));
      }
      q.params.top_k = 1 + k % 12;
      q.params.seed_threshold = k % 5 == 0 ? -1.0f : 0.05f;
      q.params.max_iterations = k % 7;  // 0 .. 6: queries finish at different iterations
      q.params.tolerance = k % 2 ? 0.0f : 2e-3f;
      q.params.edge_gate = k % 3 == 0 ? 0.0f : 0.1f;
      q.params.level_up_scale = 0.8f;
      q.params.level_down_scale = 1.2f;
      q.params.types = k % 2 ? std::vector<std::string>{} : std::vector<std::string>{"constraint"};
      batch.push_back(q);
    }
    const auto cpu = s.query_batch(batch, Device::cpu());
    const auto gpu = s.query_batch(batch, kGpu);
    ASSERT_EQ(gpu.size(), cpu.size());
    for (std::size_t k = 0; k < batch.size(); ++k)
      expect_same(gpu[k], cpu[k], "trial " + std::to_string(trial) + " query " + std::to_string(k));
    // The device copy follows learning (weights re-uploaded after the write).
    s.learn(cpu[1], Outcome::turn(1.0f));
    expect_same(s.query(batch[1], kGpu), s.query(batch[1], Device::cpu()), "after learning");
  }
}

TEST(RelevanceParity, RepeatedRunsAreStable) {
  MPE_REQUIRE_CUDA_OR_SKIP();
  std::mt19937_64 rng(4);
  Store s = random_store(rng, 500, 4000, 32);
  Query q;
  std::uniform_real_distribution<float> g(-1.0f, 1.0f);
  for (int c = 0; c < 32; ++c) q.embedding.push_back(g(rng));
  q.params.seed_threshold = -1.0f;
  q.params.tolerance = 0.0f;
  const QueryResult a = s.query(q, kGpu);
  for (int r = 0; r < 5; ++r) {
    const QueryResult b = s.query(q, kGpu);
    ASSERT_EQ(a.active.size(), b.active.size());
    for (std::size_t k = 0; k < a.active.size(); ++k) {
      EXPECT_EQ(a.active[k].first, b.active[k].first);
      EXPECT_NEAR(a.active[k].second, b.active[k].second, 1e-6);  // atomics: order may vary
    }
  }
}

}  // namespace
}  // namespace mpe
