// mpe-bench ops bp (loopy belief propagation sweeps on synthetic factor graphs or a .fg/.uai
// file) and bp_engine (whole BP requests through mpe::Engine).
#include <algorithm>
#include <cstdlib>
#include <memory>
#include <numeric>
#include <random>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <mpe/engine.hpp>
#include <mpe/error.hpp>
#include <mpe/factor_graph.hpp>

#include "cases.hpp"
#include "ops/common.hpp"
#include "ops/registry.hpp"

namespace mpe::bench {

namespace {
std::vector<double> random_table(std::mt19937_64& rng, std::int64_t n, double scale) {
  std::uniform_real_distribution<double> u(-scale, scale);
  std::vector<double> t(static_cast<std::size_t>(n));
  for (double& x : t) x = u(rng);
  return t;
}
std::vector<double> ising_pair(double j) { return {j, -j, -j, j}; }
}  // namespace

bool known_bp_graph(const std::string& kind) {
  return kind == "grid" || kind == "regular" || kind == "higher" || kind == "rbm";
}

bp::FactorGraph make_bp_graph(const std::string& kind, std::int64_t size, int card,
                              double coupling, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  bp::FactorGraph g;
  auto add_unaries = [&](int k) {
    for (int v = 0; v < g.num_variables(); ++v) g.add_log_factor({v}, random_table(rng, k, 0.5));
  };
  if (kind == "grid") {
    const int n = static_cast<int>(size);
    for (int i = 0; i < n * n; ++i) g.add_variable(card);
    add_unaries(card);
    for (int y = 0; y < n; ++y) {
      for (int x = 0; x < n; ++x) {
        const int i = y * n + x;
        for (int j : {x + 1 < n ? i + 1 : -1, y + 1 < n ? i + n : -1}) {
          if (j < 0) continue;
          g.add_log_factor({i, j}, card == 2 ? ising_pair(coupling * u(rng))
                                             : random_table(rng, card * card, coupling));
        }
      }
    }
  } else if (kind == "regular") {
    const int n = static_cast<int>(size) & ~1;  // pairing model: an even number of stubs
    for (int i = 0; i < n; ++i) g.add_variable(card);
    add_unaries(card);
    std::vector<int> stubs;
    for (int i = 0; i < n; ++i) stubs.insert(stubs.end(), 3, i);
    for (int attempt = 0; attempt < 100; ++attempt) {
      std::shuffle(stubs.begin(), stubs.end(), rng);
      std::set<std::pair<int, int>> pairs;
      bool ok = true;
      for (std::size_t k = 0; k + 1 < stubs.size(); k += 2) {
        const std::pair<int, int> p = std::minmax(stubs[k], stubs[k + 1]);
        ok = ok && p.first != p.second && pairs.insert(p).second;
      }
      if (!ok && attempt < 99) continue;  // retry self-loops and repeated pairs
      for (const auto& [a, b] : pairs) {  // (after 100 tries: drop them)
        if (a == b) continue;
        g.add_log_factor({a, b}, card == 2 ? ising_pair(coupling * u(rng))
                                           : random_table(rng, card * card, coupling));
      }
      break;
    }
  } else if (kind == "higher") {
    const int n = static_cast<int>(size);
    for (int i = 0; i < n; ++i) g.add_variable(2);
    add_unaries(2);
    std::uniform_int_distribution<int> pick(0, n - 1);
    for (int f = 0; f < n; ++f) {
      int a = pick(rng), b = pick(rng), c = pick(rng);
      while (b == a) b = pick(rng);
      while (c == a || c == b) c = pick(rng);
      g.add_log_factor({a, b, c}, random_table(rng, 8, coupling));
    }
  } else if (kind == "rbm") {
    const int nv = static_cast<int>(size);
    const int nh = std::max(1, nv / 2);
    for (int i = 0; i < nv + nh; ++i) g.add_variable(2);
    add_unaries(2);
    std::normal_distribution<double> w(0.0, coupling);
    for (int i = 0; i < nv; ++i) {
      for (int h = 0; h < nh; ++h) g.add_log_factor({i, nv + h}, {0.0, 0.0, 0.0, w(rng)});
    }
  } else {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("unknown BP graph '{}' (grid, regular, higher, rbm)", kind));
  }
  return g;
}

