// mpe-bench op relevance: batched relevance queries on the demo graph or an R-MAT store.
#include "cases.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <unistd.h>

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

// The parameters relevance and relevance_engine share: graph, gate, mode, dense switch and,
// for rmat, --nodes, --degree (csr_aggregate's) and the embedding dimension.
std::vector<Param> relevance_graph_params() {
  const double inf = std::numeric_limits<double>::infinity();
  return {text_param("rel-graph",
                     "relevance: demo (data/relevance) or rmat (--nodes, --degree; random "
                     "embeddings)",
                     {"demo", "rmat"}, one_of({"demo", "rmat"})),
          text_param("rel-gate", "relevance: edge gate (messages where a*w > gate)", {"0"},
                     number_in(0.0, inf)),
          text_param("rel-mode", "relevance: spreading or ppr (personalised PageRank)",
                     {"spreading"}, one_of({"spreading", "ppr"})),
          text_param("rel-dense",
                     "relevance: dense switch fraction (auto = the store's default; 0 = always "
                     "pull, 2 = always push)",
                     {"auto"}, number_in(0.0, inf, {"auto"})),
          uses("nodes"),
          uses("degree"),
          int_param("rel-dim", "relevance: embedding dimension (rmat)", {64}, 1)};
}

// The demo graph has its own size and embeddings: no nodes, degree or dimension.
bool relevance_adjust(CasePoint& p) {
  if (p.params.at("rel_graph") == "demo") {
    p.params.erase("nodes");
    p.params.erase("degree");
    p.params.erase("rel_dim");
  }
  return true;
}

namespace {
std::vector<Param> relevance_params() {
  std::vector<Param> params = relevance_graph_params();
  params.push_back(int_param("rel-batch", "relevance: queries per call", {1, 256}, 1));
  return params;
}
}  // namespace

MPE_BENCH_OP(OpSpec{"relevance", "relevance-engine queries: --rel-graph, --rel-batch, --rel-dim",
                    "node embeddings read once per call (n*d*4); GFLOP/s = 2*B*n*d / time\n"
                    "(the seeding product); queries/s; p50/p99 per call and edges touched/s\n"
                    "printed after each row",
                    relevance_params(), prepare_relevance, relevance_adjust})

}  // namespace mpe::bench
