// Relevance queries: validation, batched seeding (one similarity product + top-k per query),
// propagation over the shared CSR, and extraction.
#include <algorithm>
#include <cmath>
#include <memory>
#include <unordered_set>

#include <fmt/format.h>
#include <mpe/error.hpp>

#include "backend.hpp"
#include "relevance/detail.hpp"

namespace mpe::relevance {

namespace {
using detail::GraphData;

// tuning: queries per chunk · nodes (outputs and similarities are chunk · nodes arrays)
constexpr std::int64_t kCpuChunkElems = std::int64_t(1) << 24;
constexpr std::int64_t kDeviceChunkElems = std::int64_t(1) << 27;  // x ~11 arrays of 4 bytes

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
    for (const std::int64_t i : g.universal) {
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

// Where a chunk runs: the backend, and the graph's arrays on its device.
struct Target {
  Device device;
  ::mpe::detail::Backend* backend = nullptr;
  kernels::RelevanceGraph graph;   // pointers on the device
  const float* embeddings = nullptr;  // [n, dim] normalised, on the device
};

template <class T>
Tensor upload(const std::vector<T>& v, const Device& dev) {
  return Tensor::from_vector(v, {std::int64_t(v.size())}, dev);
}

// Runs queries [begin, end) on the target: seeding (similarity product + top-k), propagation,
// then the host reads back each query's active set and extracts.
void run_chunk(const GraphData& g, const Target& t, const std::vector<Query>& queries,
               std::size_t begin, std::size_t end, std::vector<QueryResult>& out) {
  const std::int64_t B = std::int64_t(end - begin), N = g.n();
  const int di = t.device.index;
  ::mpe::detail::Backend& be = *t.backend;
  std::vector<std::size_t> semantic;
  std::int32_t max_seeds = 1, max_iterations = 0;
  for (std::size_t k = begin; k < end; ++k) {
    const Query& q = queries[k];
    max_iterations = std::max(max_iterations, std::int32_t(q.params.max_iterations));
    if (q.seeds.empty()) {
      semantic.push_back(k);
      max_seeds = std::max(max_seeds, std::int32_t(std::min<std::int64_t>(q.params.top_k, N)));
    } else {
      max_seeds = std::max(max_seeds, std::int32_t(q.seeds.size()));
    }
  }
  std::vector<std::int32_t> seed_nodes(static_cast<std::size_t>(B * max_seeds), 0);
  std::vector<std::int32_t> seed_count(static_cast<std::size_t>(B), 0);
  std::vector<float> seed_act(static_cast<std::size_t>(B * max_seeds), 0.0f);
  // Seeding: one similarity product for the chunk's semantic queries, then top k of each.
  if (!semantic.empty()) {
    const std::int64_t S = std::int64_t(semantic.size());
    std::vector<float> qm(static_cast<std::size_t>(S * g.dim));
    std::vector<std::int32_t> ks(static_cast<std::size_t>(S));
    std::vector<float> th(static_cast<std::size_t>(S));
    for (std::int64_t s = 0; s < S; ++s) {
      const Query& q = queries[semantic[std::size_t(s)]];
      double norm = 0;
      for (float v : q.embedding) norm += double(v) * v;
      const double inv = 1.0 / std::sqrt(norm);
      for (int c = 0; c < g.dim; ++c)
        qm[std::size_t(s * g.dim + c)] = float(q.embedding[std::size_t(c)] * inv);
      ks[std::size_t(s)] = std::int32_t(std::min<std::int64_t>(q.params.top_k, N));
      th[std::size_t(s)] = q.params.seed_threshold;
    }
    const Tensor qd = Tensor::from_vector(qm, {S, std::int64_t(g.dim)}, t.device);
    Tensor sim = Tensor::empty({S, N}, DType::f32, t.device);
    be.relevance_similarity(di, {qd.data<float>(), t.embeddings, sim.data<float>(), S, N, g.dim});
    const Tensor kd = upload(ks, t.device), thd = upload(th, t.device);
    Tensor sn = Tensor::empty({S, max_seeds}, DType::i32, t.device);
    Tensor ss = Tensor::empty({S, max_seeds}, DType::f32, t.device);
    Tensor sc = Tensor::empty({S}, DType::i32, t.device);
    be.relevance_topk(di, {sim.data<float>(), kd.data<std::int32_t>(), thd.data<float>(),
                           sn.data<std::int32_t>(), ss.data<float>(), sc.data<std::int32_t>(), S, N,
                           max_seeds});
    const std::vector<std::int32_t> hn = sn.to_vector<std::int32_t>(), hc = sc.to_vector<std::int32_t>();
    const std::vector<float> hs = ss.to_vector<float>();
    for (std::int64_t s = 0; s < S; ++s) {
      const std::int64_t qi = std::int64_t(semantic[std::size_t(s)] - begin);
      seed_count[std::size_t(qi)] = hc[std::size_t(s)];
      for (std::int32_t r = 0; r < hc[std::size_t(s)]; ++r) {
        const std::int32_t node = hn[std::size_t(s * max_seeds + r)];
        const float sv = hs[std::size_t(s * max_seeds + r)];
        seed_nodes[std::size_t(qi * max_seeds + r)] = node;
        seed_act[std::size_t(qi * max_seeds + r)] = std::min(1.0f, sv);
        out[begin + std::size_t(qi)].seeds.push_back(SeedHit{node, g.nodes[std::size_t(node)].id, sv});
      }
    }
  }
  std::vector<kernels::RelevanceParams> params(static_cast<std::size_t>(B));
  for (std::int64_t qi = 0; qi < B; ++qi) {
    const Query& q = queries[begin + std::size_t(qi)];
    params[std::size_t(qi)] = kernel_params(q.params);
    if (q.seeds.empty()) continue;
    seed_count[std::size_t(qi)] = std::int32_t(q.seeds.size());
    for (std::size_t r = 0; r < q.seeds.size(); ++r) {
      const std::int64_t i = g.index.at(q.seeds[r].id);
      seed_nodes[std::size_t(qi * max_seeds) + r] = std::int32_t(i);
      seed_act[std::size_t(qi * max_seeds) + r] = q.seeds[r].activation;
      out[begin + std::size_t(qi)].seeds.push_back(SeedHit{i, q.seeds[r].id, q.seeds[r].activation});
    }
  }
  // Propagation. Outputs are sized for the worst case (every node active) and left
  // uninitialised: only the first count entries of each query's row are written and read.
  static_assert(sizeof(kernels::RelevanceParams) % 4 == 0, "params travel as 4-byte words");
  const std::size_t pwords = params.size() * sizeof(kernels::RelevanceParams) / 4;
  const Tensor pd = Tensor::from_host(params.data(), pwords, DType::f32,
                                      {std::int64_t(pwords)}, t.device);
  const Tensor snd = upload(seed_nodes, t.device), sad = upload(seed_act, t.device),
               scd = upload(seed_count, t.device);
  Tensor on = Tensor::empty({B * N}, DType::i32, t.device);
  Tensor oa = Tensor::empty({B * N}, DType::f32, t.device);
  Tensor oc = Tensor::empty({B * N}, DType::f32, t.device);
  Tensor count = Tensor::empty({B}, DType::i64, t.device), msgs = Tensor::empty({B}, DType::i64, t.device);
  Tensor iters = Tensor::empty({B}, DType::i32, t.device), conv = Tensor::empty({B}, DType::i32, t.device);
  kernels::RelevancePropagateArgs pa;
  pa.g = t.graph;
  pa.params = static_cast<const kernels::RelevanceParams*>(pd.raw());
  pa.seed_nodes = snd.data<std::int32_t>();
  pa.seed_act = sad.data<float>();
  pa.seed_count = scd.data<std::int32_t>();
  pa.max_seeds = max_seeds;
  pa.batch = B;
  pa.max_iterations = max_iterations;
  pa.out_nodes = on.data<std::int32_t>();
  pa.out_act = oa.data<float>();
  pa.out_conf = oc.data<float>();
  pa.out_count = count.data<std::int64_t>();
  pa.iterations = iters.data<std::int32_t>();
  pa.converged = conv.data<std::int32_t>();
  pa.messages = msgs.data<std::int64_t>();
  be.relevance_propagate(di, pa);
  const std::vector<std::int64_t> hcount = count.to_vector<std::int64_t>(), hmsgs = msgs.to_vector<std::int64_t>();
  const std::vector<std::int32_t> hiters = iters.to_vector<std::int32_t>(), hconv = conv.to_vector<std::int32_t>();
  for (std::int64_t qi = 0; qi < B; ++qi) {
    QueryResult& r = out[begin + std::size_t(qi)];
    r.iterations = hiters[std::size_t(qi)];
    r.converged = hconv[std::size_t(qi)] != 0;
    r.edges_touched = hmsgs[std::size_t(qi)];
    const auto cnt = std::size_t(hcount[std::size_t(qi)]);
    std::vector<std::int32_t> nodes(cnt);
    std::vector<float> act(cnt), conf(cnt);
    if (cnt) {
      const std::size_t off = std::size_t(qi * N);
      be.copy_to_host(di, nodes.data(), on.data<std::int32_t>() + off, cnt * 4);
      be.copy_to_host(di, act.data(), oa.data<float>() + off, cnt * 4);
      be.copy_to_host(di, conf.data(), oc.data<float>() + off, cnt * 4);
    }
    std::vector<std::size_t> order(cnt);
    for (std::size_t k = 0; k < cnt; ++k) order[k] = k;
    std::sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return nodes[x] < nodes[y]; });
    std::vector<float> sorted_conf(cnt);
    r.active.resize(cnt);
    for (std::size_t k = 0; k < cnt; ++k) {
      r.active[k] = {nodes[order[k]], act[order[k]]};
      sorted_conf[k] = conf[order[k]];
    }
    extract(g, queries[begin + std::size_t(qi)], r, sorted_conf);
  }
}
}  // namespace

