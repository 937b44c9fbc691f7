// mpe-bench ops aif_plan (AIF-MP planning calls) and aif_engine (requests through mpe::Engine
// from many threads), which share the model set-up.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <future>
#include <random>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <mpe/aif.hpp>
#include <mpe/engine.hpp>

#include "ops/common.hpp"
#include "ops/registry.hpp"

namespace mpe::bench {

namespace {
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
// model; only the action marginals come back (return_channels off, as agents call it). Bytes: the
// spec's floor per iteration, r_x read twice and written once (3·H·S²·A·4 per problem).
struct AifSetup {
  std::shared_ptr<aif::Model> model;
  aif::PlanRequest request;
};

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
  c.shape =
      fmt::format("N={} S={} A={} H={} I={} K={} F={} O={}{}{}", N, S, A, H, I, K, F, O,
                  succ ? fmt::format(" T: {} succ. (sparse path)", succ) : std::string(),
                  method == "aif" && theta == "fixed" ? std::string()
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
        for (std::int64_t i = k; i < N; i += C)
          mine.push_back(engine->submit(model, request).result);
        for (auto& f : mine) f.get();
      });
    }
    for (auto& t : clients) t.join();
  };
  const std::int64_t S = param(p, "states"), A = param(p, "actions");
  c.bytes =
      3.0 * 4.0 * double(N) * double(request.iterations) * request.horizon * double(S * S * A);
  c.shape = fmt::format("requests={} clients={} max_batch={} S={} A={} H={} I={} K={}", N, C, batch,
                        S, A, request.horizon, request.iterations, param(p, "thetas"));
  c.items = double(N);
  c.after = [engine] { return engine->stats().str(); };
  return c;
}
// aif_plan's points: method aif holds θ fixed, so aif with θ loopy is skipped.
bool aif_adjust(CasePoint& p) {
  return !(p.params.at("method") == "aif" && p.params.at("theta") == "loopy");
}
}  // namespace

MPE_BENCH_OP(OpSpec{
    "aif_plan",
    "AIF-MP planning calls",
    "r_x read twice and written once per iteration (3*N*I*H*S*S*A*4);\n"
    "also plans/s (whole calls, host transfers included)",
    {int_param("problems", "aif_plan: problems per call N", {1, 64, 1024}, 1).quick({"1", "64"}),
     int_param("states", "aif_plan: states S", {32, 64}, 1).quick({"32"}),
     int_param("actions", "aif_plan: actions A", {5}, 1),
     int_param("horizon", "aif_plan: horizon H", {5}, 1),
     int_param("iters", "aif_plan: iterations I", {10}, 1),
     int_param("thetas", "aif_plan: θ configurations K", {4}, 1),
     int_param("modalities", "aif_plan: observation modalities F", {2}, 1),
     int_param("outcomes", "aif_plan: outcomes per modality O", {2}, 1),
     int_param("successors",
               "aif_plan: successors per (x, θ, u); 0 = dense random T, else "
               "sparse (auto path)",
               {0}, 0),
     text_param("aif-method", "aif_plan: bp, vbp, rm, aif", {"aif"},
                parsed_by([](const std::string& m) { (void)aif::parse_method(m); }))
         .key("method"),
     text_param("theta",
                "aif_plan: fixed or loopy (bp/vbp/rm as published; aif with loopy is "
                "skipped)",
                {"fixed"},
                parsed_by([](const std::string& t) { (void)aif::parse_theta_mode(t); }))},
    prepare_aif,
    aif_adjust})
MPE_BENCH_OP(OpSpec{"aif_engine",
                    "AIF-MP requests through mpe::Engine from many threads",
                    "as aif_plan, N = requests per run",
                    {uses("problems"),
                     int_param("clients",
                               "aif_engine, bp_engine, relevance_engine: client threads submitting "
                               "requests",
                               {16}, 1),
                     int_param("engine-batch",
                               "aif_engine, bp_engine, relevance_engine: the engine's "
                               "max_batch (1 = no batching)",
                               {1, 256}, 1),
                     uses("states"), uses("actions"), uses("horizon"), uses("iters"),
                     uses("thetas").first(), uses("modalities").first(), uses("outcomes").first()},
                    prepare_aif_engine})
}  // namespace mpe::bench
