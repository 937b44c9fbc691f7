// mpe-bench op relevance_engine: single relevance queries submitted to mpe::Engine from client
// threads, which groups them into Store::query_batch calls of at most --engine-batch (1: no
// batching). The graph, query pool and modes are the relevance op's (ops/relevance.cpp).
#include <chrono>
#include <future>
#include <thread>

#include <fmt/format.h>
#include <mpe/engine.hpp>
#include <mpe/relevance.hpp>

#include "cases.hpp"
#include "ops/common.hpp"
#include "ops/registry.hpp"

namespace mpe::bench {

// From ops/relevance.cpp.
std::shared_ptr<relevance::Store> relevance_store(const CasePoint& p, std::uint64_t seed);
std::vector<relevance::Query> relevance_query_pool(const CasePoint& p, int dim, std::uint64_t seed);
float relevance_dense_fraction(const CasePoint& p);
std::vector<Param> relevance_graph_params();
bool relevance_adjust(CasePoint& p);

namespace {
using namespace mpe::relevance;

// One run = `rel_requests` submissions from `clients` threads, each waiting for its own
// futures. Items: queries. After the runs: the engine's counters and latencies.
PreparedCase prepare_relevance_engine(const CasePoint& p, const Device& device,
                                      std::uint64_t seed) {
  const std::int64_t N = param(p, "rel_requests"), C = param(p, "clients");
  const std::int64_t batch = param(p, "engine_batch");
  std::shared_ptr<Store> store = relevance_store(p, seed);
  store->set_dense_switch(relevance_dense_fraction(p));
  auto pool = std::make_shared<std::vector<Query>>(relevance_query_pool(p, store->dim(), seed));
  EngineOptions o;
  o.device = device.str();
  o.max_batch = static_cast<std::size_t>(batch);
  o.max_delay = std::chrono::microseconds(batch > 1 ? 1000 : 0);
  auto engine = std::make_shared<Engine>(o);
  std::shared_ptr<const Store> cstore = store;
  PreparedCase c;
  c.run = [engine, cstore, pool, N, C] {
    std::vector<std::thread> clients;
    for (std::int64_t k = 0; k < C; ++k) {
      clients.emplace_back([&, k] {
        std::vector<std::future<QueryResult>> mine;
        for (std::int64_t i = k; i < N; i += C)
          mine.push_back(engine->submit(cstore, (*pool)[std::size_t(i) % pool->size()]).result);
        for (auto& f : mine) f.get();
      });
    }
    for (auto& t : clients) t.join();
  };
  const StoreStats st = store->stats();
  c.shape = fmt::format("{} {} n={} nnz={} gate={} requests={} clients={} max_batch={}",
                        p.params.at("rel_graph"), p.params.at("rel_mode"), st.nodes, st.edges,
                        p.params.at("rel_gate"), N, C, batch);
  c.items = double(N);
  c.items_unit = "queries";
  c.nnz = st.edges;
  c.after = [engine] { return engine->stats().str(); };
  return c;
}

std::vector<Param> relevance_engine_params() {
  std::vector<Param> params = uses_of(relevance_graph_params());  // declared by relevance
  params.push_back(
      int_param("rel-requests", "relevance_engine: single-query requests per run", {1024}, 1));
  params.push_back(uses("clients"));
  params.push_back(uses("engine-batch"));
  return params;
}
}  // namespace

MPE_BENCH_OP(OpSpec{"relevance_engine",
                    "relevance queries through mpe::Engine: --rel-requests, --clients, "
                    "--engine-batch",
                    "", relevance_engine_params(), prepare_relevance_engine, relevance_adjust})

}  // namespace mpe::bench
