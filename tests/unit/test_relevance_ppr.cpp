// Personalised PageRank queries: against a float64 power iteration over the store's edge list
// written here (dangling nodes restart from the reset distribution), against python-igraph's
// personalized_pagerank on a committed fixture (tests/data/relevance_ppr), batched = alone,
// top-k and type filter, and bad parameters.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>
#include <set>
#include <tuple>

#include <gtest/gtest.h>
#include <mpe/error.hpp>
#include <mpe/relevance.hpp>

#include "relevance/detail.hpp"

namespace mpe::test {
namespace {
using namespace mpe::relevance;

// Float64 PPR by power iteration on the full chain: x ← d (Pᵀx + dangling(x) · r) + (1 − d) r.
std::vector<double> ppr_reference(const Store& s, const std::vector<std::pair<std::int64_t, double>>& seeds,
                                  double d, bool weighted, bool undirected) {
  const auto n = std::size_t(s.num_nodes());
  struct Arc {
    std::size_t from, to;
    double w;
  };
  std::vector<Arc> arcs;
  for (const Edge& e : s.edges()) {
    const auto a = std::size_t(s.find(e.source)), b = std::size_t(s.find(e.target));
    const double w = weighted ? e.weight : 1.0;
    arcs.push_back({a, b, w});
    if (undirected) arcs.push_back({b, a, w});
  }
  std::vector<double> out(n, 0.0), r(n, 0.0), x(n, 0.0);
  double rs = 0;
  for (const auto& [i, w] : seeds) {
    r[std::size_t(i)] += w;
    rs += w;
  }
  for (auto& v : r) v /= rs;
  for (const Arc& a : arcs) out[a.from] += a.w;
  x = r;
  for (int it = 0; it < 5000; ++it) {
    std::vector<double> y(n, 0.0);
    double dangling = 0;
    for (const Arc& a : arcs)
      if (out[a.from] > 0) y[a.to] += x[a.from] * a.w / out[a.from];
    for (std::size_t i = 0; i < n; ++i)
      if (!(out[i] > 0)) dangling += x[i];
    double change = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double v = d * (y[i] + dangling * r[i]) + (1 - d) * r[i];
      change += std::abs(v - x[i]);
      x[i] = v;
    }
    if (change < 1e-15) break;
  }
  return x;
}

// The reference for a PPR query of the store: its seeds, damping and view.
std::vector<double> ppr_reference(const Store& s, const Query& q) {
  std::vector<std::pair<std::int64_t, double>> seeds;
  for (const SeedSpec& sd : q.seeds) seeds.emplace_back(s.find(sd.id), sd.activation);
  return ppr_reference(s, seeds, q.params.damping, q.params.ppr_weighted, q.params.ppr_undirected);
}

// Scores of every node from a query that returns them all.
std::vector<double> all_scores(const Store& s, const QueryResult& r) {
  std::vector<double> got(std::size_t(s.num_nodes()), 0.0);
  for (const auto& [i, a] : r.active) got[std::size_t(i)] = a;
  return got;
}

Store random_graph(std::mt19937_64& rng, int n, int m) {
  Store s = Store::in_memory(4);
  std::vector<Node> nodes;
  std::vector<float> emb;
  for (int i = 0; i < n; ++i) {
    Node nd;
    nd.id = "n" + std::to_string(i);
    nd.type = i % 2 ? "passage" : "entity";
    nodes.push_back(nd);
    for (int c = 0; c < 4; ++c) emb.push_back(c == i % 4 ? 1.0f : 0.2f);
  }
  s.add_nodes(nodes, emb);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::set<std::tuple<int, int, int>> seen;
  std::vector<Edge> edges;
  const char* types[] = {"A", "B"};
  while (int(edges.size()) < m) {
    const int a = int(rng() % unsigned(n - n / 10)), b = int(rng() % unsigned(n)), t = int(rng() % 2);
    if (!seen.insert({a, b, t}).second) continue;  // the last tenth has no out-edges: dangling
    edges.push_back({"n" + std::to_string(a), "n" + std::to_string(b), types[t],
                     u(rng) < 0.05f ? 0.0f : u(rng), 0.5f, 0.5f});
  }
  s.add_edges(edges);
  return s;
}

Query ppr_query(std::vector<SeedSpec> seeds, float damping, bool weighted, bool undirected, int top) {
  Query q;
  q.seeds = std::move(seeds);
  q.params.propagation = Propagation::ppr;
  q.params.damping = damping;
  q.params.ppr_weighted = weighted;
  q.params.ppr_undirected = undirected;
  q.params.ppr_top_k = top;
  q.params.ppr_tolerance = 1e-7f;
  q.params.types = {};
  return q;
}

TEST(RelevancePpr, MatchesFloat64PowerIteration) {
  std::mt19937_64 rng(3);
  int compared = 0;
  for (int trial = 0; trial < 4; ++trial) {
    const int n = 50 + 70 * trial;
    Store s = random_graph(rng, n, n * (2 + trial));
    std::vector<Query> batch;
    for (int k = 0; k < 8; ++k) {
      std::vector<SeedSpec> seeds;
      std::set<int> ids;
      while (int(ids.size()) < 1 + k % 3) ids.insert(int(rng() % unsigned(n)));
      for (int id : ids) seeds.push_back({"n" + std::to_string(id), 0.1f + 0.9f * float(rng() % 100) / 100.0f});
      batch.push_back(ppr_query(seeds, k % 4 == 3 ? 0.5f : 0.85f, k % 2 == 0, k % 4 >= 2, n));
    }
    const std::vector<QueryResult> rs = s.query_batch(batch);
    for (std::size_t k = 0; k < batch.size(); ++k) {
      const auto want = ppr_reference(s, batch[k]);
      const auto got = all_scores(s, rs[k]);
      double sum = 0;
      for (int i = 0; i < n; ++i) {
        EXPECT_NEAR(got[std::size_t(i)], want[std::size_t(i)], 1e-6) << trial << "/" << k << " node " << i;
        sum += got[std::size_t(i)];
      }
      EXPECT_NEAR(sum, 1.0, 1e-5);
      EXPECT_TRUE(rs[k].converged);
      EXPECT_GT(rs[k].iterations, 5);
      // Results: by score descending, then id.
      for (std::size_t r = 1; r < rs[k].results.size(); ++r)
        EXPECT_GE(rs[k].results[r - 1].activation, rs[k].results[r].activation);
      // Alone = in the batch.
      if (k == 5) {
        const QueryResult one = s.query(batch[k]);
        ASSERT_EQ(one.active.size(), rs[k].active.size());
        for (std::size_t r = 0; r < one.active.size(); ++r)
          EXPECT_NEAR(one.active[r].second, rs[k].active[r].second, 1e-7);
      }
      ++compared;
    }
  }
  EXPECT_EQ(compared, 32);
}

// A graph of several strongly connected clusters joined one way (a chain of components), with
// single-node components between them (chain nodes: edges only forward), self-loops, parallel
// edges, zero weights and dangling nodes: the solver's component order, its exact one-sweep
// runs and its stopping rule, at the default tolerance, against the float64 power iteration.
Store component_graph(std::mt19937_64& rng, int n, int m) {
  Store s = Store::in_memory(4);
  std::vector<Node> nodes;
  std::vector<float> emb;
  for (int i = 0; i < n; ++i) {
    Node nd;
    nd.id = "n" + std::to_string(i);
    nd.type = "entity";
    nodes.push_back(nd);
    for (int c = 0; c < 4; ++c) emb.push_back(c == i % 4 ? 1.0f : 0.2f);
  }
  s.add_nodes(nodes, emb);
  auto cluster = [](int i) { return i / 40; };
  auto chain = [](int i) { return i % 7 == 0; };
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::set<std::tuple<int, int, int>> seen;
  std::vector<Edge> edges;
  while (int(edges.size()) < m) {
    int a = int(rng() % unsigned(n)), b = int(rng() % unsigned(n));
    if (a % 11 == 5) continue;  // no out-edges: dangling
    if (a == b && u(rng) > 0.05f) continue;  // a few self-loops
    const bool inside = cluster(a) == cluster(b) && !chain(a) && !chain(b);
    if (!inside && a > b) continue;  // across components: forward only
    const int t = int(rng() % 2);     // two types: parallel edges
    if (!seen.insert({a, b, t}).second) continue;
    edges.push_back({"n" + std::to_string(a), "n" + std::to_string(b), t ? "B" : "A",
                     u(rng) < 0.03f ? 0.0f : 0.05f + 0.95f * u(rng), 0.5f, 0.5f});
  }
  s.add_edges(edges);
  return s;
}

void check_component_batches(int capped_group) {
  std::mt19937_64 rng(11);
  for (int trial = 0; trial < 2; ++trial) {
    const int n = 400;
    Store s = component_graph(rng, n, 5 * n);
    std::vector<Query> batch;
    for (int k = 0; k < 19; ++k) {  // groups of 16, 2 and 1 queries
      std::vector<SeedSpec> seeds;
      std::set<int> ids;
      while (int(ids.size()) < 1 + k % 4) ids.insert(int(rng() % unsigned(n)));
      for (int id : ids) seeds.push_back({"n" + std::to_string(id), 0.1f + 0.9f * float(rng() % 100) / 100.0f});
      Query q = ppr_query(seeds, k % 5 == 4 ? 0.6f : 0.85f, k % 3 != 2, trial == 1 && k % 2 == 1, n);
      // The default, and loose ones where the error comes close to the bound that is checked.
      q.params.ppr_tolerance = k % 3 == 0 ? 1e-6f : (k % 3 == 1 ? 1e-3f : 3e-2f);
      batch.push_back(q);
    }
    const std::vector<QueryResult> rs = s.query_batch(batch);
    for (std::size_t k = 0; k < batch.size(); ++k) {
      const QueryParams& p = batch[k].params;
      const auto want = ppr_reference(s, batch[k]);
      const auto got = all_scores(s, rs[k]);
      double l1 = 0;
      for (int i = 0; i < n; ++i) {
        if (p.ppr_tolerance <= 1e-6f) {
          EXPECT_NEAR(got[std::size_t(i)], want[std::size_t(i)], 1e-6) << trial << "/" << k << " node " << i;
        }
        l1 += std::abs(got[std::size_t(i)] - want[std::size_t(i)]);
      }
      // x = y / Σy with ‖Δy‖₁ ≤ tolerance · Σy: ‖Δx‖₁ ≤ 2 · tolerance, plus float32 scores.
      EXPECT_LE(l1, 2.0 * double(p.ppr_tolerance) + 1e-7) << trial << "/" << k;
      EXPECT_TRUE(rs[k].converged);
      EXPECT_GE(rs[k].iterations, 1);
    }
    // The iteration cap: two sweeps of a cluster do not meet the bound (alone, and as a group
    // of 4: float32 scores when forced, which fall back to float64).
    Query capped = batch[0];
    capped.params.ppr_max_iterations = 2;
    for (const QueryResult& c : s.query_batch(std::vector<Query>(std::size_t(capped_group), capped))) {
      EXPECT_FALSE(c.converged);
      EXPECT_EQ(c.iterations, 2);
    }
  }
}

TEST(RelevancePpr, ComponentOrderedSweepsMatchFloat64) { check_component_batches(1); }

// The same queries with the scores stored in float32 (the path of graphs above 4 MB of scores
// in groups of 4 and more, forced here): the bound, taken on the stored values, keeps every
// check above; the capped group falls back to float64 and reports its two sweeps.
TEST(RelevancePpr, Float32ScoresMatchFloat64) {
  struct Restore {
    std::int64_t was = relevance::detail::ppr_float32_above_bytes.load();
    ~Restore() { relevance::detail::ppr_float32_above_bytes = was; }
  } restore;
  relevance::detail::ppr_float32_above_bytes = 0;
  check_component_batches(4);
}

TEST(RelevancePpr, MatchesIgraphFixture) {
  std::ifstream f(std::string(MPE_SOURCE_DIR) + "/tests/data/relevance_ppr/igraph_ppr.txt");
  ASSERT_TRUE(f) << "fixture missing";
  std::string line, word;
  std::getline(f, line);  // comment
  int n = 0, m = 0, cases = 0;
  f >> word >> n >> word >> m;
  Store s = Store::in_memory(4);
  std::vector<Node> nodes(static_cast<std::size_t>(n));
  std::vector<float> emb;
  for (int i = 0; i < n; ++i) {
    nodes[std::size_t(i)].id = "v" + std::to_string(i);
    nodes[std::size_t(i)].type = "entity";
    for (int c = 0; c < 4; ++c) emb.push_back(c == i % 4 ? 1.0f : 0.3f);
  }
  s.add_nodes(nodes, emb);
  std::vector<Edge> edges;
  for (int k = 0; k < m; ++k) {
    int a = 0, b = 0;
    std::string type;
    double w = 0;
    f >> a >> b >> type >> w;
    edges.push_back({"v" + std::to_string(a), "v" + std::to_string(b), type, float(w), 0.5f, 0.5f});
  }
  s.add_edges(edges);
  f >> word >> cases;
  ASSERT_EQ(cases, 12);
  for (int c = 0; c < cases; ++c) {
    int directed = 0, weighted = 0, count = 0;
    double damping = 0;
    f >> directed >> weighted >> damping >> count;
    std::vector<SeedSpec> seeds;
    for (int k = 0; k < count; ++k) {
      int v = 0;
      double w = 0;
      f >> v >> w;
      seeds.push_back({"v" + std::to_string(v), float(w)});
    }
    std::vector<double> want(static_cast<std::size_t>(n));
    for (auto& v : want) f >> v;
    ASSERT_TRUE(f) << "fixture truncated at case " << c;
    const Query q = ppr_query(seeds, float(damping), weighted != 0, directed == 0, n);
    const auto got = all_scores(s, s.query(q));
    for (int i = 0; i < n; ++i)
      EXPECT_NEAR(got[std::size_t(i)], want[std::size_t(i)], 1e-6) << "case " << c << " node " << i;
  }
}

TEST(RelevancePpr, TopKTypesAndSemanticSeeds) {
  std::mt19937_64 rng(9);
  Store s = random_graph(rng, 120, 500);
  Query q = ppr_query({{"n4", 1.0f}, {"n9", 0.5f}}, 0.85f, true, false, 5);
  q.params.types = {"passage"};
  const QueryResult r = s.query(q);
  std::vector<std::pair<std::int64_t, double>> seeds = {{s.find("n4"), 1.0}, {s.find("n9"), 0.5}};
  const auto want = ppr_reference(s, seeds, 0.85, true, false);
  std::vector<std::pair<double, std::int64_t>> passages;
  for (std::int64_t i = 0; i < s.num_nodes(); ++i)
    if (i % 2) passages.emplace_back(-want[std::size_t(i)], i);
  std::sort(passages.begin(), passages.end());
  ASSERT_EQ(r.results.size(), 5u);
  for (std::size_t k = 0; k < 5; ++k) {
    EXPECT_EQ(r.results[k].node, passages[k].second) << k;
    EXPECT_EQ(r.results[k].type, "passage");
    EXPECT_NEAR(r.results[k].activation, -passages[k].first, 1e-6);
  }
  // Semantic seeding: the similarities of the top-k seeds are the reset weights.
  Query sem;
  sem.embedding = {1.0f, 0.2f, 0.2f, 0.2f};
  sem.params = q.params;
  sem.params.top_k = 3;
  sem.params.seed_threshold = 0.0f;
  sem.params.types = {};
  sem.params.ppr_top_k = int(s.num_nodes());
  const QueryResult rs = s.query(sem);
  ASSERT_EQ(rs.seeds.size(), 3u);
  std::vector<std::pair<std::int64_t, double>> ss;
  for (const SeedHit& h : rs.seeds) ss.emplace_back(h.node, h.similarity);
  const auto want2 = ppr_reference(s, ss, 0.85, true, false);
  const auto got2 = all_scores(s, rs);
  for (std::int64_t i = 0; i < s.num_nodes(); ++i)
    EXPECT_NEAR(got2[std::size_t(i)], want2[std::size_t(i)], 1e-6) << i;
}

TEST(RelevancePpr, BadParametersAreRefused) {
  std::mt19937_64 rng(1);
  Store s = random_graph(rng, 20, 40);
  auto refuses = [&](auto edit, const std::string& what) {
    Query q = ppr_query({{"n1", 1.0f}}, 0.85f, true, false, 3);
    edit(q.params);
    try {
      s.query(q);
      ADD_FAILURE() << "accepted: " << what;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  refuses([](QueryParams& p) { p.damping = 1.0f; }, "damping");
  refuses([](QueryParams& p) { p.damping = -0.1f; }, "damping");
  refuses([](QueryParams& p) { p.ppr_tolerance = 0.0f; }, "ppr_tolerance");
  refuses([](QueryParams& p) { p.ppr_max_iterations = 0; }, "ppr_max_iterations");
  refuses([](QueryParams& p) { p.ppr_top_k = 0; }, "ppr_top_k");
}

}  // namespace
}  // namespace mpe::test
