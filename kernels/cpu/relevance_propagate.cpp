// CPU twin of relevance_propagate: the queries of a batch iterate in lock step. In each
// iteration a query pushes messages from its frontier (work ∝ the frontier's out-edges that pass
// the gate; OpenMP over queries), unless its frontier's out-edges exceed dense_fraction · nnz:
// then it pulls over every row, and all such queries of the batch share one sparse × dense
// product (graph_mp's CSR reduction, gated, over the pull view; aggregate and confidence
// numerator in one pass) — the direction switch of
// breadth-first search. The frontier after a dense iteration is every active node, so a query
// goes back to pushing when it thins. Both directions apply the same per-node rules
// (common/relevance_core.hpp); sums run in another order, so they agree to float rounding.
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include <omp.h>

#include "graph_mp.hpp"
#include "relevance.hpp"

namespace mpe::kernels {

namespace {
constexpr std::int64_t kParallelWork = 1 << 15;  // below this, one thread
// A batch state of at most this many node-query words is kept per thread between calls.
constexpr std::int64_t kKeepState = std::int64_t(1) << 21;

// Per-thread scratch of a push iteration: aggregate, confidence numerator and the stamp of the
// iteration that last touched a node.
struct PushScratch {
  std::vector<float> agg, cnum;
  std::vector<std::int32_t> stamp, touched, next;
  std::int32_t epoch = 0;
  explicit PushScratch(std::int64_t n) : agg(n, 0.0f), cnum(n, 0.0f), stamp(n, 0) {}
};

struct QueryState {
  std::vector<std::int32_t> frontier;  // active nodes (when !implicit)
  // After a dense iteration the frontier is every node with a > 0, left implicit: listing it
  // (strided reads of [nodes, batch]) is needed only by a push iteration or the output.
  bool implicit = false;
  std::int64_t frontier_edges = 0;     // their out-edges: what a push iteration may read
  std::int64_t pending = 0;            // the messages the next iteration sends, when counted
  std::int64_t messages = 0;
  std::int32_t iterations = 0;
  bool converged = false, done = false;
};

// Activations and confidences of the batch, node-major ([nodes, batch]: a dense iteration reads
// them as the product's input). Zero outside the active sets between calls.
struct BatchState {
  std::vector<float> act, conf;
  bool clean = false;
};

std::int64_t out_edges(const RelevanceGraph& g, const std::vector<std::int32_t>& nodes) {
  std::int64_t e = 0;
  for (const std::int32_t j : nodes) e += g.row_offsets[j + 1] - g.row_offsets[j];
  return e;
}

// One push iteration of query q; returns max |Δa|.
float push_step(const RelevanceGraph& g, const RelevanceParams& p, std::int64_t q,
                std::int64_t B, float* act, float* conf, QueryState& st, PushScratch& s) {
  if (s.epoch == std::numeric_limits<std::int32_t>::max()) {
    std::fill(s.stamp.begin(), s.stamp.end(), 0);
    s.epoch = 0;
  }
  const std::int32_t mark = ++s.epoch;
  s.touched.clear();
  for (const std::int32_t j : st.frontier) {
    const float aj = act[j * B + q];
    const std::int32_t lj = g.level ? g.level[j] : 0;
    for (std::int64_t e = g.row_offsets[j]; e < g.row_offsets[j + 1]; ++e) {
      const std::int32_t i = g.targets[e];
      const float tw =
          g.type_weights ? g.type_weights[std::int64_t(i) * g.num_types + g.edge_types[e]] : 1.0f;
      const float ls = g.level ? rel_level_scale(lj, g.level[i], p.up_scale, p.down_scale) : 1.0f;
      const float m = rel_message(aj, g.weights[e], p.gate, tw, ls);
      if (m < 0.0f) break;  // weights descend within a row: no later edge passes the gate
      ++st.messages;
      if (s.stamp[i] != mark) {
        s.stamp[i] = mark;
        s.agg[i] = 0.0f;
        s.cnum[i] = 0.0f;
        s.touched.push_back(i);
      }
      s.agg[i] += m;
      s.cnum[i] += m * g.confidence[e];
    }
  }
  // Touched nodes mix in their messages, untouched active nodes decay.
  float delta = 0.0f;
  s.next.clear();
  for (const std::int32_t i : s.touched) {
    float& ai = act[i * B + q];
    const float v = rel_update(ai, true, s.agg[i], g.residual[i], g.decay[i], g.threshold[i],
                               p.prop_threshold);
    delta = std::max(delta, std::abs(v - ai));
    float& ci = conf[i * B + q];
    ci = v > 0.0f ? rel_confidence(s.cnum[i], s.agg[i], ci) : 0.0f;
    ai = v;
    if (v > 0.0f) s.next.push_back(i);
  }
  for (const std::int32_t j : st.frontier) {
    if (s.stamp[j] == mark) continue;
    float& aj = act[j * B + q];
    const float v =
        rel_update(aj, false, 0.0f, g.residual[j], g.decay[j], g.threshold[j], p.prop_threshold);
    delta = std::max(delta, std::abs(v - aj));
    aj = v;
    if (v > 0.0f) {
      s.next.push_back(j);
    } else {
      conf[j * B + q] = 0.0f;
    }
  }
  st.frontier.swap(s.next);
  st.frontier_edges = out_edges(g, st.frontier);
  return delta;
}

// Out-edges of node j that carry a message from activation aj > 0: a prefix of the
// weight-sorted row (everything of weight > 0 when the smallest of them passes, else a binary
// search).
inline std::int64_t passing(const RelevanceGraph& g, std::int32_t j, float aj, float gate) {
  const float* w0 = g.weights + g.row_offsets[j];
  const float* w1 = g.weights + g.row_offsets[j + 1];
  if (w0 == w1 || !(aj * w0[0] > gate)) return 0;  // nothing passes
  if (g.out_positive) {
    const std::int32_t pos = g.out_positive[j];
    if (aj * w0[pos - 1] > gate) return pos;
  }
  return std::partition_point(w0, w1, [&](float w) { return aj * w > gate; }) - w0;
}

// Messages query q's next iteration sends: per active source, its out-edges that pass the gate.
// The push's work, and what a dense iteration counts as messages.
std::int64_t next_messages(const RelevanceGraph& g, const RelevanceParams& p, std::int64_t q,
                           std::int64_t B, const float* act, const QueryState& st) {
  std::int64_t m = 0;
  for (const std::int32_t j : st.frontier) m += passing(g, j, act[j * B + q], p.gate);
  return m;
}

// Lists query q's implicit frontier (every node with a > 0, ascending: the order a dense
// iteration used to list it in).
void materialise(const RelevanceGraph& g, std::int64_t q, std::int64_t B, const float* act,
                 QueryState& st) {
  if (!st.implicit) return;
  st.frontier.clear();
  for (std::int64_t i = 0; i < g.nodes; ++i)
    if (act[i * B + q] > 0.0f) st.frontier.push_back(std::int32_t(i));
  st.implicit = false;
}

// Buffers of the dense iterations, reused across iterations and calls.
struct DenseScratch {
  std::vector<float> scale, scale_conf, x, gate, agg, cnum, has, prop, tdelta;
  std::vector<std::int64_t> tedges, tpend;
};

// One dense iteration for the queries `qs` (all with the same level scales): gathers their
// activations, runs the gated products (aggregate, confidence numerator, and whether anything
// arrived when a scale may be 0), then updates every node. Writes each query's delta.
void dense_step(const RelevanceGraph& g, const RelevancePropagateArgs& a,
                const std::vector<std::int64_t>& qs, std::int64_t B, float* act, float* conf,
                std::vector<QueryState>& states, std::vector<float>& deltas, DenseScratch& ds) {
  const std::int64_t n = g.nodes, K = std::int64_t(qs.size());
  const std::int64_t nnz = g.in_offsets[n];
  const RelevanceParams& p0 = a.params[qs[0]];
  // Per-edge scales: tw_i[type] (· confidence), times the level scale of this group.
  std::vector<float>& scale = ds.scale;
  std::vector<float>& scale_conf = ds.scale_conf;
  const float* sc = g.in_scale;
  const float* scc = g.in_scale_conf;
  bool positive = g.in_scale_positive;
  if (g.level) {
    scale.resize(std::size_t(nnz));
    scale_conf.resize(std::size_t(nnz));
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t e = g.in_offsets[i]; e < g.in_offsets[i + 1]; ++e) {
        const float ls = rel_level_scale(g.level[g.in_sources[e]], g.level[i], p0.up_scale,
                                         p0.down_scale);
        scale[std::size_t(e)] = g.in_scale[e] * ls;
        scale_conf[std::size_t(e)] = g.in_scale_conf[e] * ls;
      }
    sc = scale.data();
    scc = scale_conf.data();
    positive = positive && p0.up_scale > 0.0f && p0.down_scale > 0.0f;
  }
  for (const std::int64_t q : qs) states[std::size_t(q)].messages += states[std::size_t(q)].pending;
  // The product's input: the batch's own array when every query takes part.
  std::vector<float>& x = ds.x;
  const float* xin = act;
  if (K != B) {
    x.resize(std::size_t(n * K));
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t k = 0; k < K; ++k) x[std::size_t(i * K + k)] = act[i * B + qs[std::size_t(k)]];
    xin = x.data();
  }
  std::vector<float>&gate = ds.gate, &agg = ds.agg, &cnum = ds.cnum, &has = ds.has;
  gate.resize(std::size_t(K));
  agg.resize(std::size_t(n * K));  // every element is written by the product
  cnum.resize(std::size_t(n * K));
  for (std::int64_t k = 0; k < K; ++k) gate[std::size_t(k)] = a.params[qs[std::size_t(k)]].gate;
  GraphMpArgs m;
  m.row_offsets = g.in_offsets;
  m.col_indices = g.in_sources;
  m.weights = g.in_weights;
  m.x = xin;
  m.rows = n;
  m.width = K;
  m.gate = gate.data();
  m.edge_scale = sc;
  m.y = agg.data();
  m.edge_scale2 = scc;
  m.y2 = cnum.data();
  graph_mp_cpu(m);
  if (!positive) {  // a message of strength 0 still counts as one: sum the relevances instead
    has.resize(std::size_t(n * K));
    m.edge_scale = nullptr;
    m.edge_scale2 = nullptr;
    m.y2 = nullptr;
    m.y = has.data();
    graph_mp_cpu(m);
  }
  const float* hv = positive ? agg.data() : has.data();
  std::vector<float>& prop = ds.prop;
  prop.resize(std::size_t(K));
  for (std::int64_t k = 0; k < K; ++k) {
    prop[std::size_t(k)] = a.params[qs[std::size_t(k)]].prop_threshold;
    deltas[std::size_t(k)] = 0.0f;
  }
  // The update of every node, parallel over node blocks; per query, each thread keeps its max
  // |Δa|, its active nodes' out-edges and their next messages (exact integer sums, so the
  // result does not depend on the threads). The frontier stays implicit.
  const int threads = n * K > kParallelWork ? omp_get_max_threads() : 1;
  // Each thread's slots start on their own 64-byte line (K may be 1: no false sharing).
  const std::int64_t tstride = (K + 15) / 16 * 16;
  std::vector<float>& tdelta = ds.tdelta;
  std::vector<std::int64_t>& tedges = ds.tedges;
  std::vector<std::int64_t>& tpend = ds.tpend;
  tdelta.assign(std::size_t(threads * tstride), 0.0f);
  tedges.assign(std::size_t(threads * tstride), 0);
  tpend.assign(std::size_t(threads * tstride), 0);
  std::vector<float>& gates = ds.gate;  // already filled: each query's gate
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    const int t = omp_get_thread_num();
    float* dl = tdelta.data() + std::int64_t(t) * tstride;
    std::int64_t* fe = tedges.data() + std::int64_t(t) * tstride;
    std::int64_t* pe = tpend.data() + std::int64_t(t) * tstride;
#pragma omp for schedule(static, 256)
    for (std::int64_t i = 0; i < n; ++i) {
      const std::int64_t deg = g.row_offsets[i + 1] - g.row_offsets[i];
      const float* h = hv + i * K;
      const float* ag = agg.data() + i * K;
      const float* cn = cnum.data() + i * K;
      for (std::int64_t k = 0; k < K; ++k) {
        const std::int64_t q = K == B ? k : qs[std::size_t(k)];
        float& ai = act[i * B + q];
        const bool got = h[k] > 0.0f;
        if (!got && ai == 0.0f) continue;
        float& ci = conf[i * B + q];
        const float v = rel_update(ai, got, ag[k], g.residual[i], g.decay[i], g.threshold[i],
                                   prop[std::size_t(k)]);
        dl[k] = std::max(dl[k], std::abs(v - ai));
        if (got) {
          ci = v > 0.0f ? rel_confidence(cn[k], ag[k], ci) : 0.0f;
        } else if (v == 0.0f) {
          ci = 0.0f;
        }
        ai = v;
        if (v > 0.0f) {
          fe[k] += deg;
          pe[k] += passing(g, std::int32_t(i), v, gates[std::size_t(k)]);
        }
      }
    }
  }
  for (std::int64_t k = 0; k < K; ++k) {
    QueryState& st = states[std::size_t(qs[std::size_t(k)])];
    st.frontier.clear();
    st.implicit = true;
    st.frontier_edges = 0;
    st.pending = 0;
    for (int t = 0; t < threads; ++t) {
      const std::size_t o = std::size_t(std::int64_t(t) * tstride + k);
      deltas[std::size_t(k)] = std::max(deltas[std::size_t(k)], tdelta[o]);
      st.frontier_edges += tedges[o];
      st.pending += tpend[o];
    }
  }
}

