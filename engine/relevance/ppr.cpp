// Personalised PageRank queries (QueryParams::propagation = ppr), on the CPU.
//
// With the dangling nodes restarting from the reset distribution r (igraph / PRPACK's choice),
// the scores are x = y / Σy where y solves y = (1 − d) r + d P̄ᵀ y and P̄ holds only the
// transitions of nodes with out-weight: x satisfies x = d Pᵀ x + (d · dangling mass + 1 − d) r,
// whose solution is a multiple of y.
//
// y is solved by Gauss-Seidel (sums in float64; y stored in float32 when the tolerance leaves
// room for its rounding, kFloat32Floor, else in float64) over the view's rows, which are in a topological order
// of the strongly connected components (PprView): a run of single-node components is exact
// after one sweep (each row reads only earlier rows, and its own self-loop is solved for), a
// component of several nodes is swept, over-relaxed (SOR, ω = 1.3; plain Gauss-Seidel once
// the bound rises), until its stopping rule holds, and rows before the first seed's component
// are zero and never visited. The rule is rigorous: after a sweep of component C, row i is off
// its equation by (1 − d P_ii) (g_i − y_i), g_i being the Gauss-Seidel value the relaxed y_i
// was taken from, plus d · Σ P_ji Δy_j over its sources j that come after it in C (read before
// this sweep changed them); so the residual of C is at most res_C = Σ_i (1 − d P_ii) |g_i − y_i|
// + d Σ_j back_j |Δy_j|, back_j being j's transition weight to earlier rows of C (the kernel
// sums it). The rows outside the cyclic components are exact (stored in float32: off by their
// rounding, within the rule; kFloat32Floor), and the L1 error of y is at
// most the total residual over (1 − d). A component stops when res_C ≤ tolerance · (1 − d) ·
// ‖y_C‖₁, so the L1 error of y is at most tolerance · Σy.
#include <algorithm>
#include <cmath>

#include "ppr_sweep.hpp"
#include "relevance/detail.hpp"