PreparedCase prepare_bp(const CasePoint& p, const Device& device, std::uint64_t seed) {
  const auto& pm = p.params;
  const std::string file = pm.count("file") ? pm.at("file") : "";
  const std::string kind = file.empty() ? pm.at("graph") : "file";
  const std::int64_t size = file.empty() ? std::stoll(pm.at("size")) : 0;
  const int card = file.empty() ? std::stoi(pm.at("card")) : 0;
  const auto batch = static_cast<std::size_t>(std::stoll(pm.at("bp_batch")));
  const int sweeps = std::stoi(pm.at("sweeps"));
  const bp::FactorGraph g =
      file.empty() ? make_bp_graph(kind, size, card, kind == "rbm" ? 0.1 : 0.5, seed)
                   : bp::read_factor_graph(file);
  bp::Options o;
  o.device = device;
  o.method = bp::parse_method(pm.at("method"));
  o.precision = bp::parse_precision(pm.at("precision"));
  o.schedule = bp::parse_schedule(pm.at("schedule"));
  o.damping = std::stod(pm.at("damping"));
  o.tol = 0.0;
  o.factor_beliefs = false;
  auto solver = std::make_shared<bp::Solver>(g, std::vector<bp::Instance>(batch), o);
  PreparedCase c;
  c.run = [solver, sweeps] {
    solver->reset();
    solver->sweeps(sweeps);
  };
  const double elem = o.precision == bp::Precision::f32 ? 4.0 : 8.0;
  double msg_len = 0, tab_len = 0;
  for (const bp::Factor& f : g.factors) {
    for (int v : f.vars) msg_len += g.cardinalities[static_cast<std::size_t>(v)];
    tab_len += static_cast<double>(f.log_values.size());
  }
  const double b = static_cast<double>(batch);
  // Floor per sweep: every q and r entry written once and read once, potentials read once.
  c.bytes = sweeps * elem * (4.0 * msg_len * b + tab_len);
  c.items = static_cast<double>(g.num_edges()) * b * sweeps;
  c.items_unit = "messages";
  c.nnz = g.num_edges();
  c.shape = fmt::format("{}{} V={} F={} E={} B={} sweeps={} {} {} {} damping={}",
                        file.empty() ? kind : file,
                        file.empty() ? fmt::format(" size={} K={}", size, card) : std::string(),
                        g.num_variables(), g.num_factors(), g.num_edges(), batch, sweeps,
                        bp::method_name(o.method), bp::schedule_name(o.schedule),
                        bp::precision_name(o.precision), o.damping);
  return c;
}

// BP requests through mpe::Engine: `requests` single-instance submissions per run from
// `clients` threads (each waits for its own futures), each a whole run to convergence (tol
// 1e-9, at most 1000 sweeps) of one shared graph with its own evidence (one variable clamped,
// a different one per request), batches of at most `engine_batch` requests (1 = no batching:
// one bp::run_batch per request). Items: requests. After the runs: the engine's counters.
PreparedCase prepare_bp_engine(const CasePoint& p, const Device& device, std::uint64_t seed) {
  const auto& pm = p.params;
  const std::string file = pm.count("file") ? pm.at("file") : "";
  const std::string kind = file.empty() ? pm.at("graph") : "file";
  const std::int64_t N = param(p, "requests"), C = param(p, "clients");
  const std::int64_t batch = param(p, "engine_batch");
  auto graph = std::make_shared<const bp::FactorGraph>(
      file.empty() ? make_bp_graph(kind, std::stoll(pm.at("size")), std::stoi(pm.at("card")),
                                   kind == "rbm" ? 0.1 : 0.5, seed)
                   : bp::read_factor_graph(file));
  bp::Options o;
  o.method = bp::parse_method(pm.at("method"));
  o.precision = bp::parse_precision(pm.at("precision"));
  o.schedule = bp::parse_schedule(pm.at("schedule"));
  o.damping = std::stod(pm.at("damping"));
  o.factor_beliefs = false;
  std::vector<bp::Instance> instances(static_cast<std::size_t>(N));
  std::mt19937_64 rng(seed + 7);
  for (bp::Instance& in : instances) {
    in.evidence.assign(static_cast<std::size_t>(graph->num_variables()), -1);
    const auto v = static_cast<std::size_t>(rng() % in.evidence.size());
    in.evidence[v] = static_cast<int>(rng() % static_cast<std::uint64_t>(graph->cardinalities[v]));
  }
  EngineOptions eo;
  eo.device = device.str();
  eo.max_batch = static_cast<std::size_t>(batch);
  eo.max_delay = std::chrono::microseconds(batch > 1 ? 1000 : 0);
  auto engine = std::make_shared<Engine>(eo);
  PreparedCase c;
  c.run = [engine, graph, instances, o, N, C] {
    std::vector<std::thread> clients;
    for (std::int64_t k = 0; k < C; ++k) {
      clients.emplace_back([&, k] {
        std::vector<std::future<bp::Result>> mine;
        for (std::int64_t i = k; i < N; i += C) {
          mine.push_back(engine->submit(graph, instances[static_cast<std::size_t>(i)], o).result);
        }
        for (auto& f : mine) f.get();
      });
    }
    for (auto& t : clients) t.join();
  };
  c.items = static_cast<double>(N);
  c.items_unit = "requests";
  c.nnz = graph->num_edges();
  c.shape = fmt::format("{} V={} E={} requests={} clients={} max_batch={} {} {} {} damping={}",
                        file.empty() ? fmt::format("{} size={} K={}", kind, pm.at("size"),
                                                   pm.at("card"))
                                     : file,
                        graph->num_variables(), graph->num_edges(), N, C, batch,
                        bp::method_name(o.method), bp::schedule_name(o.schedule),
                        bp::precision_name(o.precision), o.damping);
  c.after = [engine] { return engine->stats().str(); };
  return c;
}

