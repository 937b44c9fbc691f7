// CPU twins of the relevance seeding ops: blocked cosine similarity (all queries per block of
// node embeddings) and top-k by partial sort. Propagation: relevance_propagate.cpp.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "relevance.hpp"

namespace mpe::kernels {

namespace {
constexpr std::int64_t kNodeBlock = 64;             // tuning: node rows per similarity block
constexpr std::int64_t kParallelWork = 1 << 15;     // below this, one thread

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

// Per query, a heap of the k best so far (worst on top): one comparison per node once it is
// full, instead of listing every node above the threshold (half the graph with threshold 0)
// and sorting them.
void relevance_topk_cpu(const RelevanceTopkArgs& a) {
#pragma omp parallel if (a.batch * a.nodes > kParallelWork)
  {
    std::vector<std::int32_t> heap;
#pragma omp for schedule(dynamic, 1)
    for (std::int64_t q = 0; q < a.batch; ++q) {
      const float* s = a.sim + q * a.nodes;
      const float th = a.threshold[q];
      const std::size_t k = std::size_t(std::max<std::int32_t>(a.k[q], 0));
      auto better = [s](std::int32_t x, std::int32_t y) { return rel_better(s[x], x, s[y], y); };
      heap.clear();
      if (k > 0) {
        for (std::int64_t i = 0; i < a.nodes; ++i) {
          if (!(s[i] >= th)) continue;
          const auto c = static_cast<std::int32_t>(i);
          if (heap.size() < k) {
            heap.push_back(c);
            std::push_heap(heap.begin(), heap.end(), better);
          } else if (better(c, heap.front())) {
            std::pop_heap(heap.begin(), heap.end(), better);
            heap.back() = c;
            std::push_heap(heap.begin(), heap.end(), better);
          }
        }
      }
      std::sort_heap(heap.begin(), heap.end(), better);  // best first
      for (std::size_t r = 0; r < heap.size(); ++r) {
        a.seed_nodes[q * a.max_k + std::int64_t(r)] = heap[r];
        a.seed_sim[q * a.max_k + std::int64_t(r)] = s[heap[r]];
      }
      a.seed_count[q] = static_cast<std::int32_t>(heap.size());
    }
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