QueryResult Store::query(const Query& query, const Device& device) const {
  return std::move(query_batch({query}, device).front());
}

std::shared_ptr<const detail::DeviceGraph> Store::Impl::device_graph(const Device& d) const {
  std::lock_guard<std::mutex> lock(dev_mu);
  auto& slot = dev_cache[d];
  if (!slot) {
    auto dg = std::make_shared<detail::DeviceGraph>();
    dg->device = d;
    auto put = [&](Tensor& t, const auto& v) {
      if (!v.empty()) t = upload(v, d);
    };
    put(dg->row_offsets, g.row_offsets);
    put(dg->targets, g.csr_targets);
    put(dg->weights, g.csr_weights);
    put(dg->types, g.csr_types);
    put(dg->conf, g.csr_conf);
    put(dg->type_weights, g.type_weights);
    put(dg->residual, g.residual);
    put(dg->decay, g.decay);
    put(dg->threshold, g.threshold);
    put(dg->level, g.level);
    put(dg->embeddings, g.emb_norm);
    slot = dg;
  }
  return slot;
}

namespace detail {
kernels::RelevanceGraph DeviceGraph::view(std::int64_t nodes, std::int32_t num_types) const {
  auto ptr = [](const Tensor& t) { return t.defined() ? t.raw() : nullptr; };
  kernels::RelevanceGraph v;
  v.nodes = nodes;
  v.row_offsets = static_cast<const std::int64_t*>(ptr(row_offsets));
  v.targets = static_cast<const std::int32_t*>(ptr(targets));
  v.weights = static_cast<const float*>(ptr(weights));
  v.edge_types = static_cast<const std::int32_t*>(ptr(types));
  v.confidence = static_cast<const float*>(ptr(conf));
  v.type_weights = static_cast<const float*>(ptr(type_weights));
  v.num_types = num_types;
  v.residual = static_cast<const float*>(ptr(residual));
  v.decay = static_cast<const float*>(ptr(decay));
  v.threshold = static_cast<const float*>(ptr(threshold));
  v.level = static_cast<const std::int32_t*>(ptr(level));
  return v;
}
}  // namespace detail

