// Relevance queries: validation, batched seeding (one similarity product + top-k per query),
// propagation over the shared CSR, and extraction.
#include <algorithm>
#include <cmath>
#include <exception>
#include <map>
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
  if (p.propagation != Propagation::spreading && p.propagation != Propagation::ppr)
    bad("propagation is neither spreading nor ppr");
  if (!std::isfinite(p.damping) || p.damping < 0.0f || p.damping >= 1.0f)
    bad(fmt::format("damping {} is outside [0, 1)", p.damping));
  if (!std::isfinite(p.ppr_tolerance) || p.ppr_tolerance <= 0.0f || p.ppr_tolerance >= 1.0f)
    bad(fmt::format("ppr_tolerance {} is outside (0, 1)", p.ppr_tolerance));
  if (p.ppr_max_iterations < 1 || p.ppr_max_iterations > 100000)
    bad(fmt::format("ppr_max_iterations {} is outside [1, 100000]", p.ppr_max_iterations));
  if (p.ppr_top_k < 1) bad(fmt::format("ppr_top_k {} must be >= 1", p.ppr_top_k));
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

// The PPR queries [begin, end) with their seeds: grouped by view (weighted, undirected), one
// batched run per group, then the results (top k, no universal rows).
void run_ppr_chunk(const Store::Impl& impl, const std::vector<Query>& queries, std::size_t begin,
                   std::size_t end, const std::vector<std::int32_t>& seed_nodes,
                   const std::vector<float>& seed_act, const std::vector<std::int32_t>& seed_count,
                   std::int32_t max_seeds, std::vector<QueryResult>& out) {
  const GraphData& g = impl.g;
  std::map<std::vector<std::string>, std::vector<char>> masks;
  std::vector<std::size_t> todo;
  for (std::size_t k = begin; k < end; ++k) todo.push_back(k);
  while (!todo.empty()) {
    const QueryParams& p0 = queries[todo[0]].params;
    std::vector<std::size_t> group, rest;
    for (const std::size_t k : todo) {
      const QueryParams& p = queries[k].params;
      const bool same = p.ppr_weighted == p0.ppr_weighted && p.ppr_undirected == p0.ppr_undirected;
      (same ? group : rest).push_back(k);
    }
    todo.swap(rest);
    const auto view = detail::ppr_view(impl, p0);
    std::vector<detail::PprSeeds> seeds(group.size());
    std::vector<const QueryParams*> params(group.size());
    std::vector<const std::vector<char>*> eligible(group.size(), nullptr);
    for (std::size_t k = 0; k < group.size(); ++k) {
      const std::size_t qi = group[k] - begin;
      for (std::int32_t r = 0; r < seed_count[qi]; ++r) {
        const float w = seed_act[qi * std::size_t(max_seeds) + std::size_t(r)];
        if (w > 0.0f)
          seeds[k].emplace_back(seed_nodes[qi * std::size_t(max_seeds) + std::size_t(r)], w);
      }
      const QueryParams& p = queries[group[k]].params;
      params[k] = &p;
      if (!p.types.empty()) {
        auto it = masks.find(p.types);
        if (it == masks.end()) {
          std::vector<char> m(std::size_t(g.n()), 0);
          for (std::int64_t i = 0; i < g.n(); ++i)
            m[std::size_t(i)] = std::find(p.types.begin(), p.types.end(),
                                          g.nodes[std::size_t(i)].type) != p.types.end();
          it = masks.emplace(p.types, std::move(m)).first;
        }
        eligible[k] = &it->second;
      }
    }
    std::vector<detail::PprOut> res;
    detail::run_ppr(*view, seeds, params, eligible, res);
    for (std::size_t k = 0; k < group.size(); ++k) {
      QueryResult& r = out[group[k]];
      r.iterations = res[k].iterations;
      r.converged = res[k].converged;
      std::unordered_set<std::int64_t> seed_set;
      for (const SeedHit& s : r.seeds) seed_set.insert(s.node);
      for (const auto& [i, score] : res[k].top) {
        const Node& nd = g.nodes[std::size_t(i)];
        r.results.push_back(Activated{i, nd.id, nd.type, nd.title, float(score), 1.0f, nd.universal,
                                      seed_set.count(i) > 0});
        r.active.emplace_back(i, float(score));
      }
      std::sort(r.active.begin(), r.active.end());
    }
  }
}

// Where a chunk runs: the backend, and the graph's arrays on its device.
struct Target {
  Device device;
  ::mpe::detail::Backend* backend = nullptr;
  kernels::RelevanceGraph graph;      // pointers on the device
  const float* embeddings = nullptr;  // [n, dim] normalised, on the device
  float dense_fraction = 2.0f;        // Store::set_dense_switch (CPU)
};

