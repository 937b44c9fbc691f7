#include "cases.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <future>
#include <random>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <mpe/aif.hpp>
#include <mpe/attention.hpp>
#include <mpe/engine.hpp>
#include <mpe/ops.hpp>

#include "bp_cases.hpp"
#include "graphs.hpp"
#include "mp_cases.hpp"
#include "relevance_case.hpp"

namespace mpe::bench {

namespace {
std::int64_t param(const CasePoint& p, const char* name) { return std::stoll(p.params.at(name)); }

Tensor random_tensor(const Shape& shape, float lo, float hi, std::uint64_t seed, Device device) {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(static_cast<std::size_t>(n));
  for (auto& e : v) e = dist(rng);
  return Tensor::from_vector(v, shape, device);
}

PreparedCase prepare_lse(const CasePoint& p, const Device& device, std::uint64_t seed) {
  const std::int64_t B = param(p, "batch"), I = param(p, "rows"), J = param(p, "cols");
  const bool shared = param(p, "shared") != 0;
  const Shape m_shape = shared ? Shape{I, J} : Shape{B, I, J};
  auto M = std::make_shared<Tensor>(random_tensor(m_shape, -8.f, 2.f, seed, device));
  auto x = std::make_shared<Tensor>(random_tensor({B, J}, -5.f, 1.f, seed + 1, device));
  auto y = std::make_shared<Tensor>(Tensor::empty({B, I}, DType::f32, device));
  y->fill_bytes(0xFF);  // poison: NaN until written
  PreparedCase c;
  c.run = [M, x, y] { lse_contract(*M, *x, *y); };
  c.bytes = 4.0 * (double(M->numel()) + double(B * J) + double(B * I));
  c.flops = 0;  // exp-bound, not FLOP-bound
  c.shape = fmt::format("B={} I={} J={} M={}", B, I, J, shared ? "shared" : "per-batch");
  return c;
}

PreparedCase prepare_csr(const CasePoint& p, const Device& device, std::uint64_t seed,
                         const std::string& mtx) {
  const Csr& host = mtx.empty() ? synthetic_graph(p.params.at("graph"), param(p, "nodes"),
                                                  param(p, "degree"), seed)
                                : file_graph(mtx);
  const std::int64_t F = param(p, "width");
  const Aggregation agg = parse_aggregation(p.params.at("agg"));
  auto g = std::make_shared<Csr>(host.to(device));
  auto x = std::make_shared<Tensor>(random_tensor({host.num_cols, F}, -1.f, 1.f, seed, device));
  auto y = std::make_shared<Tensor>(Tensor::empty({host.num_rows, F}, DType::f32, device));
  y->fill_bytes(0xFF);
  PreparedCase c;
  c.run = [g, x, y, agg] { csr_aggregate(*g, *x, agg, *y); };
  const double nnz = double(host.nnz());
  c.bytes = 8.0 * double(host.num_rows + 1) + 4.0 * nnz + (host.weighted() ? 4.0 * nnz : 0.0) +
            4.0 * double(host.num_cols * F) + 4.0 * double(host.num_rows * F);
  c.flops = 2.0 * nnz * double(F);
  c.nnz = host.nnz();
  c.shape = fmt::format("{} n={} nnz={} F={} {}{}", mtx.empty() ? p.params.at("graph") : mtx,
                        host.num_rows, host.nnz(), F, p.params.at("agg"),
                        host.weighted() ? " weighted" : "");
  return c;
}
// The reference every memory-bound figure is read against: one buffer copied to another on
// the device (bytes counted as read + written).
PreparedCase prepare_copy(const CasePoint& p, const Device& device, std::uint64_t seed) {
  const std::int64_t n = param(p, "mib") * (std::int64_t(1) << 20) / 4;
  auto src = std::make_shared<Tensor>(random_tensor({n}, -1.f, 1.f, seed, device));
  auto dst = std::make_shared<Tensor>(Tensor::empty({n}, DType::f32, device));
  PreparedCase c;
  c.run = [src, dst] { dst->copy_from(*src); };
  c.bytes = 2.0 * 4.0 * double(n);
  c.shape = fmt::format("{} MiB", param(p, "mib"));
  return c;
}
// A random normalised tensor [outer, len, inner], normalised along len.
std::vector<float> random_dist(std::mt19937_64& rng, std::int64_t outer, std::int64_t len,
                               std::int64_t inner) {
  std::uniform_real_distribution<float> d(0.05f, 1.0f);
  std::vector<float> v(static_cast<std::size_t>(outer * len * inner));
  for (std::int64_t o = 0; o < outer; ++o)
    for (std::int64_t i = 0; i < inner; ++i) {
      double sum = 0;
      for (std::int64_t k = 0; k < len; ++k)
        sum += v[static_cast<std::size_t>((o * len + k) * inner + i)] = d(rng);
      for (std::int64_t k = 0; k < len; ++k) {
        v[static_cast<std::size_t>((o * len + k) * inner + i)] /= static_cast<float>(sum);
      }
    }
  return v;
}

// AIF-MP planning (method aif, dense observations, terminal goal), N problems sharing one
// model; only the action marginals come back (return_channels off, as agents call it). Bytes: the spec's floor per iteration, r_x read twice and written
// once (3·H·S²·A·4 per problem).
struct AifSetup {
  std::shared_ptr<aif::Model> model;
  aif::PlanRequest request;
};

AifSetup make_aif(const CasePoint& p, std::uint64_t seed);

PreparedCase prepare_aif(const CasePoint& p, const Device& device, std::uint64_t seed) {
  const std::int64_t N = param(p, "problems"), S = param(p, "states"), A = param(p, "actions");
  const int H = static_cast<int>(param(p, "horizon")), I = static_cast<int>(param(p, "iters"));
  const std::int64_t K = param(p, "thetas"), F = param(p, "modalities"), O = param(p, "outcomes");
  const std::int64_t succ = param(p, "successors");
  std::mt19937_64 rng(seed);
  std::vector<float> T;
  if (succ == 0) {
    T = random_dist(rng, 1, S, S * K * A);
  } else {  // `succ` random successors per (x_old, θ, u): sparse dynamics
    T.assign(static_cast<std::size_t>(S * S * K * A), 0.0f);
    std::uniform_int_distribution<std::int64_t> pick(0, S - 1);
    for (std::int64_t i = 0; i < S * K * A; ++i)
      for (std::int64_t k = 0; k < succ; ++k) {
        T[static_cast<std::size_t>(pick(rng) * S * K * A + i)] += 1.0f / static_cast<float>(succ);
      }
  }
  auto model = std::make_shared<aif::Model>(aif::Model::with_terminal_goal(
      Tensor::from_vector(T, {S, S, K, A}),
      Tensor::from_vector(random_dist(rng, F, O, S * K), {F, O, S, K}),
      Tensor::from_vector(random_dist(rng, 1, A, 1), {A}),
      Tensor::from_vector(random_dist(rng, 1, S, 1), {S})));
  aif::PlanRequest r;
  r.q0 = random_dist(rng, 1, S, 1);
  r.q_theta = random_dist(rng, 1, K, 1);
  r.horizon = H;
  r.iterations = I;
  r.damping = 0.9f;
  r.return_channels = false;
  const std::string method = p.params.count("method") ? p.params.at("method") : "aif";
  const std::string theta = p.params.count("theta") ? p.params.at("theta") : "fixed";
  r.method = aif::parse_method(method);
  r.theta = aif::parse_theta_mode(theta);
  auto reqs = std::make_shared<std::vector<aif::PlanRequest>>(static_cast<std::size_t>(N), r);
  PreparedCase c;
  c.run = [model, reqs, device] { (void)aif::plan(*model, *reqs, device); };
  c.bytes = 3.0 * 4.0 * double(N) * I * H * double(S * S * A);
  c.shape = fmt::format("N={} S={} A={} H={} I={} K={} F={} O={}{}{}", N, S, A, H, I, K, F, O,
                        succ ? fmt::format(" T: {} succ. (sparse path)", succ) : std::string(),
                        method == "aif" && theta == "fixed"
                            ? std::string()
                            : fmt::format(" {}, θ {}", method, theta));
  if (succ) {  // the sparse floor: r_x only on the support (≤ succ·K entries per (x, u))
    c.bytes = 3.0 * 4.0 * double(N) * I * H * double(S * A * std::min(S, succ * K));
  }
  c.items = double(N);
  return c;
}

// The model and request of an aif_plan point (the same as prepare_aif builds).
AifSetup make_aif(const CasePoint& p, std::uint64_t seed) {
  CasePoint one = p;
  one.params["problems"] = "1";
  AifSetup out;
  std::mt19937_64 rng(seed);
  const std::int64_t S = param(p, "states"), A = param(p, "actions"), K = param(p, "thetas");
  const std::int64_t F = param(p, "modalities"), O = param(p, "outcomes");
  out.model = std::make_shared<aif::Model>(aif::Model::with_terminal_goal(
      Tensor::from_vector(random_dist(rng, 1, S, S * K * A), {S, S, K, A}),
      Tensor::from_vector(random_dist(rng, F, O, S * K), {F, O, S, K}),
      Tensor::from_vector(random_dist(rng, 1, A, 1), {A}),
      Tensor::from_vector(random_dist(rng, 1, S, 1), {S})));
  out.request.q0 = random_dist(rng, 1, S, 1);
  out.request.q_theta = random_dist(rng, 1, K, 1);
  out.request.horizon = static_cast<int>(param(p, "horizon"));
  out.request.iterations = static_cast<int>(param(p, "iters"));
  out.request.damping = 0.9f;
  out.request.return_channels = false;
  return out;
}

// AIF-MP requests through mpe::Engine: `problems` single-request submissions per run from
// `clients` threads (each waits for its own futures), batches of at most `engine_batch`
// (1 = no batching). Items: requests. After the runs: the engine's counters and latencies.
PreparedCase prepare_aif_engine(const CasePoint& p, const Device& device, std::uint64_t seed) {
  const std::int64_t N = param(p, "problems"), C = param(p, "clients");
  const std::int64_t batch = param(p, "engine_batch");
  AifSetup setup = make_aif(p, seed);
  EngineOptions o;
  o.device = device.str();
  o.max_batch = static_cast<std::size_t>(batch);
  o.max_delay = std::chrono::microseconds(batch > 1 ? 1000 : 0);
  auto engine = std::make_shared<Engine>(o);
  std::shared_ptr<const aif::Model> model = setup.model;
  const aif::PlanRequest request = setup.request;
  PreparedCase c;
  c.run = [engine, model, request, N, C] {
    std::vector<std::thread> clients;
    for (std::int64_t k = 0; k < C; ++k) {
      clients.emplace_back([&, k] {
        std::vector<std::future<aif::Plan>> mine;
        for (std::int64_t i = k; i < N; i += C) mine.push_back(engine->submit(model, request).result);
        for (auto& f : mine) f.get();
      });
    }
    for (auto& t : clients) t.join();
  };
  const std::int64_t S = param(p, "states"), A = param(p, "actions");
  c.bytes = 3.0 * 4.0 * double(N) * double(request.iterations) * request.horizon * double(S * S * A);
  c.shape = fmt::format("requests={} clients={} max_batch={} S={} A={} H={} I={} K={}", N, C,
                        batch, S, A, request.horizon, request.iterations, param(p, "thetas"));
  c.items = double(N);
  c.after = [engine] { return engine->stats().str(); };
  return c;
}
// Attention forward: q [B, H, N, D], k and v [B, Hkv, N, D] stored as float32, bfloat16 or
// float16 (--dtype), fused or unfused (--attn-path, CUDA). FLOPs 4·B·H·N²·D (half when causal);
// bytes q, k, v read and O written once in the storage type, lse (float32) written once.
PreparedCase prepare_attention(const CasePoint& p, const Device& device, std::uint64_t seed) {
  const std::int64_t B = param(p, "attn_batch"), H = param(p, "heads"), N = param(p, "seq"),
                     D = param(p, "head_dim");
  const std::int64_t Hkv = param(p, "kv_heads") == 0 ? H : param(p, "kv_heads");
  const bool causal = param(p, "causal") != 0;
  if (H % Hkv != 0) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("--kv-heads {} must divide --heads {}", Hkv, H));
  }
  const std::string& dts = p.params.at("attn_dtype");
  const DType dt = dts == "bf16" ? DType::bf16 : (dts == "f16" ? DType::f16 : DType::f32);
  auto q = std::make_shared<Tensor>(random_tensor({B, H, N, D}, -1.f, 1.f, seed, device).astype(dt));
  auto k = std::make_shared<Tensor>(
      random_tensor({B, Hkv, N, D}, -1.f, 1.f, seed + 1, device).astype(dt));
  auto v = std::make_shared<Tensor>(
      random_tensor({B, Hkv, N, D}, -1.f, 1.f, seed + 2, device).astype(dt));
  auto o = std::make_shared<Tensor>(Tensor::empty({B, H, N, D}, dt, device));
  auto lse = std::make_shared<Tensor>(Tensor::empty({B, H, N}, DType::f32, device));
  o->fill_bytes(0xFF);
  lse->fill_bytes(0xFF);
  AttentionOptions opt;
  opt.causal = causal;
  const bool unfused = p.params.at("attn_path") == "unfused";
  opt.path = unfused ? AttentionPath::unfused : AttentionPath::fused;
  PreparedCase c;
  c.run = [q, k, v, o, lse, opt] { attention(*q, *k, *v, Tensor(), opt, *o, *lse); };
  c.flops = attention_flops(B, H, N, N, D, causal);
  const double es = static_cast<double>(dtype_size(dt));
  c.bytes = es * (2.0 * double(B * H * N * D) + 2.0 * double(B * Hkv * N * D)) + 4.0 * double(B * H * N);
  c.shape = fmt::format("B={} H={} Hkv={} N={} D={}{} {}{}", B, H, Hkv, N, D,
                        causal ? " causal" : "", dtype_name(dt), unfused ? " unfused" : "");
  return c;
}