void Store::validate(const Query& query) const {
  auto lock = impl_->read_lock();
  check_query(query, 0, impl_->g);
}

std::vector<QueryResult> Store::query_batch(const std::vector<Query>& queries,
                                            const Device& device) const {
  auto lock = impl_->read_lock();
  const GraphData& g = impl_->g;
  for (std::size_t k = 0; k < queries.size(); ++k) check_query(queries[k], k, g);
  std::vector<QueryResult> out(queries.size());
  if (queries.empty() || g.n() == 0) return out;
  Target t;
  t.device = device;
  t.backend = &::mpe::detail::backend_for(device);
  std::shared_ptr<const detail::DeviceGraph> dg;
  std::int64_t budget = kCpuChunkElems;
  if (device.kind == DeviceKind::cpu) {
    t.graph = g.view();
    t.embeddings = g.emb_norm.data();
  } else {
    dg = impl_->device_graph(device);
    t.graph = dg->view(g.n(), std::int32_t(g.type_names.size()));
    t.embeddings = dg->embeddings.data<float>();
    budget = kDeviceChunkElems;
  }
  const std::size_t chunk = std::size_t(std::max<std::int64_t>(1, budget / g.n()));
  for (std::size_t b = 0; b < queries.size(); b += chunk)
    run_chunk(g, t, queries, b, std::min(queries.size(), b + chunk), out);
  return out;
}

}  // namespace mpe::relevance
