// CPU twins of the relevance ops: blocked cosine similarity (all queries per block of node
// embeddings), top-k by partial sort, and per-query frontier propagation (OpenMP over queries;
// messages summed in frontier and edge order).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "relevance.hpp"

namespace mpe::kernels {

namespace {
constexpr std::int64_t kNodeBlock = 64;             // tuning: node rows per similarity block
constexpr std::int64_t kParallelWork = 1 << 15;     // below this, one thread

// Per-thread dense scratch of one query's propagation: activation, confidence, aggregate,
// confidence numerator and the iteration that last touched a node.
struct Scratch {
  std::vector<float> act, conf, agg, cnum;
  std::vector<std::int32_t> stamp;
  std::vector<std::int32_t> frontier, next, touched;
  std::int32_t epoch = 0;
  explicit Scratch(std::int64_t n)
      : act(n, 0.0f), conf(n, 0.0f), agg(n, 0.0f), cnum(n, 0.0f), stamp(n, 0) {
    frontier.reserve(64);
    next.reserve(64);
    touched.reserve(64);
  }
};

void propagate_one(const RelevancePropagateArgs& a, std::int64_t q, Scratch& s) {
  const RelevanceGraph& g = a.g;
  const RelevanceParams p = a.params[q];
  const std::int32_t* sn = a.seed_nodes + q * a.max_seeds;
  const float* sa = a.seed_act + q * a.max_seeds;
  s.frontier.clear();
  for (std::int32_t k = 0; k < a.seed_count[q]; ++k) {
    const std::int32_t i = sn[k];
    s.act[i] = sa[k];
    s.conf[i] = sa[k];
    s.frontier.push_back(i);
  }
  std::int64_t messages = 0;
  std::int32_t iterations = 0, converged = 0;
  if (s.epoch > (1 << 30)) {  // stamps are epoch + t; restart them long before overflow
    std::fill(s.stamp.begin(), s.stamp.end(), 0);
    s.epoch = 0;
  }
  for (std::int32_t t = 1; t <= p.max_iterations; ++t) {
    const std::int32_t mark = s.epoch + t;
    s.touched.clear();
    for (const std::int32_t j : s.frontier) {
      const float aj = s.act[j];
      const std::int32_t lj = g.level ? g.level[j] : 0;
      for (std::int64_t e = g.row_offsets[j]; e < g.row_offsets[j + 1]; ++e) {
        const std::int32_t i = g.targets[e];
        const float tw = g.type_weights ? g.type_weights[std::int64_t(i) * g.num_types +
                                                         g.edge_types[e]]
                                        : 1.0f;
        const float ls =
            g.level ? rel_level_scale(lj, g.level[i], p.up_scale, p.down_scale) : 1.0f;
        const float m = rel_message(aj, g.weights[e], p.gate, tw, ls);
        if (m < 0.0f) break;  // weights descend within a row: no later edge passes the gate
        ++messages;
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
    // New activations: touched nodes mix in their messages, untouched active nodes decay.
    float delta = 0.0f;
    s.next.clear();
    for (const std::int32_t i : s.touched) {
      const float old = s.act[i];
      const float v = rel_update(old, true, s.agg[i], g.residual[i], g.decay[i], g.threshold[i],
                                 p.prop_threshold);
      delta = std::max(delta, std::abs(v - old));
      s.conf[i] = v > 0.0f ? rel_confidence(s.cnum[i], s.agg[i], s.conf[i]) : 0.0f;
      s.act[i] = v;
      if (v > 0.0f) s.next.push_back(i);
    }
    for (const std::int32_t j : s.frontier) {
      if (s.stamp[j] == mark) continue;
      const float old = s.act[j];
      const float v = rel_update(old, false, 0.0f, g.residual[j], g.decay[j], g.threshold[j],
                                 p.prop_threshold);
      delta = std::max(delta, std::abs(v - old));
      s.act[j] = v;
      if (v > 0.0f) {
        s.next.push_back(j);
      } else {
        s.conf[j] = 0.0f;
      }
    }
    std::swap(s.frontier, s.next);
    iterations = t;
    if (delta < p.tolerance) {
      converged = 1;
      break;
    }
  }
  // Output the active set; act and conf are non-zero only there, so zeroing it leaves the
  // scratch clean for the next query.
  std::int64_t count = 0;
  for (const std::int32_t i : s.frontier) {
    a.out_nodes[q * g.nodes + count] = i;
    a.out_act[q * g.nodes + count] = s.act[i];
    a.out_conf[q * g.nodes + count] = s.conf[i];
    s.act[i] = s.conf[i] = 0.0f;
    ++count;
  }
  s.epoch += p.max_iterations + 1;
  a.out_count[q] = count;
  a.iterations[q] = iterations;
  a.converged[q] = converged;
  a.messages[q] = messages;
}
}  // namespace

void relevance_similarity_cpu(const RelevanceSimilarityArgs& a) {
  const std::int64_t blocks = (a.nodes + kNodeBlock - 1) / kNodeBlock;
#pragma omp parallel for schedule(static) if (a.batch * a.nodes * a.dim > kParallelWork)
  for (std::int64_t b = 0; b < blocks; ++b) {
    const std::int64_t i0 = b * kNodeBlock, i1 = std::min(a.nodes, i0 + kNodeBlock);
    for (std::int64_t q = 0; q < a.batch; ++q) {
      const float* qv = a.queries + q * a.dim;
      for (std::int64_t i = i0; i < i1; ++i) {
        const float* ev = a.embeddings + i * a.dim;
        float dot = 0.0f;
        MPE_SIMD_SUM(dot)
        for (std::int64_t k = 0; k < a.dim; ++k) dot += qv[k] * ev[k];
        a.sim[q * a.nodes + i] = dot;
      }
    }
  }
}

void relevance_topk_cpu(const RelevanceTopkArgs& a) {
#pragma omp parallel if (a.batch * a.nodes > kParallelWork)
  {
    std::vector<std::int32_t> cand;
#pragma omp for schedule(dynamic, 1)
    for (std::int64_t q = 0; q < a.batch; ++q) {
      const float* s = a.sim + q * a.nodes;
      const float th = a.threshold[q];
      cand.clear();
      for (std::int64_t i = 0; i < a.nodes; ++i) {
        if (s[i] >= th) cand.push_back(static_cast<std::int32_t>(i));
      }
      const std::size_t k = std::min<std::size_t>(cand.size(), std::size_t(a.k[q]));
      auto better = [s](std::int32_t x, std::int32_t y) { return rel_better(s[x], x, s[y], y); };
      std::partial_sort(cand.begin(), cand.begin() + std::ptrdiff_t(k), cand.end(), better);
      for (std::size_t r = 0; r < k; ++r) {
        a.seed_nodes[q * a.max_k + std::int64_t(r)] = cand[r];
        a.seed_sim[q * a.max_k + std::int64_t(r)] = s[cand[r]];
      }
      a.seed_count[q] = static_cast<std::int32_t>(k);
    }
  }
}

void relevance_propagate_cpu(const RelevancePropagateArgs& a) {
  const std::int64_t nnz = a.g.row_offsets[a.g.nodes];
#pragma omp parallel if (a.batch > 1 && a.batch * (nnz + a.g.nodes) > kParallelWork)
  {
    // Each thread keeps its scratch between calls: a query leaves it clean (activations zero,
    // stamps below the next epoch), so only a graph of another size reallocates it.
    thread_local std::unique_ptr<Scratch> scratch;
    if (!scratch || std::int64_t(scratch->act.size()) != a.g.nodes)
      scratch = std::make_unique<Scratch>(a.g.nodes);
#pragma omp for schedule(dynamic, 1)
    for (std::int64_t q = 0; q < a.batch; ++q) propagate_one(a, q, *scratch);
  }
}

std::size_t relevance_propagate_workspace_bytes(std::int64_t batch, std::int64_t nodes) {
  // Per query: act, conf, agg, cnum, stamp and three lists (frontier x2, touched) of `nodes`
  // 4-byte words, plus 16 words of counters; rounded to 256 bytes per array.
  const auto round = [](std::size_t b) { return (b + 255) / 256 * 256; };
  const std::size_t per = round(std::size_t(nodes) * 4);
  return std::size_t(batch) * (8 * per + round(16 * 4));
}

}  // namespace mpe::kernels
