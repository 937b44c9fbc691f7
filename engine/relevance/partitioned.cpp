// Relevance propagation over a partitioned store (include/mpe/dist_models.hpp). Each rank owns
// some nodes and pulls the gated messages into them over their in-edges: the dense iteration of
// kernels/cpu/relevance_propagate.cpp (the same graph_mp call per row, the same per-node rules
// of common/relevance_core.hpp) on its rows, after one halo round of the sources' activations.
#include <algorithm>
#include <cmath>
#include <cstring>

#include <fmt/format.h>
#include <mpe/dist_models.hpp>
#include <mpe/error.hpp>

#include "graph_mp.hpp"
#include "relevance/detail.hpp"

namespace mpe::dist {

std::vector<int> partition_nodes(const relevance::Store& store, int parts, PartitionMethod method) {
  const relevance::Store::Impl& impl = store.impl();
  auto lock = impl.read_lock();
  const auto& g = impl.g;
  const std::int64_t n = g.n();
  std::vector<std::int64_t> off = g.row_offsets;
  if (off.empty()) off.assign(static_cast<std::size_t>(n) + 1, 0);
  Csr csr;
  csr.num_rows = csr.num_cols = n;
  csr.row_offsets = Tensor::from_vector(off, {n + 1});
  csr.col_indices =
      Tensor::from_vector(g.csr_targets, {static_cast<std::int64_t>(g.csr_targets.size())});
  return partition(csr, parts, method);
}

PartitionedStore PartitionedStore::build(std::shared_ptr<Communicator> comm,
                                         const relevance::Store& store,
                                         const std::vector<int>& owner) {
  if (!comm) throw Error(ErrorCode::invalid_argument, "PartitionedStore::build: no communicator");
  const relevance::Store::Impl& impl = store.impl();
  auto lock = impl.read_lock();
  const auto& g = impl.g;
  const std::int64_t n = g.n();
  if (static_cast<std::int64_t>(owner.size()) != n) {  // every rank throws alike
    throw Error(ErrorCode::shape_mismatch,
                fmt::format("PartitionedStore::build: {} owners for {} nodes", owner.size(), n));
  }
  const auto pull = impl.pull_view();
  const int me = comm->rank();
  // This rank's rows of the pull view (in-edges, sources ascending), global source ids.
  std::vector<std::int64_t> off{0};
  std::vector<std::int32_t> col;
  std::vector<float> w, scale, scale_conf;
  std::vector<std::int32_t> src_level;
  std::int64_t rows = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    if (owner[static_cast<std::size_t>(i)] != me) continue;
    for (std::int64_t e = pull->offsets[static_cast<std::size_t>(i)];
         e < pull->offsets[static_cast<std::size_t>(i) + 1]; ++e) {
      const auto k = static_cast<std::size_t>(e);
      col.push_back(pull->sources[k]);
      w.push_back(pull->weights[k]);
      scale.push_back(pull->scale[k]);
      scale_conf.push_back(pull->scale_conf[k]);
      if (!g.level.empty())
        src_level.push_back(g.level[static_cast<std::size_t>(pull->sources[k])]);
    }
    off.push_back(static_cast<std::int64_t>(col.size()));
    ++rows;
  }
  Csr mine;
  mine.num_rows = rows;
  mine.num_cols = n;
  mine.row_offsets = Tensor::from_vector(off, {rows + 1});
  mine.col_indices = Tensor::from_vector(col, {static_cast<std::int64_t>(col.size())});
  if (!w.empty()) mine.weights = Tensor::from_vector(w, {static_cast<std::int64_t>(w.size())});
  PartitionedStore ps(store, PartitionedGraph::from_rows(std::move(comm), mine, owner));
  ps.scale_ = std::move(scale);  // from_rows keeps the entries in the given order
  ps.scale_conf_ = std::move(scale_conf);
  ps.src_level_ = std::move(src_level);
  ps.scale_positive_ = pull->scale_positive;
  return ps;
}

