// Relevance engine: the spec's worked example, propagation against a float64 reference on
// random graphs, seeding against brute force, extraction rules, gates and levels, the dynamic
// graph, and bad input.
#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <tuple>

#include <gtest/gtest.h>
#include <mpe/npy.hpp>
#include <mpe/relevance.hpp>

#include "support/errors.hpp"
#include "support/relevance_random.hpp"
#include "support/relevance_ref.hpp"

namespace mpe::test {
namespace {
using namespace mpe::relevance;

// A node with a unit embedding along axis `axis` (dim 8) unless given.
Node make_node(const std::string& id, const std::string& type, bool universal = false) {
  Node n;
  n.id = id;
  n.type = type;
  n.title = id;
  n.universal = universal;
  return n;
}

std::vector<float> axis_embeddings(std::size_t count, int dim) {
  std::vector<float> e(count * std::size_t(dim), 0.0f);
  for (std::size_t i = 0; i < count; ++i) {
    e[i * std::size_t(dim) + i % std::size_t(dim)] = 1.0f;
    e[i * std::size_t(dim) + (i + 1) % std::size_t(dim)] = 0.25f;
  }
  return e;
}

// The seed's image-generation graph.
Store seed_graph() {
  Store s = Store::in_memory(8);
  std::vector<Node> nodes = {
      make_node("img_gen_capability", "capability"),
      make_node("visual_content_concept", "concept"),
      make_node("abstract_concept_handling", "guideline"),
      make_node("generate_image", "action"),
      make_node("never_mention_cost", "constraint"),
      make_node("ultra_short_questions", "constraint"),
      make_node("media_generation_constraints", "composite"),
      make_node("ignore_cost_history", "constraint"),
      make_node("use_transition_message", "constraint"),
      make_node("language_matching", "constraint", true),
      make_node("json_structure", "constraint", true),
      make_node("memory_retrieval_guidelines", "guideline"),
      make_node("view_switch_constraints", "constraint"),
      make_node("web_search_guidelines", "guideline"),
  };
  s.add_nodes(nodes, axis_embeddings(nodes.size(), 8));
  s.add_edges({
      {"img_gen_capability", "generate_image", "ENABLES", 0.9f},
      {"img_gen_capability", "never_mention_cost", "HAS_CONSTRAINT", 1.0f},
      {"img_gen_capability", "ultra_short_questions", "HAS_CONSTRAINT", 0.8f},
      {"img_gen_capability", "media_generation_constraints", "REQUIRES", 0.95f},
      {"media_generation_constraints", "never_mention_cost", "PART_OF", 1.0f},
      {"media_generation_constraints", "ignore_cost_history", "PART_OF", 0.9f},
      {"media_generation_constraints", "use_transition_message", "PART_OF", 0.85f},
      {"media_generation_constraints", "ultra_short_questions", "PART_OF", 0.9f},
      {"visual_content_concept", "img_gen_capability", "APPLIES_TO", 0.8f},
      {"abstract_concept_handling", "img_gen_capability", "APPLIES_TO", 0.6f},
      {"visual_content_concept", "view_switch_constraints", "APPLIES_TO", 0.1f},
      {"memory_retrieval_guidelines", "web_search_guidelines", "ENABLES", 0.7f},
  });
  return s;
}

float activation_of(const QueryResult& r, const Store& s, const std::string& id) {
  const std::int64_t i = s.find(id);
  for (const auto& [node, a] : r.active)
    if (node == i) return a;
  return 0.0f;
}

TEST(RelevanceWorkedExample, FirstHopMessages) {
  Store s = seed_graph();
  // Residual 0 and threshold 0 on the targets: after one iteration a_i is the aggregate.
  Query q;
  q.seeds = {{"img_gen_capability", 0.78f}};
  q.params.max_iterations = 1;
  q.params.propagation_threshold = 0.0f;
  Store s0 = Store::in_memory(8);
  {
    std::vector<Node> nodes;
    for (std::int64_t i = 0; i < s.num_nodes(); ++i) {
      Node n = s.node(i);
      n.residual = 0.0f;
      nodes.push_back(n);
    }
    s0.add_nodes(nodes, axis_embeddings(nodes.size(), 8));
    s0.add_edges(s.edges());
  }
  const QueryResult r = s0.query(q);
  EXPECT_EQ(r.iterations, 1);
  EXPECT_NEAR(activation_of(r, s0, "generate_image"), 0.702f, 1e-6);
  EXPECT_NEAR(activation_of(r, s0, "never_mention_cost"), 0.78f, 1e-6);
  EXPECT_NEAR(activation_of(r, s0, "ultra_short_questions"), 0.624f, 1e-6);
  EXPECT_NEAR(activation_of(r, s0, "media_generation_constraints"), 0.741f, 1e-6);
  // The seed's rounded figures.
  EXPECT_NEAR(std::round(activation_of(r, s0, "generate_image") * 100.0) / 100, 0.70, 1e-6);
  EXPECT_NEAR(std::round(activation_of(r, s0, "ultra_short_questions") * 100.0) / 100, 0.62, 1e-6);
  EXPECT_NEAR(std::round(activation_of(r, s0, "media_generation_constraints") * 100.0) / 100, 0.74,
              1e-6);
  // The seed received no message: it decays (0.78 · 0.9).
  EXPECT_NEAR(activation_of(r, s0, "img_gen_capability"), 0.702f, 1e-6);
  EXPECT_EQ(r.edges_touched, 4);
  // With the default residual 0.5 the same messages are mixed half and half with a_i = 0.
  const QueryResult r5 = s.query(q);
  EXPECT_NEAR(activation_of(r5, s, "never_mention_cost"), 0.39f, 1e-6);
}

TEST(RelevanceWorkedExample, ConvergedOrderingMatchesReference) {
  Store s = seed_graph();
  Query q;
  q.seeds = {{"img_gen_capability", 0.78f},
             {"visual_content_concept", 0.65f},
             {"abstract_concept_handling", 0.52f}};
  const QueryResult r = s.query(q);  // the spec's defaults: 5 iterations at most
  const RelRef ref = relevance_reference(s, q);
  EXPECT_EQ(r.iterations, ref.iterations);
  EXPECT_EQ(r.converged, ref.converged);
  // Seeds without incoming messages keep decaying (by 0.1 a per iteration), so the defaults
  // stop at the cap here.
  EXPECT_EQ(r.iterations, 5);
  for (std::int64_t i = 0; i < s.num_nodes(); ++i)
    EXPECT_NEAR(activation_of(r, s, s.node(i).id), ref.act[std::size_t(i)], 1e-5) << s.node(i).id;
  const auto want = reference_extract(s, ref, q.params);
  ASSERT_EQ(r.results.size(), want.size());
  for (std::size_t k = 0; k < want.size(); ++k) {
    EXPECT_EQ(r.results[k].id, want[k].first) << k;
    EXPECT_NEAR(r.results[k].activation, want[k].second, 1e-5) << k;
  }
  // The spec's logic: media constraints reached through the graph are in, sorted descending;
  // the action and the composite are filtered by type; both universal nodes come last; the
  // unconnected guidelines are not.
  std::vector<std::string> ids;
  for (const auto& a : r.results) ids.push_back(a.id);
  EXPECT_NE(std::find(ids.begin(), ids.end(), "never_mention_cost"), ids.end());
  EXPECT_NE(std::find(ids.begin(), ids.end(), "ignore_cost_history"), ids.end());
  EXPECT_EQ(std::find(ids.begin(), ids.end(), "generate_image"), ids.end());
  EXPECT_EQ(std::find(ids.begin(), ids.end(), "media_generation_constraints"), ids.end());
  EXPECT_EQ(std::find(ids.begin(), ids.end(), "web_search_guidelines"), ids.end());
  ASSERT_GE(ids.size(), 2u);
  EXPECT_EQ(ids[ids.size() - 2], "json_structure");
  EXPECT_EQ(ids.back(), "language_matching");
  EXPECT_TRUE(r.results.back().universal);
  EXPECT_EQ(r.results.back().activation, 0.0f);
  for (std::size_t k = 1; k + 2 < r.results.size(); ++k)
    EXPECT_GE(r.results[k - 1].activation, r.results[k].activation);
  // Confidence: seeds keep their similarity unless reached; a node reached only through edges
  // of confidence 0.5 (the default) has confidence 0.5.
  for (const auto& a : r.results)
    if (a.id == "ignore_cost_history") {
      EXPECT_NEAR(a.confidence, 0.5f, 1e-6);
    }
}

// Random graph with random node parameters, type weights and levels.
Store random_store(std::mt19937_64& rng, int n, int m, int dim, int levels) {
  Store s = Store::in_memory(dim);
  std::uniform_real_distribution<float> u(0.0f, 1.0f), g(-1.0f, 1.0f);
  const char* types[] = {"ENABLES", "REQUIRES", "PART_OF"};
  const char* ntypes[] = {"constraint", "capability", "guideline", "concept"};
  std::vector<Node> nodes;
  std::vector<float> emb;
  for (int i = 0; i < n; ++i) {
    Node nd = make_node("n" + std::to_string(i), ntypes[i % 4], i % 17 == 3);
    random_node_params(rng, nd, levels);
    nodes.push_back(nd);
    for (int c = 0; c < dim; ++c) emb.push_back(g(rng));
  }
  s.add_nodes(nodes, emb);
  std::vector<Edge> edges;
  std::set<std::tuple<int, int, int>> seen;
  while (int(edges.size()) < m) {
    const int a = int(rng() % unsigned(n)), b = int(rng() % unsigned(n)), t = int(rng() % 3);
    if (!seen.insert({a, b, t}).second) continue;
    // Some ties in weight, to exercise the row order.
    const float w = u(rng) < 0.1f ? 0.5f : u(rng);
    edges.push_back({"n" + std::to_string(a), "n" + std::to_string(b), types[t], w, u(rng), u(rng)});
  }
  s.add_edges(edges);
  return s;
}

TEST(RelevancePropagation, RandomGraphsMatchFloat64Reference) {
  std::mt19937_64 rng(7);
  int compared = 0;
  for (int trial = 0; trial < 12; ++trial) {
    const int n = 40 + trial * 15, m = n * (2 + trial % 4);
    Store s = random_store(rng, n, m, 8, trial % 3 == 0 ? 3 : 1);
    std::vector<Query> batch;
    for (int qk = 0; qk < 6; ++qk) {
      Query q;
      q.seeds = random_seeds(rng, n, 5, 0.2f);
      q.params.max_iterations = 1 + int(rng() % 12);
      q.params.tolerance = qk % 2 ? 1e-3f : 0.0f;
      q.params.edge_gate = qk % 3 == 0 ? 0.0f : 0.15f;
      q.params.propagation_threshold = qk % 3 == 1 ? 0.0f : 0.05f;
      q.params.level_up_scale = 0.7f;
      q.params.level_down_scale = 1.3f;
      q.params.types = {};
      q.params.min_activation = 0.1f;
      batch.push_back(q);
    }
    const std::vector<QueryResult> rs = s.query_batch(batch);
    for (std::size_t qk = 0; qk < batch.size(); ++qk) {
      const QueryResult& r = rs[qk];
      expect_matches_reference(r, relevance_reference(s, batch[qk]), n,
                               std::to_string(trial) + "/" + std::to_string(qk));
      // Batch = one query at a time.
      const QueryResult one = s.query(batch[qk]);
      EXPECT_EQ(one.active, r.active);
      ++compared;
    }
  }
  EXPECT_EQ(compared, 72);
}

TEST(RelevanceSeeding, TopKCosineMatchesBruteForce) {
  std::mt19937_64 rng(11);
  Store s = random_store(rng, 300, 900, 16, 1);
  std::vector<std::vector<float>> emb;
  std::uniform_real_distribution<float> g(-1.0f, 1.0f);
  // The node embeddings as stored, through an export.
  const std::string dir = ::testing::TempDir() + "rel_seed_export";
  s.export_csv(dir);
  const Tensor t = read_npy_f32(dir + "/embeddings.npy");
  const std::vector<float> flat = t.to_vector<float>();
  for (int i = 0; i < 300; ++i) emb.emplace_back(flat.begin() + i * 16, flat.begin() + (i + 1) * 16);
  std::vector<Query> batch;
  for (int k = 0; k < 9; ++k) {
    Query q;
    for (int c = 0; c < 16; ++c) q.embedding.push_back(g(rng));
    q.params.top_k = 1 + k * 3;
    q.params.seed_threshold = k % 3 == 0 ? -1.0f : 0.2f;
    q.params.max_iterations = 0;
    batch.push_back(q);
  }
  const auto rs = s.query_batch(batch);
  for (std::size_t k = 0; k < batch.size(); ++k) {
    const auto want = reference_seeds(emb, batch[k].embedding, batch[k].params.top_k,
                                      batch[k].params.seed_threshold);
    ASSERT_EQ(rs[k].seeds.size(), want.size()) << k;
    for (std::size_t r = 0; r < want.size(); ++r) {
      EXPECT_EQ(rs[k].seeds[r].node, want[r].first) << k << "/" << r;
      EXPECT_NEAR(rs[k].seeds[r].similarity, want[r].second, 1e-5);
    }
    // No iterations: the active set is the seeds (similarities clamped to 1).
    EXPECT_EQ(rs[k].iterations, 0);
    EXPECT_EQ(rs[k].active.size(), want.size());
  }
}

TEST(RelevanceExtraction, UniversalNodesAlwaysPresent) {
  Store s = seed_graph();
  Query q;
  q.seeds = {{"memory_retrieval_guidelines", 0.9f}};
  for (int variant = 0; variant < 3; ++variant) {
    q.params.types = variant == 0 ? std::vector<std::string>{} : std::vector<std::string>{"guideline"};
    q.params.min_activation = variant == 2 ? 2.0f : 0.25f;  // 2: nothing passes
    q.params.max_results = variant == 1 ? 1 : 0;
    const QueryResult r = s.query(q);
    std::vector<std::string> uni;
    for (const auto& a : r.results)
      if (a.universal) uni.push_back(a.id);
    EXPECT_EQ(uni, (std::vector<std::string>{"json_structure", "language_matching"})) << variant;
    if (variant == 2) {
      EXPECT_EQ(r.results.size(), 2u);
    }
    if (variant == 1) {
      EXPECT_EQ(r.results.size(), 3u);
    }
  }
  q.params.include_universal = false;
  q.params.min_activation = 2.0f;
  EXPECT_TRUE(s.query(q).results.empty());
  // A universal node that is active keeps its activation and sorts with the others.
  Query u;
  u.seeds = {{"language_matching", 0.95f}};
  const QueryResult r = s.query(u);
  ASSERT_FALSE(r.results.empty());
  EXPECT_EQ(r.results.front().id, "language_matching");
  EXPECT_TRUE(r.results.front().seed);
  EXPECT_NEAR(r.results.front().activation, 0.95f * std::pow(0.9f, r.iterations), 1e-5);
}

TEST(RelevanceGate, GateCutsMessagesAndMatchesReference) {
  std::mt19937_64 rng(3);
  Store s = random_store(rng, 400, 4000, 8, 1);
  Query q;
  for (int i = 0; i < 5; ++i) q.seeds.push_back({"n" + std::to_string(i * 13), 0.9f});
  q.params.max_iterations = 5;
  q.params.tolerance = 0.0f;
  std::int64_t prev = -1;
  for (float gate : {0.6f, 0.3f, 0.1f, 0.0f}) {
    q.params.edge_gate = gate;
    const QueryResult r = s.query(q);
    const RelRef ref = relevance_reference(s, q);
    EXPECT_EQ(r.edges_touched, ref.messages) << gate;
    EXPECT_GT(r.edges_touched, prev) << "a lower gate lets more messages through";
    prev = r.edges_touched;
  }
}

TEST(RelevanceLevels, PropagatesAcrossLevelsWithScales) {
  // token (0) -> chunk (1) -> summary (2) up-edges and summary -> other chunk down-edge.
  Store s = Store::in_memory(8);
  std::vector<Node> nodes = {make_node("tok_a", "token"), make_node("tok_b", "token"),
                             make_node("chunk_1", "chunk"), make_node("chunk_2", "chunk"),
                             make_node("summary", "summary")};
  nodes[2].level = nodes[3].level = 1;
  nodes[4].level = 2;
  s.add_nodes(nodes, axis_embeddings(5, 8));
  s.add_edges({{"tok_a", "chunk_1", "PART_OF", 0.9f},
               {"tok_b", "chunk_1", "PART_OF", 0.8f},
               {"chunk_1", "summary", "PART_OF", 0.9f},
               {"summary", "chunk_2", "SUMMARIZES", 0.7f},
               {"chunk_2", "tok_b", "CONTAINS", 0.6f}});
  Query q;
  q.seeds = {{"tok_a", 1.0f}};
  q.params.types = {};
  q.params.max_iterations = 4;
  q.params.tolerance = 0.0f;
  for (const auto& [up, down] : {std::pair{1.0f, 1.0f}, {0.5f, 2.0f}, {1.0f, 0.0f}}) {
    q.params.level_up_scale = up;
    q.params.level_down_scale = down;
    const QueryResult r = s.query(q);
    const RelRef ref = relevance_reference(s, {{0, 1.0}}, q.params);
    for (int i = 0; i < 5; ++i)
      EXPECT_NEAR(activation_of(r, s, nodes[std::size_t(i)].id), ref.act[std::size_t(i)], 1e-6);
    EXPECT_GT(activation_of(r, s, "summary"), 0.0f) << "activation reaches the summary level";
    if (down == 0.0f) {
      EXPECT_EQ(activation_of(r, s, "chunk_2"), 0.0f) << "down-edges switched off";
    } else {
      EXPECT_GT(activation_of(r, s, "chunk_2"), 0.0f) << "and comes back down";
    }
  }
}

TEST(RelevanceDynamic, EdgesChangeBetweenQueries) {
  Store s = seed_graph();
  Query q;
  q.seeds = {{"memory_retrieval_guidelines", 0.9f}};
  q.params.types = {};
  EXPECT_EQ(activation_of(s.query(q), s, "json_structure"), 0.0f);
  s.add_edges({{"memory_retrieval_guidelines", "json_structure", "APPLIES_TO", 0.9f}});
  EXPECT_GT(activation_of(s.query(q), s, "json_structure"), 0.0f);
  s.set_edge_weight("memory_retrieval_guidelines", "json_structure", "APPLIES_TO", 0.0f);
  EXPECT_EQ(activation_of(s.query(q), s, "json_structure"), 0.0f);
  s.set_edge_weight("memory_retrieval_guidelines", "json_structure", "APPLIES_TO", 0.5f);
  const RelRef ref = relevance_reference(s, {{s.find("memory_retrieval_guidelines"), 0.9}}, q.params);
  EXPECT_NEAR(activation_of(s.query(q), s, "json_structure"),
              ref.act[std::size_t(s.find("json_structure"))], 1e-6);
  s.remove_edge("memory_retrieval_guidelines", "json_structure", "APPLIES_TO");
  EXPECT_EQ(activation_of(s.query(q), s, "json_structure"), 0.0f);
  expect_error([&] { s.remove_edge("memory_retrieval_guidelines", "json_structure", "APPLIES_TO"); },
               ErrorCode::invalid_argument, "no edge memory_retrieval_guidelines");
}

TEST(RelevanceBadInput, ErrorsNameTheProblemAndChangeNothing) {
  Store s = seed_graph();
  const auto before_edges = s.edges();
  const auto before_nodes = s.num_nodes();
  auto unchanged = [&] {
    EXPECT_EQ(s.num_nodes(), before_nodes);
    const auto e = s.edges();
    ASSERT_EQ(e.size(), before_edges.size());
    for (std::size_t k = 0; k < e.size(); ++k) EXPECT_EQ(e[k].weight, before_edges[k].weight);
  };
  expect_error([&] { s.add_edges({{"img_gen_capability", "nope", "ENABLES", 0.5f}}); },
               ErrorCode::invalid_argument, "unknown target node id 'nope'");
  unchanged();
  expect_error([&] { s.add_edges({{"web_search_guidelines", "json_structure", "X", 0.5f},
                                  {"img_gen_capability", "generate_image", "ENABLES", 0.5f}}); },
               ErrorCode::invalid_argument, "already in the store");
  unchanged();
  expect_error([&] { s.add_edges({{"web_search_guidelines", "json_structure", "X", 0.5f},
                                  {"web_search_guidelines", "json_structure", "X", 0.7f}}); },
               ErrorCode::invalid_argument, "duplicate edge web_search_guidelines -[X]-> json_structure (also edges[0])");
  unchanged();
  expect_error([&] { s.add_edges({{"web_search_guidelines", "json_structure", "X", 1.5f}}); },
               ErrorCode::invalid_argument, "weight 1.5 is outside [0, 1]");
  expect_error([&] { s.add_edges({{"web_search_guidelines", "json_structure", "X", 0.5f, NAN}}); },
               ErrorCode::invalid_argument, "confidence nan is outside [0, 1]");
  unchanged();
  std::vector<float> emb = axis_embeddings(2, 8);
  emb[9] = NAN;
  expect_error([&] { s.add_nodes({make_node("a", "x"), make_node("b", "x")}, emb); },
               ErrorCode::invalid_argument, "nodes[1] (node 'b'): embedding[1] is nan");
  expect_error([&] { s.add_nodes({make_node("a", "x")}, std::vector<float>(8, 0.0f)); },
               ErrorCode::invalid_argument, "all zeros");
  expect_error([&] { s.add_nodes({make_node("a", "x")}, std::vector<float>(7, 1.0f)); },
               ErrorCode::shape_mismatch, "7 floats for 1 nodes of dimension 8");
  expect_error([&] { s.add_nodes({make_node("a", "x"), make_node("a", "y")}, axis_embeddings(2, 8)); },
               ErrorCode::invalid_argument, "duplicate node id 'a'");
  expect_error([&] { s.add_nodes({make_node("json_structure", "x")}, axis_embeddings(1, 8)); },
               ErrorCode::invalid_argument, "duplicate node id 'json_structure'");
  Node bad = make_node("c", "x");
  bad.residual = 2.0f;
  expect_error([&] { s.add_nodes({bad}, axis_embeddings(1, 8)); }, ErrorCode::invalid_argument,
               "residual 2 is outside [0, 1]");
  unchanged();
  // Queries.
  Query q;
  q.embedding = std::vector<float>(5, 1.0f);
  Query ok;
  ok.embedding = std::vector<float>(8, 1.0f);
  expect_error([&] { s.query_batch({ok, q}); },
               ErrorCode::invalid_argument, "query 1: embedding has 5 values, the store's dimension is 8");
  q.embedding = std::vector<float>(8, 0.0f);
  expect_error([&] { s.query(q); }, ErrorCode::invalid_argument, "all zeros");
  q.embedding[3] = NAN;
  expect_error([&] { s.query(q); }, ErrorCode::invalid_argument, "embedding[3] is nan");
  Query qs;
  qs.seeds = {{"ghost", 0.5f}};
  expect_error([&] { s.query(qs); }, ErrorCode::invalid_argument, "unknown seed node id 'ghost'");
  qs.seeds = {{"json_structure", 1.5f}};
  expect_error([&] { s.query(qs); }, ErrorCode::invalid_argument, "activation 1.5 is outside (0, 1]");
  qs.seeds = {{"json_structure", 0.5f}};
  qs.params.propagation_threshold = -0.1f;
  expect_error([&] { s.query(qs); }, ErrorCode::invalid_argument, "propagation_threshold");
}

}  // namespace
}  // namespace mpe::test
