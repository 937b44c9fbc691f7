// A loaded store changing under queries: nodes and edges added and removed without a reload
// give the same answers as a store built from scratch with the final graph, and the file read
// again holds the same graph.
#include <algorithm>
#include <cstdio>
#include <map>
#include <random>
#include <set>
#include <tuple>
#include <unistd.h>

#include <gtest/gtest.h>
#include <mpe/error.hpp>
#include <mpe/relevance.hpp>

namespace mpe::test {
namespace {
using namespace mpe::relevance;

std::vector<float> emb_of(int i) {
  std::vector<float> e(4, 0.1f);
  e[std::size_t(i % 4)] = 1.0f + 0.01f * float(i);
  return e;
}

Node node_of(int i) {
  Node n;
  n.id = "n" + std::to_string(i);
  n.type = "concept";
  n.residual = 0.3f + 0.01f * float(i % 50);
  return n;
}

// Edges and nodes as sets of ids, to compare stores whatever their indices.
std::set<std::tuple<std::string, std::string, std::string, float>> edge_set(const Store& s) {
  std::set<std::tuple<std::string, std::string, std::string, float>> out;
  for (const Edge& e : s.edges()) out.insert({e.source, e.target, e.type, e.weight});
  return out;
}

// Activations by node id of a spreading query and a PPR query from the same seeds.
std::map<std::string, float> answers(const Store& s, const std::vector<std::string>& seeds, bool ppr) {
  Query q;
  for (const auto& id : seeds) q.seeds.push_back({id, 0.9f});
  q.params.types = {};
  q.params.tolerance = 0.0f;
  if (ppr) {
    q.params.propagation = Propagation::ppr;
    q.params.ppr_top_k = int(s.num_nodes());
    q.params.ppr_tolerance = 1e-7f;
  }
  std::map<std::string, float> out;
  for (const auto& [i, a] : s.query(q).active) out[s.node(i).id] = a;
  return out;
}

TEST(RelevanceDynamic, AddAndRemoveWithoutReloadMatchesFreshStore) {
  char dir[] = "/tmp/mpe_rel_dyn_XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/g.db";
  std::mt19937_64 rng(4);
  std::vector<Edge> all;
  {
    Store s = Store::create(path, 4);
    s.set_dense_switch(0.0f);  // pull iterations read the patched pull view too
    std::vector<Node> nodes;
    std::vector<float> emb;
    for (int i = 0; i < 60; ++i) {
      nodes.push_back(node_of(i));
      const auto e = emb_of(i);
      emb.insert(emb.end(), e.begin(), e.end());
    }
    s.add_nodes(nodes, emb);
    std::set<std::pair<int, int>> seen;
    std::vector<Edge> edges;
    while (edges.size() < 300) {
      const int a = int(rng() % 60), b = int(rng() % 60);
      if (!seen.insert({a, b}).second) continue;
      edges.push_back({"n" + std::to_string(a), "n" + std::to_string(b), "R",
                       0.2f + 0.8f * float(rng() % 100) / 100.0f, 0.5f, 0.5f});
    }
    s.add_edges(edges);
    answers(s, {"n1", "n2"}, false);  // the loaded graph is in use before the changes
    answers(s, {"n1", "n2"}, true);
    // Grow: new nodes with edges to old ones; shrink: remove nodes (low, middle, last).
    s.add_nodes({node_of(60), node_of(61)}, [] {
      auto a = emb_of(60), b = emb_of(61);
      a.insert(a.end(), b.begin(), b.end());
      return a;
    }());
    s.add_edges({{"n60", "n1", "R", 0.9f, 0.5f, 0.5f}, {"n2", "n61", "R", 0.8f, 0.5f, 0.5f},
                 {"n61", "n60", "R", 0.7f, 0.5f, 0.5f}});
    s.remove_nodes({"n5", "n30", "n61", "n0"});
    EXPECT_EQ(s.num_nodes(), 58);
    EXPECT_EQ(s.find("n30"), -1);
    EXPECT_GE(s.find("n60"), 0);
    for (const Edge& e : s.edges()) {
      for (const char* gone : {"n5", "n30", "n61", "n0"}) {
        EXPECT_NE(e.source, gone);
        EXPECT_NE(e.target, gone);
      }
    }
    // A fresh store with the final graph answers the same.
    Store fresh = Store::in_memory(4);
    std::vector<Node> fn;
    std::vector<float> fe;
    for (std::int64_t i = 0; i < s.num_nodes(); ++i) {
      fn.push_back(s.node(i));
      const int k = std::stoi(fn.back().id.substr(1));
      const auto e = emb_of(k);
      fe.insert(fe.end(), e.begin(), e.end());
    }
    fresh.add_nodes(fn, fe);
    fresh.add_edges(s.edges());
    for (bool ppr : {false, true}) {
      const auto a = answers(s, {"n1", "n60"}, ppr), b = answers(fresh, {"n1", "n60"}, ppr);
      ASSERT_EQ(a.size(), b.size()) << ppr;
      for (const auto& [id, v] : a) EXPECT_NEAR(v, b.at(id), 1e-6) << id << " ppr " << ppr;
    }
    EXPECT_THROW(s.remove_nodes({"n7", "nope"}), Error);
    EXPECT_THROW(s.remove_nodes({"n7", "n7"}), Error);
    EXPECT_GE(s.find("n7"), 0) << "a refused removal changes nothing";
    all = s.edges();
  }
  // The file holds the same graph.
  Store back = Store::open(path);
  EXPECT_EQ(back.num_nodes(), 58);
  std::set<std::tuple<std::string, std::string, std::string, float>> want;
  for (const Edge& e : all) want.insert({e.source, e.target, e.type, e.weight});
  EXPECT_EQ(edge_set(back), want);
  for (std::int64_t i = 0; i < back.num_nodes(); ++i) EXPECT_EQ(back.find(back.node(i).id), i);
  std::remove(path.c_str());
  std::remove((path + "-wal").c_str());
  std::remove((path + "-shm").c_str());
  rmdir(dir);
}

}  // namespace
}  // namespace mpe::test
