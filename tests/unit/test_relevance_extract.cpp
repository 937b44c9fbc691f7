// Relevance extraction of large active sets (tens of thousands of kept nodes per query, so a
// single query sorts and builds its rows on several threads): the rows must be the brute-force
// order of the query's own activations — activation descending, ties (many nodes saturate at
// 1) by id as strings — with type filters, max_results and universal nodes; a query alone and
// the same query inside a batch give the same rows; the activations match the float64
// reference.
#include <algorithm>
#include <random>
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <mpe/relevance.hpp>

#include "support/relevance_ref.hpp"

namespace mpe::test {
namespace {
using namespace mpe::relevance;

Store large_store(int n, int degree) {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  Store s = Store::in_memory(4);
  std::vector<Node> nodes(static_cast<std::size_t>(n));
  std::vector<float> emb;
  for (int i = 0; i < n; ++i) {
    Node& nd = nodes[std::size_t(i)];
    nd.id = "n" + std::to_string(i);  // id order is not index order: ties test the id rank
    nd.type = i % 3 ? "concept" : "guideline";
    nd.title = nd.id;
    nd.universal = i % 7919 == 5;
    for (int c = 0; c < 4; ++c) emb.push_back(c == i % 4 ? 1.0f : 0.1f);
  }
  s.add_nodes(nodes, emb);
  std::vector<Edge> edges;
  std::set<std::pair<int, int>> seen;
  while (int(edges.size()) < n * degree) {
    const int a = int(rng() % unsigned(n)), b = int(rng() % unsigned(n));
    if (a == b || !seen.insert({a, b}).second) continue;
    edges.push_back({"n" + std::to_string(a), "n" + std::to_string(b), "RELATES_TO",
                     0.4f + 0.6f * u(rng), u(rng), 0.5f});
  }
  s.add_edges(edges);
  return s;
}

// The expected rows from r's own activations (float, exact ties), brute force over nodes.
std::vector<std::pair<std::string, double>> expected_rows(const Store& s, const QueryResult& r,
                                                          const QueryParams& p) {
  RelRef own;
  own.act.assign(std::size_t(s.num_nodes()), 0.0);
  for (const auto& [i, a] : r.active) own.act[std::size_t(i)] = a;
  std::vector<std::pair<std::string, double>> all = reference_extract(s, own, p);
  if (p.max_results <= 0) return all;
  // Capped: the first max_results non-universal-appended rows, then every universal node not
  // among them, by id.
  std::size_t ranked = 0;
  for (const auto& row : all) {
    const Node nd = s.node(s.find(row.first));
    const bool typed = p.types.empty() ||
                       std::find(p.types.begin(), p.types.end(), nd.type) != p.types.end();
    if (!(own.act[std::size_t(s.find(row.first))] > 0.0 &&
          own.act[std::size_t(s.find(row.first))] >= p.min_activation && typed))
      break;
    ++ranked;
  }
  const std::size_t keep = std::min<std::size_t>(ranked, std::size_t(p.max_results));
  std::vector<std::pair<std::string, double>> out(all.begin(), all.begin() + std::ptrdiff_t(keep));
  std::vector<std::pair<std::string, double>> uni;
  for (std::int64_t i = 0; i < s.num_nodes(); ++i) {
    const Node nd = s.node(i);
    if (!nd.universal) continue;
    if (std::any_of(out.begin(), out.end(), [&](const auto& x) { return x.first == nd.id; }))
      continue;
    uni.emplace_back(nd.id, own.act[std::size_t(i)]);
  }
  std::sort(uni.begin(), uni.end());
  out.insert(out.end(), uni.begin(), uni.end());
  return out;
}

void expect_rows(const Store& s, const QueryResult& r, const QueryParams& p,
                 const std::string& where) {
  const auto want = expected_rows(s, r, p);
  ASSERT_EQ(r.results.size(), want.size()) << where;
  std::set<std::int64_t> seeds;
  for (const SeedHit& h : r.seeds) seeds.insert(h.node);
  for (std::size_t k = 0; k < want.size(); ++k) {
    const Activated& row = r.results[k];
    ASSERT_EQ(row.id, want[k].first) << where << " row " << k;
    EXPECT_EQ(double(row.activation), want[k].second) << where << " row " << k;
    const Node nd = s.node(row.node);
    EXPECT_EQ(row.id, nd.id);
    EXPECT_EQ(row.type, nd.type);
    EXPECT_EQ(row.title, nd.title);
    EXPECT_EQ(row.universal, nd.universal);
    EXPECT_EQ(row.seed, seeds.count(row.node) > 0) << where << " row " << k;
  }
}

TEST(RelevanceExtract, LargeActiveSetsInBruteForceOrder) {
  const int n = 20000;
  Store s = large_store(n, 12);
  std::vector<Query> batch;
  for (int k = 0; k < 4; ++k) {
    Query q;
    q.seeds = {{"n" + std::to_string(17 + 101 * k), 1.0f}, {"n" + std::to_string(19000 - k), 0.8f},
               {"n" + std::to_string(5000 + k), 0.6f}};
    q.params.types = {};
    q.params.tolerance = 0.0f;
    q.params.max_iterations = 7;
    if (k == 1) q.params.types = {"concept"};
    if (k == 2) q.params.max_results = 12000;
    if (k == 3) q.params.min_activation = 0.9f;
    batch.push_back(q);
  }
  const std::vector<QueryResult> rs = s.query_batch(batch);
  std::size_t saturated = 0;
  for (std::size_t k = 0; k < batch.size(); ++k) {
    const std::string where = "query " + std::to_string(k);
    const QueryResult& r = rs[k];
    // The propagation is the same for the four (only extraction differs): one float64 check.
    if (k == 0) expect_matches_reference(r, relevance_reference(s, batch[k]), n, where);
    expect_rows(s, r, batch[k].params, where);
    // Alone, the query extracts on every thread: the same rows.
    const QueryResult one = s.query(batch[k]);
    ASSERT_EQ(one.results.size(), r.results.size()) << where;
    for (std::size_t j = 0; j < r.results.size(); ++j) {
      EXPECT_EQ(one.results[j].node, r.results[j].node) << where << " row " << j;
      EXPECT_EQ(one.results[j].confidence, r.results[j].confidence) << where << " row " << j;
    }
    for (const Activated& row : r.results) saturated += row.activation == 1.0f;
  }
  EXPECT_GT(rs[0].results.size(), std::size_t(16384));  // past the parallel extraction's floor
  EXPECT_GE(rs[2].results.size(), std::size_t(12000));  // capped (then the universal nodes)
  EXPECT_GT(saturated, std::size_t(100));  // ties at activation 1, ordered by id
}

}  // namespace
}  // namespace mpe::test