// Every value of a size parameter must be at least `min` (0 or 1).
void check_at_least(const char* flag, const std::vector<std::int64_t>& values, std::int64_t min) {
  for (auto v : values) {
    if (v < min) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("--{} {} is out of range (must be >= {})", flag, v, min));
    }
  }
}

// Checks the parameters of the grid's ops before anything runs or prints, so a bad value is
// reported once instead of after part of the table.
void validate(const Grid& g) {
  for (const std::string& op : g.ops) {
    if (op == "lse_contract") {
      check_at_least("batch", g.batch, 1);
      check_at_least("rows", g.rows, 1);
      check_at_least("cols", g.cols, 1);
      for (auto s : g.shared) {
        if (s != 0 && s != 1) {
          throw Error(ErrorCode::invalid_argument,
                      fmt::format("--shared {} is out of range (0 or 1)", s));
        }
      }
    } else if (op == "csr_aggregate" || op == "graph_mp" || op == "gcn" ||
               op == "cusparse_spmm") {
      if (g.mtx.empty()) {
        check_at_least("nodes", g.nodes, 1);
        check_at_least("degree", g.degree, 0);
        for (const auto& k : g.graphs) {
          if (!known_graph_kind(k)) {
            throw Error(ErrorCode::invalid_argument,
                        fmt::format("unknown graph kind '{}' (uniform or rmat)", k));
          }
        }
      }
      check_at_least("width", g.width, 1);
      for (const auto& a : g.aggs) (void)parse_aggregation(a);  // throws for unknown names
      if (op == "graph_mp") {
        for (const auto& d : g.attn_dtype) {
          if (d != "f32" && d != "bf16" && d != "f16") {
            throw Error(ErrorCode::invalid_argument,
                        fmt::format("unknown --dtype '{}' (f32, bf16 or f16)", d));
          }
        }
      }
    } else if (op == "aif_plan") {
      check_at_least("problems", g.problems, 1);
      check_at_least("states", g.states, 1);
      check_at_least("actions", g.actions, 1);
      check_at_least("horizon", g.horizon, 1);
      check_at_least("iters", g.iters, 1);
      check_at_least("thetas", g.thetas, 1);
      check_at_least("modalities", g.modalities, 1);
      check_at_least("outcomes", g.outcomes, 1);
      check_at_least("successors", g.successors, 0);
      for (const auto& m : g.aif_methods) (void)aif::parse_method(m);  // throws for unknown names
      for (const auto& t : g.theta_modes) (void)aif::parse_theta_mode(t);
    } else if (op == "aif_engine") {
      check_at_least("problems", g.problems, 1);
      check_at_least("clients", g.clients, 1);
      check_at_least("engine_batch", g.engine_batch, 1);
      check_at_least("states", g.states, 1);
      check_at_least("actions", g.actions, 1);
      check_at_least("horizon", g.horizon, 1);
      check_at_least("iters", g.iters, 1);
    } else if (op == "copy") {
      check_at_least("mib", g.mib, 1);
    } else if (op == "relevance") {
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
      for (const auto& k : g.rel_graphs) {
        if (k != "demo" && k != "rmat") {
          throw Error(ErrorCode::invalid_argument,
                      fmt::format("unknown relevance graph '{}' (demo or rmat)", k));
        }
      }
    } else if (op == "bp") {
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
    } else if (op == "attention") {
      check_at_least("attn-batch", g.attn_batch, 1);
      check_at_least("heads", g.heads, 1);
      check_at_least("kv-heads", g.kv_heads, 0);
      check_at_least("seq", g.seq, 1);
      check_at_least("head-dim", g.head_dim, 1);
      check_at_least("causal", g.causal, 0);
      for (const auto& d : g.attn_dtype) {
        if (d != "f32" && d != "bf16" && d != "f16") {
          throw Error(ErrorCode::invalid_argument,
                      fmt::format("unknown --dtype '{}' (f32, bf16 or f16)", d));
        }
      }
      for (const auto& pa : g.attn_path) {
        if (pa != "fused" && pa != "unfused") {
          throw Error(ErrorCode::invalid_argument,
                      fmt::format("unknown --attn-path '{}' (fused or unfused)", pa));
        }
      }
    }
  }
}
}  // namespace