namespace {
// A .fg/.uai file fixes the graph, its size and cardinalities: those keys go, "file" stays.
bool bp_adjust(CasePoint& p) {
  if (p.params.at("file").empty()) {
    p.params.erase("file");
  } else {
    p.params.erase("graph");
    p.params.erase("size");
    p.params.erase("card");
  }
  return true;
}

Check bp_graphs() {
  return [](const std::string& flag, const std::string& v) {
    if (!known_bp_graph(v)) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("unknown --{} '{}' (grid, regular, higher, rbm)", flag, v));
    }
    return v;
  };
}
}  // namespace

MPE_BENCH_OP(OpSpec{
    "bp",
    "loopy belief propagation sweeps, --bp-*",
    "per sweep each message (q and r) written and read once + potentials\n"
    "(4*sum_e K_v*B + table entries)*elem; messages/s = edges*B*sweeps / time",
    {text_param("bp-graph", "bp: grid, regular, higher, rbm (seeded)", {"grid"}, bp_graphs())
         .key("graph"),
     int_param("bp-size", "bp: grid side, variables (regular, higher) or visible units (rbm)", {64},
               2)
         .key("size"),
     int_param("bp-card", "bp: states per variable (grid, regular)", {2}, 2).key("card"),
     int_param("bp-batch", "bp: graphs per run (one structure)", {1}, 1),
     int_param("bp-sweeps", "bp: sweeps per run (no convergence test)", {10}, 1).key("sweeps"),
     text_param("bp-method", "bp: sum, max", {"sum"},
                parsed_by([](const std::string& m) { (void)bp::parse_method(m); }))
         .key("method"),
     text_param("bp-precision", "bp: f64, f32", {"f64"},
                parsed_by([](const std::string& m) { (void)bp::parse_precision(m); }))
         .key("precision"),
     text_param("bp-schedule", "bp: flooding, sequential (CPU)", {"flooding"},
                parsed_by([](const std::string& m) { (void)bp::parse_schedule(m); }))
         .key("schedule"),
     text_param("bp-damping", "bp: damping (old message weight)", {"0"}, number_in(0.0, 1.0))
         .key("damping"),
     file_param("bp-file", "bp: a .fg or .uai file instead of --bp-graph").key("file")},
    prepare_bp,
    bp_adjust})
// One point per graph, request count, client count and engine batch: the first value of
// every other bp flag.
MPE_BENCH_OP(OpSpec{
    "bp_engine",
    "BP requests through mpe::Engine: --bp-requests, --clients, --engine-batch",
    "whole BP requests through mpe::Engine (requests/s; no byte count)",
    {uses("bp-graph", "graph"),
     int_param("bp-requests", "bp_engine: requests per run", {256}, 1).key("requests"),
     uses("clients"), uses("engine-batch"), uses("bp-size", "size").first(),
     uses("bp-card", "card").first(), uses("bp-method", "method").first(),
     uses("bp-precision", "precision").first(), uses("bp-schedule", "schedule").first(),
     uses("bp-damping", "damping").first(), uses("bp-file", "file")},
    prepare_bp_engine,
    bp_adjust})

}  // namespace mpe::bench