relevance::QueryResult PartitionedStore::query(const relevance::Query& q) const {
  Communicator& comm = part_.comm();
  // Seeds as one process finds them: the query with no iteration leaves the seeds active.
  relevance::QueryResult r0;
  run_checked(comm, [&] {
    if (q.params.propagation != relevance::Propagation::spreading) {
      throw Error(ErrorCode::not_supported,
                  "partitioned relevance: only spreading activation runs partitioned (PPR runs "
                  "on a replicated store: dist::query_batch)");
    }
    relevance::Query seeding = q;
    seeding.params.max_iterations = 0;
    r0 = store_->query(seeding, Device::cpu());
  });
  const relevance::Store::Impl& impl = store_->impl();
  auto lock = impl.read_lock();
  const auto& g = impl.g;
  const relevance::QueryParams& p = q.params;
  const std::vector<std::int64_t>& owned = part_.owned();
  const std::size_t n_own = owned.size();
  std::vector<float> act(n_own, 0.0f), conf(n_own, 0.0f);
  for (const auto& [i, a] : r0.active) {
    const auto it = std::lower_bound(owned.begin(), owned.end(), i);
    if (it == owned.end() || *it != i) continue;
    act[static_cast<std::size_t>(it - owned.begin())] = a;
    conf[static_cast<std::size_t>(it - owned.begin())] = a;
  }
  const Csr& L = part_.local();
  const std::int64_t* off = L.row_offsets.data<std::int64_t>();
  const auto nnz = static_cast<std::size_t>(off[n_own]);
  const std::int32_t* col = nnz ? L.col_indices.data<std::int32_t>() : nullptr;
  const float* w = nnz ? L.weights.data<float>() : nullptr;
  // Per-entry scales of this query's level scales (as the dense iteration forms them).
  const float* sc = scale_.data();
  const float* scc = scale_conf_.data();
  bool positive = scale_positive_;
  std::vector<float> lsc, lscc;
  if (!g.level.empty()) {
    lsc.resize(nnz);
    lscc.resize(nnz);
    for (std::size_t k = 0; k < n_own; ++k) {
      const std::int32_t lt = g.level[static_cast<std::size_t>(owned[k])];
      for (auto e = static_cast<std::size_t>(off[k]); e < static_cast<std::size_t>(off[k + 1]);
           ++e) {
        const float ls =
            kernels::rel_level_scale(src_level_[e], lt, p.level_up_scale, p.level_down_scale);
        lsc[e] = scale_[e] * ls;
        lscc[e] = scale_conf_[e] * ls;
      }
    }
    sc = lsc.data();
    scc = lscc.data();
    positive = positive && p.level_up_scale > 0.0f && p.level_down_scale > 0.0f;
  }
  relevance::QueryResult res;
  res.seeds = r0.seeds;
  std::vector<float> agg(n_own), cnum(n_own), got_any(n_own);
  const float gate = p.edge_gate;
  for (int t = 1; t <= p.max_iterations; ++t) {
    const Tensor xl =
        part_.with_halo(Tensor::from_vector(act, {static_cast<std::int64_t>(n_own), 1}));
    const float* x = xl.data<float>();
    std::int64_t messages = 0;
    for (std::size_t e = 0; e < nnz; ++e) messages += w[e] * x[col[e]] > gate ? 1 : 0;
    std::fill(agg.begin(), agg.end(), 0.0f);
    std::fill(cnum.begin(), cnum.end(), 0.0f);
    std::fill(got_any.begin(), got_any.end(), 0.0f);
    if (nnz) {
      kernels::GraphMpArgs m;
      m.row_offsets = off;
      m.col_indices = col;
      m.weights = w;
      m.x = x;
      m.rows = static_cast<std::int64_t>(n_own);
      m.width = 1;
      m.gate = &gate;
      m.edge_scale = sc;
      m.y = agg.data();
      m.edge_scale2 = scc;
      m.y2 = cnum.data();
      kernels::graph_mp_cpu(m);
      if (!positive) {  // a message of strength 0 still counts: sum the relevances instead
        m.edge_scale = m.edge_scale2 = nullptr;
        m.y2 = nullptr;
        m.y = got_any.data();
        kernels::graph_mp_cpu(m);
      }
    }
    const std::vector<float>& hv = positive ? agg : got_any;
    float delta = 0.0f;
    for (std::size_t k = 0; k < n_own; ++k) {
      const auto i = static_cast<std::size_t>(owned[k]);
      const bool got = hv[k] > 0.0f;
      float& ai = act[k];
      if (!got && ai == 0.0f) continue;
      float& ci = conf[k];
      const float v = kernels::rel_update(ai, got, agg[k], g.residual[i], g.decay[i],
                                          g.threshold[i], p.propagation_threshold);
      delta = std::max(delta, std::abs(v - ai));
      if (got) {
        ci = v > 0.0f ? kernels::rel_confidence(cnum[k], agg[k], ci) : 0.0f;
      } else if (v == 0.0f) {
        ci = 0.0f;
      }
      ai = v;
    }
    double d = delta;
    comm.all_reduce(&d, 1, ReduceOp::max);
    comm.all_reduce(&messages, 1, ReduceOp::sum);
    res.edges_touched += messages;
    res.iterations = t;
    if (d < static_cast<double>(p.tolerance)) {
      res.converged = true;
      break;
    }
  }
  // Every rank's active rows (node, activation, confidence) to every rank, by node.
  struct Row {
    std::int64_t node;
    float a, c;
  };
  std::vector<Row> rows;
  for (std::size_t k = 0; k < n_own; ++k)
    if (act[k] > 0.0f) rows.push_back({owned[k], act[k], conf[k]});
  std::vector<std::uint8_t> bytes(rows.size() * sizeof(Row));
  if (!bytes.empty()) std::memcpy(bytes.data(), rows.data(), bytes.size());
  const auto all = comm.all_gather(bytes);
  std::vector<Row> every(all.size() / sizeof(Row));
  if (!every.empty()) std::memcpy(every.data(), all.data(), every.size() * sizeof(Row));
  std::sort(every.begin(), every.end(), [](const Row& a, const Row& b) { return a.node < b.node; });
  std::vector<float> conf_of_active;
  for (const Row& r : every) {
    res.active.emplace_back(r.node, r.a);
    conf_of_active.push_back(r.c);
  }
  relevance::detail::extract_results(g, q, res, conf_of_active);
  return res;
}

}  // namespace mpe::dist
