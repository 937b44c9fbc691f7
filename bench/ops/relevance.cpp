// mpe-bench op relevance: batched relevance queries on the demo graph or an R-MAT store.
#include "cases.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <mpe/relevance.hpp>

#include "graphs.hpp"
#include "ops/common.hpp"
#include "ops/registry.hpp"

namespace mpe::bench {

namespace {
using namespace mpe::relevance;

// Stores are cached by their parameters: building a 10M-edge store takes a while.
std::map<std::string, std::shared_ptr<Store>>& store_cache() {
  static std::map<std::string, std::shared_ptr<Store>> c;
  return c;
}

std::shared_ptr<Store> demo_store() {
  const std::string dir = std::string(MPE_SOURCE_DIR) + "/data/relevance";
  auto s = std::make_shared<Store>(Store::in_memory(ImportOptions{}.embed_dim));
  s->import_csv(dir + "/nodes.csv", dir + "/edges.csv");
  return s;
}

// R-MAT graph (bench/graphs) as a store: edge j -> i for every pull-CSR entry (i, j), weights
// scaled into [1/3, 1), duplicates dropped; random unit embeddings of dimension `dim`.
std::shared_ptr<Store> rmat_store(std::int64_t nodes, std::int64_t degree, int dim,
                                  std::uint64_t seed) {
  const Csr& g = synthetic_graph("rmat", nodes, degree, seed);
  const Coo coo = csr_to_coo(g);
  auto s = std::make_shared<Store>(Store::in_memory(dim));
  std::mt19937_64 rng(seed + 17);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::vector<Node> ns(static_cast<std::size_t>(nodes));
  std::vector<float> emb(static_cast<std::size_t>(nodes) * std::size_t(dim));
  for (std::int64_t i = 0; i < nodes; ++i) {
    Node& n = ns[std::size_t(i)];
    n.id = "n" + std::to_string(i);
    n.type = i % 3 == 0 ? "capability" : (i % 3 == 1 ? "constraint" : "guideline");
    n.title = n.id;
    n.universal = i < 2;
  }
  for (auto& v : emb) v = nd(rng);
  s->add_nodes(ns, emb);
  std::vector<Edge> edges;
  edges.reserve(coo.rows.size());
  std::int64_t prev_r = -1, prev_c = -1;
  for (std::size_t k = 0; k < coo.rows.size(); ++k) {
    if (coo.rows[k] == prev_r && coo.cols[k] == prev_c) continue;  // sorted: duplicates adjacent
    prev_r = coo.rows[k];
    prev_c = coo.cols[k];
    edges.push_back({ns[std::size_t(coo.cols[k])].id, ns[std::size_t(coo.rows[k])].id, "RELATES_TO",
                     coo.weights[k] / 1.5f, u(rng), 0.5f});
  }
  s->add_edges(edges);
  return s;
}
}  // namespace

std::shared_ptr<Store> relevance_store(const CasePoint& p, std::uint64_t seed) {
  const std::string graph = p.params.at("rel_graph");
  const std::string key =
      graph == "demo" ? std::string("demo")
                      : fmt::format("rmat:{}:{}:{}", p.params.at("nodes"), p.params.at("degree"),
                                    p.params.at("rel_dim"));
  auto it = store_cache().find(key);
  if (it != store_cache().end()) return it->second;
  auto store = graph == "demo" ? demo_store()
                               : rmat_store(std::stoll(p.params.at("nodes")),
                                            std::stoll(p.params.at("degree")),
                                            std::stoi(p.params.at("rel_dim")), seed);
  store_cache().emplace(key, store);
  return store;
}

std::vector<Query> relevance_query_pool(const CasePoint& p, int dim, std::uint64_t seed) {
  const std::string graph = p.params.at("rel_graph");
  const float gate = std::stof(p.params.at("rel_gate"));
  const bool ppr = p.params.at("rel_mode") == "ppr";
  std::vector<Query> pool;
  std::mt19937_64 rng(seed + 5);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  const char* demo_messages[] = {
      "show me what serenity looks like", "remind me tomorrow at 9 to call the dentist",
      "what did I tell you last week about my sister", "plot my spending by month",
      "translate this into Japanese", "find flights to Lisbon in May",
      "write an email to my landlord about the heating", "is this mole something to worry about"};
  for (int k = 0; k < 1024; ++k) {
    Query q;
    if (graph == "demo") {
      q.embedding = TextEmbedder(dim).embed(demo_messages[k % 8]);
    } else {
      q.embedding.resize(std::size_t(dim));
      for (auto& v : q.embedding) v = nd(rng);
      q.params.seed_threshold = 0.0f;
    }
    q.params.edge_gate = gate;
    if (ppr) {  // HippoRAG's use: top 10 of every type by PPR from the seeds
      q.params.propagation = Propagation::ppr;
      q.params.types = {};
    }
    pool.push_back(q);
  }
  return pool;
}

float relevance_dense_fraction(const CasePoint& p) {
  static const float kDefault = Store::in_memory(1).dense_switch();  // the library's default
  const std::string& d = p.params.at("rel_dense");
  return d == "auto" ? kDefault : std::stof(d);
}

// One run = one query_batch call of `rel_batch` queries (random unit embeddings from a pool
// of 1024, rotating), default parameters except seed_threshold 0 (random vectors rarely reach
// 0.3), so every query has top_k = 10 seeds, and the edge gate of --rel-gate. Bytes: the embedding matrix read once per call
// plus, per query, the edges it touched (target, weight, type, confidence: 16 bytes each) and
// the offsets of its frontier rows; items = queries.
PreparedCase prepare_relevance(const CasePoint& p, const Device& device, std::uint64_t seed) {
  const std::string graph = p.params.at("rel_graph");
  const std::int64_t batch = std::stoll(p.params.at("rel_batch"));
  const float gate = std::stof(p.params.at("rel_gate"));
  const std::shared_ptr<Store> store = relevance_store(p, seed);
  const int dim = store->dim();
  const StoreStats st = store->stats();
  auto pool = std::make_shared<std::vector<Query>>(relevance_query_pool(p, dim, seed));
  const float dense = relevance_dense_fraction(p);
  struct State {
    std::size_t next = 0;
    std::vector<double> ms;       // wall time of each call
    std::int64_t messages = 0;    // edges that carried a message, all calls
    std::int64_t queries = 0;
    std::int64_t iterations = 0;
    double setup_ms = -1;  // PPR: view build and one query, before the calls
  };
  auto state = std::make_shared<State>();
  // PPR: the store's cached view (component order, pull rows) is built by the first query after
  // a load or write; build it here and report its time apart from the calls.
  if (p.params.at("rel_mode") == "ppr") {
    const auto t0 = std::chrono::steady_clock::now();
    store->query_batch({pool->front()}, device);
    state->setup_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  }
  PreparedCase c;
  c.run = [store, pool, state, batch, device, dense] {
    store->set_dense_switch(dense);  // stores are shared by the rows
    std::vector<Query> qs;
    for (std::int64_t k = 0; k < batch; ++k) qs.push_back((*pool)[(state->next++) % pool->size()]);
    const auto t0 = std::chrono::steady_clock::now();
    const auto rs = store->query_batch(qs, device);
    state->ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    for (const auto& r : rs) {
      state->messages += r.edges_touched;
      state->iterations += r.iterations;
    }
    state->queries += std::int64_t(rs.size());
  };
  c.bytes = 4.0 * double(st.nodes) * dim;  // the similarity pass; edges are added per run below
  c.flops = 2.0 * double(batch) * double(st.nodes) * dim;
  c.nnz = st.edges;
  c.items = double(batch);
  c.shape = fmt::format("{} {} n={} nnz={} d={} B={} gate={} dense={}", graph,
                        p.params.at("rel_mode"), st.nodes, st.edges, dim, batch, gate,
                        p.params.at("rel_dense"));
  c.after = [state, batch] {
    std::vector<double> v = state->ms;
    if (v.empty()) return std::string();
    std::sort(v.begin(), v.end());
    auto pct = [&](double q) { return v[std::min(v.size() - 1, std::size_t(q * double(v.size())))]; };
    double total = 0;
    for (double x : state->ms) total += x;
    return fmt::format(
        "relevance B={}: call p50 {:.3f} ms, p99 {:.3f} ms (wall, {} calls incl. warm-up); "
        "{:.1f} messages and {:.2f} iterations per query; {:.3g} edges touched/s",
        batch, pct(0.5), pct(0.99), v.size(), double(state->messages) / double(state->queries),
        double(state->iterations) / double(state->queries),
        double(state->messages) / (total / 1e3)) +
           (state->setup_ms >= 0 ? fmt::format("; PPR view build + first query {:.1f} ms", state->setup_ms)
                                 : std::string());
  };
  return c;
}

namespace {
void validate_relevance(const Grid& g) {
  check_at_least("rel-batch", g.rel_batch, 1);
  check_at_least("rel-dim", g.rel_dim, 1);
  check_at_least("nodes", g.nodes, 1);
  check_at_least("degree", g.degree, 0);
  for (const auto& gate : g.rel_gate) {
    char* end = nullptr;
    const float v = std::strtof(gate.c_str(), &end);
    if (gate.empty() || *end != '\0' || !(v >= 0.0f))
      throw Error(ErrorCode::invalid_argument, fmt::format("--rel-gate '{}' must be a number >= 0", gate));
  }
  for (const auto& m : g.rel_mode)
    if (m != "spreading" && m != "ppr")
      throw Error(ErrorCode::invalid_argument, fmt::format("--rel-mode '{}': spreading or ppr", m));
  for (const auto& d : g.rel_dense) {
    char* end = nullptr;
    const float v = std::strtof(d.c_str(), &end);
    if (d != "auto" && (d.empty() || *end != '\0' || !(v >= 0.0f)))
      throw Error(ErrorCode::invalid_argument, fmt::format("--rel-dense '{}': auto or a number >= 0", d));
  }
  for (const auto& k : g.rel_graphs) {
    if (k != "demo" && k != "rmat") {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("unknown relevance graph '{}' (demo or rmat)", k));
    }
  }
}

}  // namespace