namespace mpe::relevance::detail {

namespace {

// Strongly connected components of the out-edge CSR (off, adj) by Tarjan's algorithm without
// recursion. `emitted` lists the nodes component by component in the order the components
// complete, which is reverse topological (a component completes after every one it reaches);
// `starts` holds where each component begins in it, plus the end.
void strong_components(std::int64_t n, const std::vector<std::int64_t>& off,
                       const std::vector<std::int32_t>& adj, std::vector<std::int32_t>& emitted,
                       std::vector<std::int64_t>& starts) {
  std::vector<std::int32_t> index(static_cast<std::size_t>(n), -1), low(std::size_t(n), 0), stack;
  std::vector<char> on_stack(static_cast<std::size_t>(n), 0);
  struct Frame {
    std::int32_t v;
    std::int64_t next;  // the next out-edge to follow
  };
  std::vector<Frame> calls;
  std::int32_t counter = 0;
  emitted.clear();
  emitted.reserve(std::size_t(n));
  starts.clear();
  auto open = [&](std::int32_t v) {
    index[std::size_t(v)] = low[std::size_t(v)] = counter++;
    stack.push_back(v);
    on_stack[std::size_t(v)] = 1;
    calls.push_back({v, off[std::size_t(v)]});
  };
  for (std::int32_t root = 0; root < std::int32_t(n); ++root) {
    if (index[std::size_t(root)] >= 0) continue;
    open(root);
    while (!calls.empty()) {
      const std::int32_t v = calls.back().v;
      if (calls.back().next < off[std::size_t(v) + 1]) {
        const std::int32_t w = adj[std::size_t(calls.back().next++)];
        if (index[std::size_t(w)] < 0)
          open(w);
        else if (on_stack[std::size_t(w)])
          low[std::size_t(v)] = std::min(low[std::size_t(v)], index[std::size_t(w)]);
        continue;
      }
      calls.pop_back();
      if (low[std::size_t(v)] == index[std::size_t(v)]) {
        starts.push_back(std::int64_t(emitted.size()));
        std::int32_t w = -1;
        do {
          w = stack.back();
          stack.pop_back();
          on_stack[std::size_t(w)] = 0;
          emitted.push_back(w);
        } while (w != v);
      }
      if (!calls.empty()) {
        const auto u = std::size_t(calls.back().v);
        low[u] = std::min(low[u], low[std::size_t(v)]);
      }
    }
  }
  starts.push_back(std::int64_t(emitted.size()));
}

struct Arc {
  std::int32_t from, to;
  double p;  // transition weight
};

}  // namespace

PprView::PprView(const GraphData& g, bool weighted, bool undirected) {
  const std::int64_t N = g.n();
  nodes = N;
  std::vector<double> strength(static_cast<std::size_t>(N), 0.0);
  auto w_of = [&](const EdgeRec& e) { return weighted ? double(e.weight) : 1.0; };
  for (const EdgeRec& e : g.edges) {
    strength[std::size_t(e.src)] += w_of(e);
    if (undirected) strength[std::size_t(e.dst)] += w_of(e);
  }
  // Transitions with a positive weight (a zero one carries nothing). Undirected, an edge is
  // both ways, and a self-loop is two ways back to itself, as its degree counts it twice
  // (igraph's convention; tests/data/relevance_ppr).
  std::vector<Arc> arcs;
  arcs.reserve(g.edges.size() * (undirected ? 2 : 1));
  for (const EdgeRec& e : g.edges) {
    const double w = w_of(e);
    if (!(w > 0.0)) continue;
    arcs.push_back({e.src, e.dst, w / strength[std::size_t(e.src)]});
    if (undirected) arcs.push_back({e.dst, e.src, w / strength[std::size_t(e.dst)]});
  }
  // Components over the out-edges, then the rows in topological order.
  std::vector<std::int64_t> out_off(std::size_t(N + 1), 0);
  for (const Arc& a : arcs) ++out_off[std::size_t(a.from) + 1];
  for (std::int64_t i = 0; i < N; ++i) out_off[std::size_t(i + 1)] += out_off[std::size_t(i)];
  std::vector<std::int32_t> out_adj(arcs.size());
  {
    std::vector<std::int64_t> fill(out_off.begin(), out_off.end() - 1);
    for (const Arc& a : arcs) out_adj[std::size_t(fill[std::size_t(a.from)]++)] = a.to;
  }
  std::vector<std::int32_t> emitted;
  std::vector<std::int64_t> starts;
  strong_components(N, out_off, out_adj, emitted, starts);
  out_adj = {};
  out_off = {};
  order.clear();
  order.reserve(std::size_t(N));
  for (std::size_t c = starts.size() - 1; c-- > 0;) {
    const std::int64_t b = starts[c], e = starts[c + 1];
    const std::int64_t at = std::int64_t(order.size());
    order.insert(order.end(), emitted.begin() + b, emitted.begin() + e);
    // Inside a component, the nodes that send most first (by out-strength; with unit weights,
    // the rows gathered most often): on power-law graphs the hot rows share cache lines. Measured
    // against the search's reverse postorder (fewer backward edges): the same sweeps within 5%
    // on R-MAT, and the batched sweep 1.5x faster at 100k nodes (bench/NOTES.md).
    std::sort(order.begin() + at, order.end(), [&](std::int32_t x, std::int32_t y) {
      const double sx = strength[std::size_t(x)], sy = strength[std::size_t(y)];
      return sx != sy ? sx > sy : x < y;
    });
    if (e - b > 1)
      blocks.push_back({at, at + (e - b), true});
    else if (!blocks.empty() && !blocks.back().cyclic)
      blocks.back().end = at + 1;
    else
      blocks.push_back({at, at + 1, false});
  }
  position.assign(std::size_t(N), 0);
  for (std::int64_t p = 0; p < N; ++p) position[std::size_t(order[std::size_t(p)])] = std::int32_t(p);
  // Pull rows in positions, sources ascending (neighbouring gathers share cache lines).
  diag.assign(std::size_t(N), 0.0);
  offsets.assign(std::size_t(N + 1), 0);
  for (const Arc& a : arcs)
    if (a.from != a.to) ++offsets[std::size_t(position[std::size_t(a.to)]) + 1];
  for (std::int64_t i = 0; i < N; ++i) offsets[std::size_t(i + 1)] += offsets[std::size_t(i)];
  std::vector<std::pair<std::int32_t, double>> row(static_cast<std::size_t>(offsets.back()));
  {
    std::vector<std::int64_t> fill(offsets.begin(), offsets.end() - 1);
    for (const Arc& a : arcs) {
      const std::int32_t to = position[std::size_t(a.to)];
      if (a.from == a.to)
        diag[std::size_t(to)] += a.p;
      else
        row[std::size_t(fill[std::size_t(to)]++)] = {position[std::size_t(a.from)], a.p};
    }
  }
  // Back weights: the transitions of a row to earlier rows of its own cyclic block (the only
  // sources a sweep reads before updating them).
  back.assign(std::size_t(N), 0.0);
  {
    std::vector<std::int64_t> block_end(std::size_t(N), 0);
    for (const Block& b : blocks)
      for (std::int64_t p = b.begin; p < b.end; ++p) block_end[std::size_t(p)] = b.cyclic ? b.end : -1;
    for (const Arc& a : arcs) {
      const auto from = std::size_t(position[std::size_t(a.from)]);
      const auto to = std::size_t(position[std::size_t(a.to)]);
      if (to < from && block_end[from] >= 0 && block_end[from] == block_end[to]) back[from] += a.p;
    }
  }
  arcs = {};
  sources.resize(row.size());
  weights.resize(row.size());
  for (std::int64_t i = 0; i < N; ++i) {
    const auto b = row.begin() + offsets[std::size_t(i)], e = row.begin() + offsets[std::size_t(i + 1)];
    std::sort(b, e, [](const auto& x, const auto& y) { return x.first < y.first; });
  }
  for (std::size_t k = 0; k < row.size(); ++k) {
    sources[k] = row[k].first;
    weights[k] = row[k].second;
  }
}

namespace {
// One key per (weighted, undirected).
int view_key(const QueryParams& p) { return (p.ppr_weighted ? 1 : 0) + (p.ppr_undirected ? 2 : 0); }

// SOR's factor in the cyclic components: on R-MAT (2k and 100k nodes) 1.15 / 1.3 / 1.45 took
// 30 / 26 / 51 sweeps against Gauss-Seidel's 40, and 1.6 did not converge in 1000.
constexpr double kOverRelaxation = 1.3;

struct Reset {
  std::int64_t row;
  std::int32_t col;
  double value;
};

// Scores stored in float32 where every query of a group allows it: tolerance · (1 − d) at
// least twice float32's rounding (2^-24 of a value, relative). A stored score is then off its
// float64 value by at most 2^-24 of it: the acyclic rows' residual stays within half their
// share of the budget, and in the cyclic ones the sweep's bound, taken on the stored values,
// still reaches the rule (the rounding adds at most 6e-8 · ‖y‖₁ to it, about a quarter of
// that on average, against the budget's 1.5e-7 at the default 1e-6 and d = 0.85). The sweeps
// gather half the bytes.
constexpr double kFloat32Floor = 2.0 / 16777216.0;

// Sweeps in float32 without a new lowest bound, once plain Gauss-Seidel, before the group is
// solved again in float64 (the rounding would keep the bound above the rule).
constexpr int kFloat32Stall = 8;

// The queries [first, first + width) of the batch, swept together (y is [rows, width], T its
// storage). False when a float32 solve did not reach every rule: the caller solves it in float64.
template <typename T>
bool solve_group(const PprView& v, std::int64_t first, std::int64_t width,
                 const std::vector<PprSeeds>& seeds, const std::vector<const QueryParams*>& params,
                 const std::vector<const std::vector<char>*>& eligible, std::vector<PprOut>& out) {
  const std::int64_t n = v.nodes, W = width;
  std::vector<double> damping(static_cast<std::size_t>(W), 0.0);
  std::vector<char> seeded(static_cast<std::size_t>(W), 0);
  std::vector<Reset> resets;
  for (std::int64_t c = 0; c < W; ++c) {
    const QueryParams& p = *params[std::size_t(first + c)];
    damping[std::size_t(c)] = double(p.damping);
    double total = 0;
    for (const auto& [i, w] : seeds[std::size_t(first + c)]) total += w;
    if (!(total > 0.0)) continue;  // no seed: no ranking
    seeded[std::size_t(c)] = 1;
    for (const auto& [i, w] : seeds[std::size_t(first + c)])
      resets.push_back({v.position[std::size_t(i)], std::int32_t(c), (1.0 - p.damping) * w / total});
  }
  if (resets.empty()) return true;
  std::sort(resets.begin(), resets.end(), [](const Reset& a, const Reset& b) {
    return a.row != b.row ? a.row < b.row : a.col < b.col;
  });
  std::vector<std::int64_t> reset_row(resets.size());
  std::vector<std::int32_t> reset_col(resets.size());
  std::vector<double> reset_value(resets.size());
  for (std::size_t s = 0; s < resets.size(); ++s) {
    reset_row[s] = resets[s].row;
    reset_col[s] = resets[s].col;
    reset_value[s] = resets[s].value;
  }
  std::vector<T> y(std::size_t(n * W), T(0));
  std::vector<double> change(static_cast<std::size_t>(W)), mass(static_cast<std::size_t>(W));
  std::vector<int> sweeps_of(static_cast<std::size_t>(W), 0);
  std::vector<char> converged(static_cast<std::size_t>(W), 1);
  kernels::PprSweepArgs a;
  a.row_offsets = v.offsets.data();
  a.sources = v.sources.data();
  a.weights = v.weights.data();
  a.diag = v.diag.data();
  a.back = v.back.data();
  a.width = W;
  a.damping = damping.data();
  if constexpr (sizeof(T) == sizeof(float))
    a.y_f32 = y.data();
  else
    a.y = y.data();
  a.change = change.data();
  a.mass = mass.data();
  const std::int64_t first_row = reset_row[0];  // rows before it cannot be reached: zero
  std::size_t s = 0;
  std::int64_t swept_from = n;  // the first row swept: the rows before it are zero
  for (const PprView::Block& b : v.blocks) {
    if (b.end <= first_row) continue;
    swept_from = std::min(swept_from, b.begin);
    std::size_t e = s;
    while (e < resets.size() && reset_row[e] < b.end) ++e;
    a.begin = b.begin;
    a.end = b.end;
    a.reset_row = reset_row.data() + s;
    a.reset_col = reset_col.data() + s;
    a.reset_value = reset_value.data() + s;
    a.resets = std::int64_t(e - s);
    s = e;
    a.omega = 1.0;
    if (!b.cyclic) {
      kernels::ppr_sweep_cpu(a);
      for (auto& it : sweeps_of) it = std::max(it, 1);
      continue;
    }
    // Over-relaxed (SOR) while the bound falls; plain Gauss-Seidel, which always converges,
    // from the first sweep where it rises.
    a.omega = kOverRelaxation;
    double last = HUGE_VAL, lowest = HUGE_VAL;
    int since_lowest = 0;
    for (int sweep = 1;; ++sweep) {
      kernels::ppr_sweep_cpu(a);
      bool more = false;
      double worst = 0.0;
      for (std::int64_t c = 0; c < W; ++c) {
        if (!seeded[std::size_t(c)]) continue;
        const QueryParams& p = *params[std::size_t(first + c)];
        const double d = damping[std::size_t(c)];
        if (mass[std::size_t(c)] > 0.0) worst = std::max(worst, change[std::size_t(c)] / mass[std::size_t(c)]);
        const bool holds = change[std::size_t(c)] <=
                           double(p.ppr_tolerance) * (1.0 - d) * mass[std::size_t(c)];
        if (holds || sweep >= p.ppr_max_iterations) {
          if (!holds) {
            if constexpr (sizeof(T) == sizeof(float)) return false;
            converged[std::size_t(c)] = 0;
          }
          continue;
        }
        more = true;
      }
      if constexpr (sizeof(T) == sizeof(float)) {
        if (worst < lowest) {
          lowest = worst;
          since_lowest = 0;
        } else if (a.omega == 1.0 && more && ++since_lowest >= kFloat32Stall) {
          return false;
        }
      }
      if (!more) {
        for (auto& it : sweeps_of) it = std::max(it, sweep);
        break;
      }
      if (sweep > 1 && worst > last) a.omega = 1.0;
      last = worst;
    }
  }
  // Normalise (Σ x = 1) and keep the top k of each query (score desc, node index asc): one
  // pass over the rows with a heap per query whose top is its worst kept node.
  using Hit = std::pair<double, std::int64_t>;
  auto better = [](const Hit& p, const Hit& q) { return p.first != q.first ? p.first > q.first : p.second < q.second; };
  std::vector<std::vector<Hit>> heaps(static_cast<std::size_t>(W));
  std::vector<double> sum(static_cast<std::size_t>(W), 0.0);
  for (std::int64_t r = swept_from; r < n; ++r) {
    const T* yr = y.data() + r * W;
    const std::int64_t node = v.order[std::size_t(r)];
    for (std::int64_t c = 0; c < W; ++c) {
      const double val = double(yr[c]);
      if (!(val > 0.0)) continue;
      sum[std::size_t(c)] += val;
      const std::vector<char>* ok = eligible[std::size_t(first + c)];
      if (ok && !(*ok)[std::size_t(node)]) continue;
      auto& h = heaps[std::size_t(c)];
      const Hit hit{val, node};
      if (h.size() < std::size_t(params[std::size_t(first + c)]->ppr_top_k)) {
        h.push_back(hit);
        std::push_heap(h.begin(), h.end(), better);
      } else if (better(hit, h.front())) {
        std::pop_heap(h.begin(), h.end(), better);
        h.back() = hit;
        std::push_heap(h.begin(), h.end(), better);
      }
    }
  }
  for (std::int64_t c = 0; c < W; ++c) {
    if (!seeded[std::size_t(c)]) continue;
    PprOut& o = out[std::size_t(first + c)];
    o.iterations = sweeps_of[std::size_t(c)];
    o.converged = converged[std::size_t(c)] != 0;
    auto& h = heaps[std::size_t(c)];
    if (!(sum[std::size_t(c)] > 0.0)) continue;
    std::sort_heap(h.begin(), h.end(), better);  // best first
    for (const Hit& hit : h) o.top.emplace_back(hit.second, hit.first / sum[std::size_t(c)]);
  }
  return true;
}

// True when every query of the group allows float32 scores (kFloat32Floor).
bool float32_allowed(std::int64_t first, std::int64_t width,
                     const std::vector<const QueryParams*>& params) {
  for (std::int64_t c = first; c < first + width; ++c) {
    const QueryParams& p = *params[std::size_t(c)];
    if (!(double(p.ppr_tolerance) * (1.0 - double(p.damping)) >= kFloat32Floor)) return false;
  }
  return true;
}
}  // namespace

std::atomic<std::int64_t> ppr_float32_above_bytes{std::int64_t(4) << 20};

void run_ppr(const PprView& v, const std::vector<PprSeeds>& seeds,
             const std::vector<const QueryParams*>& params,
             const std::vector<const std::vector<char>*>& eligible, std::vector<PprOut>& out) {
  const std::int64_t K = std::int64_t(seeds.size());
  out.assign(std::size_t(K), PprOut{});
  if (K == 0 || v.nodes == 0) return;
  // Queries in groups of the sweep's widths (16, 8, 4, 2, 1), each group solved on its own.
  // A group whose float64 scores fit in 4 MB (one core's share of the cache) is swept in
  // float64; above, its scores are stored in float32 where the tolerance allows it, and the
  // rows gathered are 64 bytes either way: 16 queries in float32, else 8 in float64. Measured
  // (bench/NOTES.md): float64 at 100k nodes, B = 256, widths 4 / 8 / 16 took 9.1 / 6.4 / 10.9 s,
  // and float32 width 16 took ~0.6x the time of float64 width 8; at 2k nodes (in cache) float32
  // was 1.3x slower (the conversions), and so was one query at 100k (scalar conversions per
  // gather; the score vector fits the L2 cache): float32 only for groups of 4 and more. Every
  // query of a batch has the same parameters in practice, so the width is chosen on the first
  // query; the precision on each group.
  const std::int64_t above = ppr_float32_above_bytes.load(std::memory_order_relaxed);
  const auto large = [&](std::int64_t width) { return v.nodes * width * 8 > above; };
  const std::int64_t widest =
      !large(kernels::kPprMaxWidth) || float32_allowed(0, 1, params) ? kernels::kPprMaxWidth
                                                                     : kernels::kPprMaxWidth / 2;
  std::vector<std::pair<std::int64_t, std::int64_t>> groups;  // (first, width)
  for (std::int64_t k = 0; k < K;) {
    std::int64_t w = widest;
    while (w > K - k) w /= 2;
    groups.emplace_back(k, w);
    k += w;
  }
#pragma omp parallel for schedule(dynamic, 1) if (groups.size() > 1)
  for (std::int64_t t = 0; t < std::int64_t(groups.size()); ++t) {
    const auto [first, width] = groups[std::size_t(t)];
    if (width >= 4 && large(width) && float32_allowed(first, width, params) &&
        solve_group<float>(v, first, width, seeds, params, eligible, out))
      continue;
    for (std::int64_t c = first; c < first + width; ++c) out[std::size_t(c)] = PprOut{};
    solve_group<double>(v, first, width, seeds, params, eligible, out);
  }
}

std::shared_ptr<const PprView> ppr_view(const Store::Impl& impl, const QueryParams& p) {
  std::lock_guard<std::mutex> lock(impl.dev_mu);
  auto& slot = impl.ppr_views[std::size_t(view_key(p))];
  if (!slot) slot = std::make_shared<const PprView>(impl.g, p.ppr_weighted, p.ppr_undirected);
  return slot;
}

}  // namespace mpe::relevance::detail
