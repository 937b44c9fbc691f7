// Personalised PageRank queries (QueryParams::propagation = ppr), on the CPU.
//
// With the dangling nodes restarting from the reset distribution r (igraph / PRPACK's choice),
// the scores are x = y / Σy where y solves y = (1 − d) r + d P̄ᵀ y and P̄ holds only the
// transitions of nodes with out-weight: x satisfies x = d Pᵀ x + (d · dangling mass + 1 − d) r,
// whose solution is a multiple of y. y is summed as a series, y = Σ_k δ_k with δ_0 = (1 − d) r
// and δ_{k+1} = d P̄ᵀ δ_k: each δ_k is one pass of graph_mp's CSR reduction over the pull view
// (all queries of a batch in one sparse × dense product, float32), added into y in float64 so
// that the small late terms are not lost. ‖δ_{k+1}‖₁ ≤ d ‖δ_k‖₁, so what is left to add is at
// most ‖δ_k‖₁ · d / (1 − d): the stopping rule compares it with the tolerance · Σy.
#include <algorithm>
#include <cmath>

#include "graph_mp.hpp"
#include "relevance/detail.hpp"

namespace mpe::relevance::detail {

PprView::PprView(const GraphData& g, bool weighted, bool undirected) {
  const std::int64_t N = g.n();
  std::vector<double> strength(std::size_t(N), 0.0);
  auto w_of = [&](const EdgeRec& e) { return weighted ? double(e.weight) : 1.0; };
  for (const EdgeRec& e : g.edges) {
    strength[std::size_t(e.src)] += w_of(e);
    if (undirected) strength[std::size_t(e.dst)] += w_of(e);
  }
  // Pull rows: i gathers from j along j -> i (and, undirected, along i -> j reversed).
  offsets.assign(std::size_t(N + 1), 0);
  for (const EdgeRec& e : g.edges) {
    ++offsets[std::size_t(e.dst) + 1];
    if (undirected) ++offsets[std::size_t(e.src) + 1];
  }
  for (std::int64_t i = 0; i < N; ++i) offsets[std::size_t(i + 1)] += offsets[std::size_t(i)];
  const auto E = std::size_t(offsets[std::size_t(N)]);
  sources.resize(E);
  weights.resize(E);
  std::vector<std::int64_t> fill(offsets.begin(), offsets.end() - 1);
  auto put = [&](std::int32_t to, std::int32_t from, double w) {
    const auto k = std::size_t(fill[std::size_t(to)]++);
    sources[k] = from;
    const double s = strength[std::size_t(from)];
    weights[k] = s > 0.0 ? float(w / s) : 0.0f;
  };
  for (const EdgeRec& e : g.edges) {
    put(e.dst, e.src, w_of(e));
    // Undirected, a self-loop is two ways back to itself, as its degree counts it twice
    // (igraph's convention; tests/data/relevance_ppr).
    if (undirected) put(e.src, e.dst, w_of(e));
  }
  nodes = N;
}

namespace {
// One key per (weighted, undirected).
int view_key(const QueryParams& p) { return (p.ppr_weighted ? 1 : 0) + (p.ppr_undirected ? 2 : 0); }
}  // namespace

void run_ppr(const PprView& v, const std::vector<PprSeeds>& seeds,
             const std::vector<const QueryParams*>& params,
             const std::vector<const std::vector<char>*>& eligible, std::vector<PprOut>& out) {
  const std::int64_t n = v.nodes, K = std::int64_t(seeds.size());
  out.assign(std::size_t(K), PprOut{});
  if (K == 0 || n == 0) return;
  std::vector<float> delta(std::size_t(n * K), 0.0f), next(std::size_t(n * K));
  std::vector<double> y(std::size_t(n * K), 0.0);
  std::vector<double> ysum(static_cast<std::size_t>(K), 0.0), dmass(std::size_t(K), 0.0);
  std::vector<char> live(static_cast<std::size_t>(K), 1);
  int max_it = 0;
  for (std::int64_t k = 0; k < K; ++k) {
    const QueryParams& p = *params[std::size_t(k)];
    max_it = std::max(max_it, p.ppr_max_iterations);
    double total = 0;
    for (const auto& [i, w] : seeds[std::size_t(k)]) total += w;
    if (total <= 0.0) {  // no seed: no ranking
      live[std::size_t(k)] = 0;
      continue;
    }
    const double d = p.damping;
    for (const auto& [i, w] : seeds[std::size_t(k)]) {
      const double r = (1.0 - d) * w / total;
      delta[std::size_t(i * K + k)] += float(r);
      y[std::size_t(i * K + k)] += r;
    }
    ysum[std::size_t(k)] = 1.0 - d;
    dmass[std::size_t(k)] = 1.0 - d;
    out[std::size_t(k)].converged = d == 0.0;
    if (d == 0.0) live[std::size_t(k)] = 0;
  }
  kernels::GraphMpArgs m;
  m.row_offsets = v.offsets.data();
  m.col_indices = v.sources.data();
  m.weights = v.weights.data();
  m.rows = n;
  m.width = K;
  std::vector<double> l1(static_cast<std::size_t>(K));
  for (int it = 1; it <= max_it; ++it) {
    if (std::none_of(live.begin(), live.end(), [](char c) { return c != 0; })) break;
    m.x = delta.data();
    m.y = next.data();
    kernels::graph_mp_cpu(m);
    std::fill(l1.begin(), l1.end(), 0.0);
    std::vector<float> damp(static_cast<std::size_t>(K));
    for (std::int64_t k = 0; k < K; ++k) damp[std::size_t(k)] = params[std::size_t(k)]->damping;
    for (std::int64_t i = 0; i < n; ++i) {
      float* dn = next.data() + i * K;
      double* yi = y.data() + i * K;
      for (std::int64_t k = 0; k < K; ++k) {
        const float dv = damp[std::size_t(k)] * dn[k];
        dn[k] = dv;
        l1[std::size_t(k)] += dv;
        if (live[std::size_t(k)]) yi[k] += dv;
      }
    }
    for (std::int64_t k = 0; k < K; ++k) {
      if (!live[std::size_t(k)]) continue;
      const QueryParams& p = *params[std::size_t(k)];
      PprOut& o = out[std::size_t(k)];
      o.iterations = it;
      ysum[std::size_t(k)] += l1[std::size_t(k)];
      const double d = p.damping;
      const double left = l1[std::size_t(k)] * d / (1.0 - d);
      if (left <= double(p.ppr_tolerance) * ysum[std::size_t(k)]) {
        o.converged = true;
        live[std::size_t(k)] = 0;
      } else if (it >= p.ppr_max_iterations) {
        live[std::size_t(k)] = 0;
      }
    }
    delta.swap(next);
  }
  // Normalise (Σ x = 1) and keep the top k of each query (score desc, index asc).
  for (std::int64_t k = 0; k < K; ++k) {
    PprOut& o = out[std::size_t(k)];
    if (seeds[std::size_t(k)].empty()) continue;
    double s = 0;
    for (std::int64_t i = 0; i < n; ++i) s += y[std::size_t(i * K + k)];
    if (!(s > 0.0)) continue;
    const QueryParams& p = *params[std::size_t(k)];
    std::vector<std::int64_t> idx;
    idx.reserve(std::size_t(n));
    const std::vector<char>* ok = eligible[std::size_t(k)];
    for (std::int64_t i = 0; i < n; ++i)
      if (y[std::size_t(i * K + k)] > 0.0 && (!ok || (*ok)[std::size_t(i)])) idx.push_back(i);
    const std::size_t top = std::min(idx.size(), std::size_t(p.ppr_top_k));
    auto better = [&](std::int64_t a, std::int64_t b) {
      const double ya = y[std::size_t(a * K + k)], yb = y[std::size_t(b * K + k)];
      return ya != yb ? ya > yb : a < b;
    };
    std::partial_sort(idx.begin(), idx.begin() + std::ptrdiff_t(top), idx.end(), better);
    for (std::size_t r = 0; r < top; ++r)
      o.top.emplace_back(idx[r], y[std::size_t(idx[r] * K + k)] / s);
  }
}

std::shared_ptr<const PprView> ppr_view(const Store::Impl& impl, const QueryParams& p) {
  std::lock_guard<std::mutex> lock(impl.dev_mu);
  auto& slot = impl.ppr_views[std::size_t(view_key(p))];
  if (!slot) slot = std::make_shared<const PprView>(impl.g, p.ppr_weighted, p.ppr_undirected);
  return slot;
}

}  // namespace mpe::relevance::detail