std::vector<CasePoint> expand(const Grid& grid) {
  validate(grid);
  std::vector<CasePoint> out;
  for (const std::string& op : grid.ops) {
    if (op == "lse_contract") {
      for (auto b : grid.batch)
        for (auto r : grid.rows)
          for (auto c : grid.cols)
            for (auto s : grid.shared) {
              out.push_back({op,
                             {{"batch", std::to_string(b)},
                              {"rows", std::to_string(r)},
                              {"cols", std::to_string(c)},
                              {"shared", std::to_string(s)}}});
            }
    } else if (op == "csr_aggregate" || op == "graph_mp" || op == "gcn" ||
               op == "cusparse_spmm") {
      const std::vector<std::string> graphs =
          grid.mtx.empty() ? grid.graphs : std::vector<std::string>{"mtx"};
      const std::vector<std::int64_t> nodes =
          grid.mtx.empty() ? grid.nodes : std::vector<std::int64_t>{0};
      const std::vector<std::int64_t> degrees =
          grid.mtx.empty() ? grid.degree : std::vector<std::int64_t>{0};
      const std::vector<std::string> dtypes =
          op == "graph_mp" ? grid.attn_dtype : std::vector<std::string>{"f32"};
      for (const auto& gk : graphs)
        for (auto n : nodes)
          for (auto d : degrees)
            for (auto w : grid.width)
              for (const auto& a : grid.aggs)
                for (const auto& dt : dtypes) {
                  CasePoint point{op, {{"graph", gk}, {"width", std::to_string(w)}, {"agg", a}}};
                  if (grid.mtx.empty()) {
                    point.params["nodes"] = std::to_string(n);
                    point.params["degree"] = std::to_string(d);
                  } else {  // the file fixes the graph's size
                    point.params["mtx"] = grid.mtx;
                  }
                  if (op == "graph_mp") point.params["dtype"] = dt;  // feature storage
                  out.push_back(std::move(point));
                }
    } else if (op == "aif_plan") {
      for (auto n : grid.problems)
        for (auto st : grid.states)
          for (auto a : grid.actions)
            for (auto h : grid.horizon)
              for (auto it : grid.iters)
                for (auto k : grid.thetas)
                  for (auto f : grid.modalities)
                    for (auto o : grid.outcomes)
                      for (auto sc : grid.successors)
                        for (const auto& me : grid.aif_methods)
                          for (const auto& th : grid.theta_modes) {
                            if (me == "aif" && th == "loopy") continue;  // aif holds θ fixed
                            out.push_back({op,
                                           {{"problems", std::to_string(n)},
                                            {"states", std::to_string(st)},
                                            {"actions", std::to_string(a)},
                                            {"horizon", std::to_string(h)},
                                            {"iters", std::to_string(it)},
                                            {"thetas", std::to_string(k)},
                                            {"modalities", std::to_string(f)},
                                            {"outcomes", std::to_string(o)},
                                            {"successors", std::to_string(sc)},
                                            {"method", me},
                                            {"theta", th}}});
                          }
    } else if (op == "aif_engine") {
      for (auto n : grid.problems)
        for (auto cl : grid.clients)
          for (auto eb : grid.engine_batch)
            for (auto st : grid.states)
              for (auto a : grid.actions)
                for (auto h : grid.horizon)
                  for (auto it : grid.iters) {
                    out.push_back({op,
                                   {{"problems", std::to_string(n)},
                                    {"clients", std::to_string(cl)},
                                    {"engine_batch", std::to_string(eb)},
                                    {"states", std::to_string(st)},
                                    {"actions", std::to_string(a)},
                                    {"horizon", std::to_string(h)},
                                    {"iters", std::to_string(it)},
                                    {"thetas", std::to_string(grid.thetas.front())},
                                    {"modalities", std::to_string(grid.modalities.front())},
                                    {"outcomes", std::to_string(grid.outcomes.front())}}});
                  }
    } else if (op == "copy") {
      for (auto m : grid.mib) out.push_back({op, {{"mib", std::to_string(m)}}});
    } else if (op == "attention") {
      for (auto b : grid.attn_batch)
        for (auto h : grid.heads)
          for (auto hk : grid.kv_heads)
            for (auto n : grid.seq)
              for (auto d : grid.head_dim)
                for (auto cz : grid.causal)
                  for (const auto& dt : grid.attn_dtype)
                    for (const auto& pa : grid.attn_path) {
                      out.push_back({op,
                                     {{"attn_batch", std::to_string(b)},
                                      {"heads", std::to_string(h)},
                                      {"kv_heads", std::to_string(hk)},
                                      {"seq", std::to_string(n)},
                                      {"head_dim", std::to_string(d)},
                                      {"causal", std::to_string(cz)},
                                      {"attn_dtype", dt},
                                      {"attn_path", pa}}});
                    }
    } else if (op == "relevance") {
      for (const auto& gk : grid.rel_graphs)
        for (auto b : grid.rel_batch) {
          for (const auto& gate : grid.rel_gate) {
            if (gk == "demo") {
              out.push_back(
                  {op, {{"rel_graph", gk}, {"rel_batch", std::to_string(b)}, {"rel_gate", gate}}});
              continue;
            }
            for (auto n : grid.nodes)
              for (auto d : grid.degree)
                for (auto dim : grid.rel_dim)
                  out.push_back({op,
                                 {{"rel_graph", gk},
                                  {"rel_batch", std::to_string(b)},
                                  {"rel_gate", gate},
                                  {"nodes", std::to_string(n)},
                                  {"degree", std::to_string(d)},
                                  {"rel_dim", std::to_string(dim)}}});
          }
        }
    } else if (op == "bp") {
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
        for (auto& pt : out) {
          if (std::find_if(dedup.begin(), dedup.end(), [&](const CasePoint& q) {
                return q.op == pt.op && q.params == pt.params;
              }) == dedup.end()) {
            dedup.push_back(std::move(pt));
          }
        }
        out = std::move(dedup);
      }
    } else {
      throw Error(
          ErrorCode::invalid_argument,
          fmt::format("unknown op '{}' (lse_contract, csr_aggregate, graph_mp, gcn, cusparse_spmm, aif_plan, aif_engine, attention, relevance, bp or copy)",
                      op));
    }
  }
  return out;
}

PreparedCase prepare(const CasePoint& point, const Device& device, std::uint64_t seed,
                     const std::string& mtx_path) {
  if (point.op == "lse_contract") return prepare_lse(point, device, seed);
  if (point.op == "copy") return prepare_copy(point, device, seed);
  if (point.op == "aif_plan") return prepare_aif(point, device, seed);
  if (point.op == "aif_engine") return prepare_aif_engine(point, device, seed);
  if (point.op == "attention") return prepare_attention(point, device, seed);
  if (point.op == "relevance") return prepare_relevance(point, device, seed);
  if (point.op == "bp") return prepare_bp(point, device, seed);
  if (point.op == "graph_mp") return prepare_graph_mp(point, device, seed, mtx_path);
  if (point.op == "gcn") return prepare_gcn(point, device, seed, mtx_path);
  if (point.op == "cusparse_spmm") return prepare_cusparse(point, device, seed, mtx_path);
  return prepare_csr(point, device, seed, mtx_path);
}

}  // namespace mpe::bench