template <class T>
Tensor upload(const std::vector<T>& v, const Device& dev) {
  return Tensor::from_vector(v, {std::int64_t(v.size())}, dev);
}

// Runs queries [begin, end) on the target: seeding (similarity product + top-k), propagation,
// then the host reads back each query's active set and extracts.
void run_chunk(const Store::Impl& impl, const Target& t, const std::vector<Query>& queries,
               std::size_t begin, std::size_t end, std::vector<QueryResult>& out) {
  const GraphData& g = impl.g;
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
    be.relevance_topk(
        di, {sim.data<float>(), kd.data<std::int32_t>(), thd.data<float>(), sn.data<std::int32_t>(),
             ss.data<float>(), sc.data<std::int32_t>(), S, N, max_seeds});
    const std::vector<std::int32_t> hn = sn.to_vector<std::int32_t>(),
                                    hc = sc.to_vector<std::int32_t>();
    const std::vector<float> hs = ss.to_vector<float>();
    for (std::int64_t s = 0; s < S; ++s) {
      const std::int64_t qi = std::int64_t(semantic[std::size_t(s)] - begin);
      seed_count[std::size_t(qi)] = hc[std::size_t(s)];
      for (std::int32_t r = 0; r < hc[std::size_t(s)]; ++r) {
        const std::int32_t node = hn[std::size_t(s * max_seeds + r)];
        const float sv = hs[std::size_t(s * max_seeds + r)];
        seed_nodes[std::size_t(qi * max_seeds + r)] = node;
        seed_act[std::size_t(qi * max_seeds + r)] = std::min(1.0f, sv);
        out[begin + std::size_t(qi)].seeds.push_back(
            SeedHit{node, g.nodes[std::size_t(node)].id, sv});
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
      out[begin + std::size_t(qi)].seeds.push_back(
          SeedHit{i, q.seeds[r].id, q.seeds[r].activation});
    }
  }
  if (queries[begin].params.propagation == Propagation::ppr) {  // chunks are all one kind
    run_ppr_chunk(impl, queries, begin, end, seed_nodes, seed_act, seed_count, max_seeds, out);
    return;
  }
  // Propagation. Outputs are sized for the worst case (every node active) and left
  // uninitialised: only the first count entries of each query's row are written and read.
  static_assert(sizeof(kernels::RelevanceParams) % 4 == 0, "params travel as 4-byte words");
  const std::size_t pwords = params.size() * sizeof(kernels::RelevanceParams) / 4;
  const Tensor pd =
      Tensor::from_host(params.data(), pwords, DType::f32, {std::int64_t(pwords)}, t.device);
  const Tensor snd = upload(seed_nodes, t.device), sad = upload(seed_act, t.device),
               scd = upload(seed_count, t.device);
  Tensor on = Tensor::empty({B * N}, DType::i32, t.device);
  Tensor oa = Tensor::empty({B * N}, DType::f32, t.device);
  Tensor oc = Tensor::empty({B * N}, DType::f32, t.device);
  Tensor count = Tensor::empty({B}, DType::i64, t.device),
         msgs = Tensor::empty({B}, DType::i64, t.device);
  Tensor iters = Tensor::empty({B}, DType::i32, t.device),
         conv = Tensor::empty({B}, DType::i32, t.device);
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
  pa.dense_fraction = t.dense_fraction;
  be.relevance_propagate(di, pa);
  const std::vector<std::int64_t> hcount = count.to_vector<std::int64_t>(),
                                  hmsgs = msgs.to_vector<std::int64_t>();
  const std::vector<std::int32_t> hiters = iters.to_vector<std::int32_t>(),
                                  hconv = conv.to_vector<std::int32_t>();
  // A device's outputs are copied back one query at a time (its copy path); the CPU's are read
  // where the kernel wrote them. Then the queries are ordered and extracted on several
  // threads: with a large batch this host work is a large share of the call. Each query
  // writes only its own result.
  const auto nb = static_cast<std::size_t>(B);
  const bool on_host = t.device.kind == DeviceKind::cpu;
  std::vector<std::vector<std::int32_t>> nodes_of(on_host ? 0 : nb);
  std::vector<std::vector<float>> act_of(on_host ? 0 : nb), conf_of(on_host ? 0 : nb);
  for (std::int64_t qi = 0; qi < B && !on_host; ++qi) {
    const auto cnt = std::size_t(hcount[std::size_t(qi)]);
    nodes_of[std::size_t(qi)].resize(cnt);
    act_of[std::size_t(qi)].resize(cnt);
    conf_of[std::size_t(qi)].resize(cnt);
    if (cnt) {
      const std::size_t off = std::size_t(qi * N);
      be.copy_to_host(di, nodes_of[std::size_t(qi)].data(), on.data<std::int32_t>() + off, cnt * 4);
      be.copy_to_host(di, act_of[std::size_t(qi)].data(), oa.data<float>() + off, cnt * 4);
      be.copy_to_host(di, conf_of[std::size_t(qi)].data(), oc.data<float>() + off, cnt * 4);
    }
  }
  std::exception_ptr failure;  // an exception may not leave an OpenMP region
#pragma omp parallel for schedule(dynamic, 1) if (B > 1)
  for (std::int64_t qi = 0; qi < B; ++qi) {
    try {
      QueryResult& r = out[begin + std::size_t(qi)];
      r.iterations = hiters[std::size_t(qi)];
      r.converged = hconv[std::size_t(qi)] != 0;
      r.edges_touched = hmsgs[std::size_t(qi)];
      const std::size_t cnt = std::size_t(hcount[std::size_t(qi)]);
      const std::int32_t* nodes =
          on_host ? on.data<std::int32_t>() + qi * N : nodes_of[std::size_t(qi)].data();
      const float* act = on_host ? oa.data<float>() + qi * N : act_of[std::size_t(qi)].data();
      const float* conf = on_host ? oc.data<float>() + qi * N : conf_of[std::size_t(qi)].data();
      std::vector<float> sorted_conf(cnt);
      r.active.resize(cnt);
      if (std::is_sorted(nodes, nodes + cnt)) {  // a dense last iteration lists them in order
        for (std::size_t k = 0; k < cnt; ++k) r.active[k] = {nodes[k], act[k]};
        std::copy(conf, conf + cnt, sorted_conf.begin());
      } else {
        std::vector<std::size_t> order(cnt);
        for (std::size_t k = 0; k < cnt; ++k) order[k] = k;
        std::sort(order.begin(), order.end(),
                  [&](std::size_t x, std::size_t y) { return nodes[x] < nodes[y]; });
        for (std::size_t k = 0; k < cnt; ++k) {
          r.active[k] = {nodes[order[k]], act[order[k]]};
          sorted_conf[k] = conf[order[k]];
        }
      }
      detail::extract_results(g, queries[begin + std::size_t(qi)], r, sorted_conf);
    } catch (...) {
#pragma omp critical(mpe_relevance_extract_failure)
      if (!failure) failure = std::current_exception();
    }
  }
  if (failure) std::rethrow_exception(failure);
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

std::shared_ptr<const detail::PullView> Store::Impl::pull_view() const {
  std::lock_guard<std::mutex> lock(dev_mu);
  if (!pull) pull = std::make_shared<const detail::PullView>(g);
  return pull;
}

void Store::set_dense_switch(float fraction) {
  if (!std::isfinite(fraction) || fraction < 0.0f)
    throw Error(ErrorCode::invalid_argument,
                fmt::format("dense switch fraction {} must be finite and >= 0", fraction));
  impl_->dense_fraction.store(fraction);
}

float Store::dense_switch() const { return impl_->dense_fraction.load(); }

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
  std::shared_ptr<const detail::PullView> pull;
  if (device.kind == DeviceKind::cpu) {
    t.graph = g.view();
    t.embeddings = g.emb_norm.data();
    t.dense_fraction = impl_->dense_fraction.load();
    if (t.dense_fraction <= 1.0f) {
      pull = impl_->pull_view();
      pull->attach(t.graph);
    }
  } else {
    dg = impl_->device_graph(device);
    t.graph = dg->view(g.n(), std::int32_t(g.type_names.size()));
    t.embeddings = dg->embeddings.data<float>();
    budget = kDeviceChunkElems;
  }
  const std::size_t chunk = std::size_t(std::max<std::int64_t>(1, budget / g.n()));
  // Spreading and PPR queries run as separate batches (PPR on the CPU), each in chunks.
  std::vector<std::size_t> kinds[2];
  for (std::size_t k = 0; k < queries.size(); ++k)
    kinds[queries[k].params.propagation == Propagation::ppr ? 1 : 0].push_back(k);
  for (int kind = 0; kind < 2; ++kind) {
    if (kinds[kind].empty()) continue;
    const bool all = kinds[kind].size() == queries.size();
    std::vector<Query> sub;
    if (!all)
      for (const std::size_t k : kinds[kind]) sub.push_back(queries[k]);
    const std::vector<Query>& qs = all ? queries : sub;
    std::vector<QueryResult> part;
    std::vector<QueryResult>& res = all ? out : part;
    if (!all) part.resize(qs.size());
    for (std::size_t b = 0; b < qs.size(); b += chunk)
      run_chunk(*impl_, t, qs, b, std::min(qs.size(), b + chunk), res);
    if (!all)
      for (std::size_t k = 0; k < kinds[kind].size(); ++k) out[kinds[kind][k]] = std::move(part[k]);
  }
  return out;
}

}  // namespace mpe::relevance