// Closes iteration t of query q with its delta.
void finish_iteration(const RelevanceParams& p, std::int32_t t, float delta, QueryState& st) {
  st.iterations = t;
  if (delta < p.tolerance) {
    st.converged = true;
    st.done = true;
  } else if (t >= p.max_iterations) {
    st.done = true;
  }
}
}  // namespace

void relevance_propagate_cpu(const RelevancePropagateArgs& a) {
  const RelevanceGraph& g = a.g;
  const std::int64_t n = g.nodes, B = a.batch;
  const std::int64_t nnz = g.row_offsets[n];
  if (B == 0) return;
  thread_local BatchState kept;
  BatchState fresh;
  BatchState& bs = n * B <= kKeepState ? kept : fresh;
  if (!bs.clean || std::int64_t(bs.act.size()) < n * B) {
    bs.act.assign(std::size_t(std::max(n * B, std::int64_t(bs.act.size()))), 0.0f);
    bs.conf.assign(bs.act.size(), 0.0f);
  }
  bs.clean = false;  // until the outputs have zeroed the active sets again
  float* act = bs.act.data();
  float* conf = bs.conf.data();
  std::vector<QueryState> states(static_cast<std::size_t>(B));
  for (std::int64_t q = 0; q < B; ++q) {
    QueryState& st = states[std::size_t(q)];
    for (std::int32_t k = 0; k < a.seed_count[q]; ++k) {
      const std::int32_t i = a.seed_nodes[q * a.max_seeds + k];
      const float v = a.seed_act[q * a.max_seeds + k];
      act[i * B + q] = v;
      conf[i * B + q] = v;
      st.frontier.push_back(i);
    }
    st.frontier_edges = out_edges(g, st.frontier);
    st.done = a.params[q].max_iterations <= 0;
  }
  const bool can_pull = g.in_offsets != nullptr && nnz > 0;
  const double dense_edges = double(a.dense_fraction) * double(nnz);
  std::vector<std::int64_t> push, dense;
  thread_local DenseScratch dense_scratch;
  for (std::int32_t t = 1; t <= a.max_iterations; ++t) {
    push.clear();
    dense.clear();
    // A query pulls when its next iteration would push more than the switch's share of the
    // edges: first the frontier's out-edges (free), then, past that, the exact count of edges
    // that pass the gate (a binary search per active node).
    for (std::int64_t q = 0; q < B; ++q) {
      QueryState& st = states[std::size_t(q)];
      if (st.done) continue;
      bool pull = can_pull && st.frontier_edges > 0 && double(st.frontier_edges) >= dense_edges;
      if (pull) {  // an implicit frontier's count came with the dense iteration that made it
        if (!st.implicit) st.pending = next_messages(g, a.params[q], q, B, act, st);
        pull = st.pending > 0 && double(st.pending) >= dense_edges;
      }
      if (!pull) materialise(g, q, B, act, st);
      (pull ? dense : push).push_back(q);
    }
    if (push.empty() && dense.empty()) break;
    const std::int64_t np = std::int64_t(push.size());
    std::int64_t push_work = 0;
    for (const std::int64_t q : push) push_work += states[std::size_t(q)].frontier_edges;
#pragma omp parallel if (np > 1 && push_work + np * 64 > kParallelWork)
    {
      // Each thread keeps its push scratch between calls (stamps stay below its epoch).
      thread_local std::unique_ptr<PushScratch> scratch;
      if (!scratch || std::int64_t(scratch->agg.size()) != n)
        scratch = std::make_unique<PushScratch>(n);
#pragma omp for schedule(dynamic, 1)
      for (std::int64_t k = 0; k < np; ++k) {
        const std::int64_t q = push[std::size_t(k)];
        QueryState& st = states[std::size_t(q)];
        const float d = push_step(g, a.params[q], q, B, act, conf, st, *scratch);
        finish_iteration(a.params[q], t, d, st);
      }
    }
    // Dense queries, grouped by level scales (they change the per-edge factors).
    while (!dense.empty()) {
      const RelevanceParams& p0 = a.params[dense[0]];
      std::vector<std::int64_t> group, rest;
      for (const std::int64_t q : dense) {
        const RelevanceParams& p = a.params[q];
        const bool same = !g.level || (p.up_scale == p0.up_scale && p.down_scale == p0.down_scale);
        (same ? group : rest).push_back(q);
      }
      std::vector<float> deltas(group.size());
      dense_step(g, a, group, B, act, conf, states, deltas, dense_scratch);
      for (std::size_t k = 0; k < group.size(); ++k)
        finish_iteration(a.params[group[k]], t, deltas[k], states[std::size_t(group[k])]);
      dense.swap(rest);
    }
  }
  // Outputs: each query's active set; zeroing it leaves the batch state clean. Listed
  // frontiers are read where they point; the implicit ones in one pass over the node-major
  // state (ascending nodes, as a dense iteration lists them).
  std::vector<std::int64_t> implicit;
  for (std::int64_t q = 0; q < B; ++q) {
    const QueryState& st = states[std::size_t(q)];
    a.out_count[q] = 0;
    a.iterations[q] = st.iterations;
    a.converged[q] = st.converged ? 1 : 0;
    a.messages[q] = st.messages;
    if (st.implicit) {
      implicit.push_back(q);
      continue;
    }
    std::int64_t count = 0;
    for (const std::int32_t i : st.frontier) {
      a.out_nodes[q * n + count] = i;
      a.out_act[q * n + count] = act[i * B + q];
      a.out_conf[q * n + count] = conf[i * B + q];
      act[i * B + q] = conf[i * B + q] = 0.0f;
      ++count;
    }
    a.out_count[q] = count;
  }
  if (!implicit.empty()) {
    const std::int64_t K = std::int64_t(implicit.size());
    std::vector<std::int64_t> count(std::size_t(K), 0);
    for (std::int64_t i = 0; i < n; ++i) {
      for (std::int64_t k = 0; k < K; ++k) {
        const std::int64_t q = implicit[std::size_t(k)];
        float& ai = act[i * B + q];
        if (ai == 0.0f) continue;  // a dense iteration leaves inactive nodes at exactly 0
        float& ci = conf[i * B + q];
        std::int64_t& c = count[std::size_t(k)];
        a.out_nodes[q * n + c] = std::int32_t(i);
        a.out_act[q * n + c] = ai;
        a.out_conf[q * n + c] = ci;
        ai = ci = 0.0f;
        ++c;
      }
    }
    for (std::int64_t k = 0; k < K; ++k) a.out_count[implicit[std::size_t(k)]] = count[std::size_t(k)];
  }
  bs.clean = true;
  if (n * B > kKeepState) dense_scratch = DenseScratch{};  // keep only small buffers
}

}  // namespace mpe::kernels
