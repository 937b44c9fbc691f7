// mpe-bench ops bp (loopy belief propagation sweeps on synthetic factor graphs or a .fg/.uai
// file) and bp_engine (whole BP requests through mpe::Engine).
#include <algorithm>
#include <cstdlib>
#include <memory>
#include <numeric>
#include <random>
#include <set>

#include <thread>

#include <CLI/CLI.hpp>
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
void validate_bp(const Grid& g) {
  check_at_least("bp-size", g.bp_size, 2);
  check_at_least("bp-card", g.bp_card, 2);
  check_at_least("bp-batch", g.bp_batch, 1);
  check_at_least("bp-sweeps", g.bp_sweeps, 1);
  for (const auto& k : g.bp_graphs) {
    if (!known_bp_graph(k)) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("unknown BP graph '{}' (grid, regular, higher, rbm)", k));
    }
  }
  for (const auto& m : g.bp_methods) (void)bp::parse_method(m);
  for (const auto& m : g.bp_precisions) (void)bp::parse_precision(m);
  for (const auto& m : g.bp_schedules) (void)bp::parse_schedule(m);
  for (const auto& d : g.bp_dampings) {
    char* end = nullptr;
    const double v = std::strtod(d.c_str(), &end);
    if (d.empty() || *end != '\0' || !(v >= 0.0 && v < 1.0)) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("--bp-damping {} is out of range [0, 1)", d));
    }
  }
}

void expand_bp(const Grid& grid, std::vector<CasePoint>& out) {
  const std::string op = "bp";
  const std::size_t first = out.size();
  const std::vector<std::string> graphs =
      grid.bp_file.empty() ? grid.bp_graphs : std::vector<std::string>{"file"};
  for (const auto& gk : graphs)
    for (auto n : grid.bp_size)
      for (auto k : grid.bp_card)
        for (auto b : grid.bp_batch)
          for (auto sw : grid.bp_sweeps)
            for (const auto& me : grid.bp_methods)
              for (const auto& pr : grid.bp_precisions)
                for (const auto& sc : grid.bp_schedules)
                  for (const auto& dm : grid.bp_dampings) {
                  CasePoint point{op,
                                  {{"bp_batch", std::to_string(b)},
                                   {"damping", dm},
                                   {"sweeps", std::to_string(sw)},
                                   {"method", me},
                                   {"precision", pr},
                                   {"schedule", sc}}};
                  if (grid.bp_file.empty()) {
                    point.params["graph"] = gk;
                    point.params["size"] = std::to_string(n);
                    point.params["card"] = std::to_string(k);
                  } else {
                    point.params["file"] = grid.bp_file;
                  }
                  out.push_back(std::move(point));
                }
  if (!grid.bp_file.empty()) {  // the file fixes size and card: one of each
    std::vector<CasePoint> dedup;
    for (auto it = out.begin() + static_cast<std::ptrdiff_t>(first); it != out.end(); ++it) {
      if (std::find_if(dedup.begin(), dedup.end(), [&](const CasePoint& q) {
            return q.op == it->op && q.params == it->params;
          }) == dedup.end()) {
        dedup.push_back(std::move(*it));
      }
    }
    out.resize(first);
    for (auto& pt : dedup) out.push_back(std::move(pt));
  }
}

void validate_bp_engine(const Grid& g) {
  validate_bp(g);
  check_at_least("bp-requests", g.bp_requests, 1);
  check_at_least("clients", g.clients, 1);
  check_at_least("engine_batch", g.engine_batch, 1);
}

// One point per engine_batch (and graph): the first value of every other bp flag.
void expand_bp_engine(const Grid& grid, std::vector<CasePoint>& out) {
  const std::vector<std::string> graphs =
      grid.bp_file.empty() ? grid.bp_graphs : std::vector<std::string>{"file"};
  for (const auto& gk : graphs)
    for (auto n : grid.bp_requests)
      for (auto cl : grid.clients)
        for (auto eb : grid.engine_batch) {
          CasePoint point{"bp_engine",
                          {{"requests", std::to_string(n)},
                           {"clients", std::to_string(cl)},
                           {"engine_batch", std::to_string(eb)},
                           {"damping", grid.bp_dampings.front()},
                           {"method", grid.bp_methods.front()},
                           {"precision", grid.bp_precisions.front()},
                           {"schedule", grid.bp_schedules.front()}}};
          if (grid.bp_file.empty()) {
            point.params["graph"] = gk;
            point.params["size"] = std::to_string(grid.bp_size.front());
            point.params["card"] = std::to_string(grid.bp_card.front());
          } else {
            point.params["file"] = grid.bp_file;
          }
          out.push_back(std::move(point));
        }
}

// mpe-bench's flags of this op (their values fill the grid).
void add_bp_flags(CLI::App& app, Grid& g) {
  app.add_option("--bp-requests", g.bp_requests, "bp_engine: requests per run")
      ->delimiter(',')->capture_default_str();
  app.add_option("--bp-graph", g.bp_graphs, "bp: grid, regular, higher, rbm (seeded)")
      ->delimiter(',')->capture_default_str();
  app.add_option("--bp-size", g.bp_size,
                 "bp: grid side, variables (regular, higher) or visible units (rbm)")
      ->delimiter(',')->capture_default_str();
  app.add_option("--bp-card", g.bp_card, "bp: states per variable (grid, regular)")
      ->delimiter(',')->capture_default_str();
  app.add_option("--bp-batch", g.bp_batch, "bp: graphs per run (one structure)")
      ->delimiter(',')->capture_default_str();
  app.add_option("--bp-sweeps", g.bp_sweeps, "bp: sweeps per run (no convergence test)")
      ->delimiter(',')->capture_default_str();
  app.add_option("--bp-method", g.bp_methods, "bp: sum, max")
      ->delimiter(',')->capture_default_str();
  app.add_option("--bp-precision", g.bp_precisions, "bp: f64, f32")
      ->delimiter(',')->capture_default_str();
  app.add_option("--bp-schedule", g.bp_schedules, "bp: flooding, sequential (CPU)")
      ->delimiter(',')->capture_default_str();
  app.add_option("--bp-damping", g.bp_dampings, "bp: damping (old message weight)")
      ->delimiter(',')->capture_default_str();
  app.add_option("--bp-file", g.bp_file, "bp: a .fg or .uai file instead of --bp-graph");
}
}  // namespace

MPE_BENCH_OP({"bp", validate_bp, expand_bp,
              [](const CasePoint& p, const Device& d, std::uint64_t seed, const std::string&) {
                return prepare_bp(p, d, seed);
              },
              add_bp_flags})
MPE_BENCH_OP({"bp_engine", validate_bp_engine, expand_bp_engine,
              [](const CasePoint& p, const Device& d, std::uint64_t seed, const std::string&) {
                return prepare_bp_engine(p, d, seed);
              },
              {}})

}  // namespace mpe::bench
