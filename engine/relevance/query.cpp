// Relevance queries: validation, batched seeding (one similarity product + top-k per query),
// propagation over the shared CSR, and extraction.
#include <algorithm>
#include <cmath>
#include <memory>
#include <unordered_set>

#include <fmt/format.h>
#include <mpe/error.hpp>

#include "relevance/detail.hpp"

namespace mpe::relevance {

namespace {
using detail::GraphData;

constexpr std::int64_t kCpuChunkElems = std::int64_t(1) << 24;  // tuning: batch chunk · nodes

void check_query(const Query& q, std::size_t k, const GraphData& g) {
  const QueryParams& p = q.params;
  auto bad = [k](const std::string& what) {
    throw Error(ErrorCode::invalid_argument, fmt::format("query {}: {}", k, what));
  };
  auto unit = [](float v) { return std::isfinite(v) && v >= 0.0f && v <= 1.0f; };
  if (p.top_k < 0 || p.top_k > 100000) bad(fmt::format("top_k {} is outside [0, 100000]", p.top_k));
  if (!std::isfinite(p.seed_threshold) || p.seed_threshold < -1.0f || p.seed_threshold > 1.0f)
    bad(fmt::format("seed_threshold {} is outside [-1, 1]", p.seed_threshold));
  if (p.max_iterations < 0 || p.max_iterations > 10000)
    bad(fmt::format("max_iterations {} is outside [0, 10000]", p.max_iterations));
  if (!std::isfinite(p.tolerance) || p.tolerance < 0.0f)
    bad(fmt::format("tolerance {} must be finite and >= 0", p.tolerance));
  if (!unit(p.propagation_threshold))
    bad(fmt::format("propagation_threshold {} is outside [0, 1]", p.propagation_threshold));
  if (!std::isfinite(p.edge_gate) || p.edge_gate < 0.0f)
    bad(fmt::format("edge_gate {} must be finite and >= 0", p.edge_gate));
  if (!std::isfinite(p.level_up_scale) || p.level_up_scale < 0.0f ||
      !std::isfinite(p.level_down_scale) || p.level_down_scale < 0.0f)
    bad("level scales must be finite and >= 0");
  if (!std::isfinite(p.min_activation)) bad("min_activation must be finite");
  if (p.max_results < 0) bad("max_results must be >= 0");
  if (!q.seeds.empty()) {
    std::unordered_set<std::string> ids;
    for (const SeedSpec& s : q.seeds) {
      if (!g.index.count(s.id)) bad(fmt::format("unknown seed node id '{}'", s.id));
      if (!ids.insert(s.id).second) bad(fmt::format("seed '{}' given twice", s.id));
      if (!(s.activation > 0.0f && s.activation <= 1.0f))
        bad(fmt::format("seed '{}' activation {} is outside (0, 1]", s.id, s.activation));
    }
    return;
  }
  if (q.embedding.size() != std::size_t(g.dim))
    bad(fmt::format("embedding has {} values, the store's dimension is {}", q.embedding.size(),
                    g.dim));
  double norm = 0;
  for (std::size_t c = 0; c < q.embedding.size(); ++c) {
    if (!std::isfinite(q.embedding[c])) bad(fmt::format("embedding[{}] is {}", c, q.embedding[c]));
    norm += double(q.embedding[c]) * q.embedding[c];
  }
  if (norm == 0.0) bad("embedding is all zeros");
}

kernels::RelevanceParams kernel_params(const QueryParams& p) {
  kernels::RelevanceParams r;
  r.gate = p.edge_gate;
  r.prop_threshold = p.propagation_threshold;
  r.tolerance = p.tolerance;
  r.up_scale = p.level_up_scale;
  r.down_scale = p.level_down_scale;
  r.max_iterations = p.max_iterations;
  return r;
}

// Extraction (spec step 3) from the final active set.
void extract(const GraphData& g, const Query& q, QueryResult& r,
             const std::vector<float>& conf_of_active) {
  const QueryParams& p = q.params;
  std::unordered_set<std::int64_t> seeds;
  for (const SeedHit& s : r.seeds) seeds.insert(s.node);
  auto make = [&](std::int64_t i, float a, float c) {
    const Node& n = g.nodes[std::size_t(i)];
    return Activated{i, n.id, n.type, n.title, a, c, n.universal, seeds.count(i) > 0};
  };
  std::vector<Activated> picked;
  for (std::size_t k = 0; k < r.active.size(); ++k) {
    const auto [i, a] = r.active[k];
    if (a < p.min_activation) continue;
    const std::string& type = g.nodes[std::size_t(i)].type;
    if (!p.types.empty() && std::find(p.types.begin(), p.types.end(), type) == p.types.end())
      continue;
    picked.push_back(make(i, a, conf_of_active[k]));
  }
  std::sort(picked.begin(), picked.end(), [](const Activated& x, const Activated& y) {
    return x.activation != y.activation ? x.activation > y.activation : x.id < y.id;
  });
  if (p.max_results > 0 && picked.size() > std::size_t(p.max_results))
    picked.resize(std::size_t(p.max_results));
  if (p.include_universal) {
    std::vector<Activated> uni;
    for (std::int64_t i = 0; i < g.n(); ++i) {
      if (!g.nodes[std::size_t(i)].universal) continue;
      if (std::any_of(picked.begin(), picked.end(), [i](const Activated& x) { return x.node == i; }))
        continue;
      auto it = std::lower_bound(r.active.begin(), r.active.end(), std::make_pair(i, -1.0f));
      const bool on = it != r.active.end() && it->first == i;
      uni.push_back(make(i, on ? it->second : 0.0f,
                         on ? conf_of_active[std::size_t(it - r.active.begin())] : 0.0f));
    }
    std::sort(uni.begin(), uni.end(),
              [](const Activated& x, const Activated& y) { return x.id < y.id; });
    picked.insert(picked.end(), uni.begin(), uni.end());
  }
  r.results = std::move(picked);
}

// Runs one chunk of queries on the CPU.
void run_chunk_cpu(const GraphData& g, const std::vector<Query>& queries, std::size_t begin,
                   std::size_t end, std::vector<QueryResult>& out) {
  const std::int64_t B = std::int64_t(end - begin), N = g.n();
  // Seeding: one similarity product for the chunk's semantic queries.
  std::vector<std::size_t> semantic;
  std::int32_t max_seeds = 0;
  for (std::size_t k = begin; k < end; ++k) {
    if (queries[k].seeds.empty()) {
      semantic.push_back(k);
      max_seeds = std::max(max_seeds, std::int32_t(std::min<std::int64_t>(queries[k].params.top_k, N)));
    } else {
      max_seeds = std::max(max_seeds, std::int32_t(queries[k].seeds.size()));
    }
  }
  max_seeds = std::max(max_seeds, 1);
  std::vector<std::int32_t> seed_nodes(static_cast<std::size_t>(B * max_seeds), 0), seed_count(static_cast<std::size_t>(B), 0);
  std::vector<float> seed_act(static_cast<std::size_t>(B * max_seeds), 0.0f);
  if (!semantic.empty() && N > 0) {
    const std::int64_t S = std::int64_t(semantic.size());
    std::vector<float> qm(static_cast<std::size_t>(S * g.dim));
    for (std::int64_t s = 0; s < S; ++s) {
      const auto& e = queries[semantic[std::size_t(s)]].embedding;
      double norm = 0;
      for (float v : e) norm += double(v) * v;
      const double inv = 1.0 / std::sqrt(norm);
      for (int c = 0; c < g.dim; ++c) qm[std::size_t(s * g.dim + c)] = float(e[std::size_t(c)] * inv);
    }
    std::vector<float> sim(static_cast<std::size_t>(S * N));
    kernels::relevance_similarity_cpu({qm.data(), g.emb_norm.data(), sim.data(), S, N, g.dim});
    std::vector<std::int32_t> ks(static_cast<std::size_t>(S)), sn(static_cast<std::size_t>(S * max_seeds)),
        sc(static_cast<std::size_t>(S));
    std::vector<float> th(static_cast<std::size_t>(S)), sa(static_cast<std::size_t>(S * max_seeds));
    for (std::int64_t s = 0; s < S; ++s) {
      const QueryParams& p = queries[semantic[std::size_t(s)]].params;
      ks[std::size_t(s)] = std::int32_t(std::min<std::int64_t>(p.top_k, N));
      th[std::size_t(s)] = p.seed_threshold;
    }
    kernels::RelevanceTopkArgs ta{sim.data(), ks.data(), th.data(), sn.data(), sa.data(),
                                  sc.data(), S, N, max_seeds};
    kernels::relevance_topk_cpu(ta);
    for (std::int64_t s = 0; s < S; ++s) {
      const std::int64_t qi = std::int64_t(semantic[std::size_t(s)] - begin);
      seed_count[std::size_t(qi)] = sc[std::size_t(s)];
      for (std::int32_t r = 0; r < sc[std::size_t(s)]; ++r) {
        seed_nodes[std::size_t(qi * max_seeds + r)] = sn[std::size_t(s * max_seeds + r)];
        seed_act[std::size_t(qi * max_seeds + r)] = sa[std::size_t(s * max_seeds + r)];
        // Similarity kept unclamped for the report.
        out[std::size_t(qi) + begin].seeds.push_back(
            SeedHit{sn[std::size_t(s * max_seeds + r)],
                    g.nodes[std::size_t(sn[std::size_t(s * max_seeds + r)])].id,
                    sim[std::size_t(s * N + sn[std::size_t(s * max_seeds + r)])]});
      }
    }
  }
  std::vector<kernels::RelevanceParams> params(static_cast<std::size_t>(B));
  for (std::int64_t qi = 0; qi < B; ++qi) {
    const Query& q = queries[begin + std::size_t(qi)];
    params[std::size_t(qi)] = kernel_params(q.params);
    if (!q.seeds.empty()) {
      seed_count[std::size_t(qi)] = std::int32_t(q.seeds.size());
      for (std::size_t r = 0; r < q.seeds.size(); ++r) {
        const std::int64_t i = g.index.at(q.seeds[r].id);
        seed_nodes[std::size_t(qi * max_seeds) + r] = std::int32_t(i);
        seed_act[std::size_t(qi * max_seeds) + r] = q.seeds[r].activation;
        out[begin + std::size_t(qi)].seeds.push_back(SeedHit{i, q.seeds[r].id, q.seeds[r].activation});
      }
    }
  }
  // Outputs sized for the worst case (every node active), left uninitialised: only the first
  // count entries of each query's row are written and read.
  std::unique_ptr<std::int32_t[]> on(new std::int32_t[std::size_t(B * N)]);
  std::unique_ptr<float[]> oa(new float[std::size_t(B * N)]), oc(new float[std::size_t(B * N)]);
  std::vector<std::int32_t> iters(static_cast<std::size_t>(B)), conv(static_cast<std::size_t>(B));
  std::vector<std::int64_t> count(static_cast<std::size_t>(B)), msgs(static_cast<std::size_t>(B));
  kernels::RelevancePropagateArgs pa;
  pa.g = g.view();
  pa.params = params.data();
  pa.seed_nodes = seed_nodes.data();
  pa.seed_act = seed_act.data();
  pa.seed_count = seed_count.data();
  pa.max_seeds = max_seeds;
  pa.batch = B;
  pa.out_nodes = on.get();
  pa.out_act = oa.get();
  pa.out_conf = oc.get();
  pa.out_count = count.data();
  pa.iterations = iters.data();
  pa.converged = conv.data();
  pa.messages = msgs.data();
  if (N > 0) kernels::relevance_propagate_cpu(pa);
  for (std::int64_t qi = 0; qi < B; ++qi) {
    QueryResult& r = out[begin + std::size_t(qi)];
    r.iterations = N > 0 ? iters[std::size_t(qi)] : 0;
    r.converged = N > 0 && conv[std::size_t(qi)] != 0;
    r.edges_touched = N > 0 ? msgs[std::size_t(qi)] : 0;
    std::vector<std::int64_t> order(std::size_t(N > 0 ? count[std::size_t(qi)] : 0));
    for (std::size_t k = 0; k < order.size(); ++k) order[k] = std::int64_t(k);
    const std::int64_t base = qi * N;
    std::sort(order.begin(), order.end(), [&](std::int64_t x, std::int64_t y) {
      return on[std::size_t(base + x)] < on[std::size_t(base + y)];
    });
    std::vector<float> conf(order.size());
    r.active.resize(order.size());
    for (std::size_t k = 0; k < order.size(); ++k) {
      r.active[k] = {on[std::size_t(base + order[k])], oa[std::size_t(base + order[k])]};
      conf[k] = oc[std::size_t(base + order[k])];
    }
    extract(g, queries[begin + std::size_t(qi)], r, conf);
  }
}
}  // namespace

QueryResult Store::query(const Query& query, const Device& device) const {
  return std::move(query_batch({query}, device).front());
}

std::vector<QueryResult> Store::query_batch(const std::vector<Query>& queries,
                                            const Device& device) const {
  std::shared_lock<std::shared_mutex> lock(impl_->mu);
  const GraphData& g = impl_->g;
  for (std::size_t k = 0; k < queries.size(); ++k) check_query(queries[k], k, g);
  std::vector<QueryResult> out(queries.size());
  if (device.kind != DeviceKind::cpu) {
    throw Error(ErrorCode::not_supported,
                fmt::format("relevance queries on {} are not built yet", device.str()));
  }
  const std::size_t chunk =
      std::size_t(std::max<std::int64_t>(1, kCpuChunkElems / std::max<std::int64_t>(1, g.n())));
  for (std::size_t b = 0; b < queries.size(); b += chunk)
    run_chunk_cpu(g, queries, b, std::min(queries.size(), b + chunk), out);
  return out;
}

}  // namespace mpe::relevance