// Every (graph, gate, mode, dense switch[, nodes, degree, dim]) of the grid.
std::vector<CasePoint> relevance_points(const Grid& grid) {
  std::vector<CasePoint> out;
  for (const auto& gk : grid.rel_graphs)
    for (const auto& gate : grid.rel_gate)
      for (const auto& mode : grid.rel_mode)
        for (const auto& dense : grid.rel_dense) {
          CasePoint c{"", {{"rel_graph", gk}, {"rel_gate", gate}, {"rel_mode", mode}, {"rel_dense", dense}}};
          if (gk == "demo") {
            out.push_back(c);
            continue;
          }
          for (auto n : grid.nodes)
            for (auto d : grid.degree)
              for (auto dim : grid.rel_dim) {
                c.params["nodes"] = std::to_string(n);
                c.params["degree"] = std::to_string(d);
                c.params["rel_dim"] = std::to_string(dim);
                out.push_back(c);
              }
        }
  return out;
}

namespace {
void expand_relevance(const Grid& grid, std::vector<CasePoint>& out) {
  for (const auto& base : relevance_points(grid))
    for (auto b : grid.rel_batch) {
      CasePoint c = base;
      c.op = "relevance";
      c.params["rel_batch"] = std::to_string(b);
      out.push_back(c);
    }
}

// mpe-bench's flags of this op (their values fill the grid).
void add_relevance_flags(CLI::App& app, Grid& g) {
  app.add_option("--rel-graph", g.rel_graphs,
                 "relevance: demo (data/relevance) or rmat (--nodes, --degree; random embeddings)")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--rel-batch", g.rel_batch, "relevance: queries per call")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--rel-gate", g.rel_gate, "relevance: edge gate (messages where a*w > gate)")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--rel-dim", g.rel_dim, "relevance: embedding dimension (rmat)")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--rel-mode", g.rel_mode, "relevance: spreading or ppr (personalised PageRank)")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--rel-dense", g.rel_dense,
                 "relevance: dense switch fraction (auto = the store's default; 0 = always pull, "
                 "2 = always push)")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--rel-requests", g.rel_requests,
                 "relevance_engine: single-query requests per run")
      ->delimiter(',')
      ->capture_default_str();
}
}  // namespace

MPE_BENCH_OP({"relevance", validate_relevance, expand_relevance,
              [](const CasePoint& p, const Device& d, std::uint64_t seed, const std::string&) {
                return prepare_relevance(p, d, seed);
              },
              add_relevance_flags})

}  // namespace mpe::bench
