// CPU attention masked by a CSR neighbourhood: query row i of every (batch, head) attends to the
// keys of CSR row i. The softmax is GAT's edge softmax (common/edge_softmax.hpp): pass 1 pushes
// every visible edge's score, pass 2 weighs the value rows. OpenMP over (batch, head, row).
#include <algorithm>
#include <cstdint>
#include <vector>

#include "attention.hpp"
#include "common/attention_math.hpp"
#include "common/edge_softmax.hpp"
#include "common/storage.hpp"

namespace mpe::kernels {

namespace {
// Work below which one thread does the whole call.
constexpr double kParallelWork = 1 << 18;

float load(const AttentionArgs& a, const void* x, std::int64_t i) {
  switch (a.store) {
    case Storage::bf16: return StorageTraits<Storage::bf16>::load(static_cast<const std::uint16_t*>(x)[i]);
    case Storage::f16: return StorageTraits<Storage::f16>::load(static_cast<const std::uint16_t*>(x)[i]);
    case Storage::f32: break;
  }
  return static_cast<const float*>(x)[i];
}

void store(const AttentionArgs& a, std::int64_t i, float x) {
  switch (a.store) {
    case Storage::f32: static_cast<float*>(a.out)[i] = x; break;
    case Storage::bf16: static_cast<std::uint16_t*>(a.out)[i] = StorageTraits<Storage::bf16>::store(x); break;
    case Storage::f16: static_cast<std::uint16_t*>(a.out)[i] = StorageTraits<Storage::f16>::store(x); break;
  }
}
}  // namespace

void attention_csr_cpu(const AttentionArgs& a) {
  const std::int64_t rows = a.batch * a.q_heads * a.q_len;
  if (rows == 0) return;
  const std::int64_t D = a.head_dim, Nq = a.q_len, Nk = a.k_len, diag = Nk - Nq;
  const std::int64_t group = a.q_heads / a.kv_heads;
  const double work = static_cast<double>(a.batch * a.q_heads) *
                      static_cast<double>(a.row_offsets[Nq] + Nq) * static_cast<double>(D + 1);
#pragma omp parallel if (work > kParallelWork)
  {
    std::vector<float> q(static_cast<std::size_t>(D)), o(static_cast<std::size_t>(D));
    std::vector<float> kv(static_cast<std::size_t>(D)), score;
#pragma omp for schedule(dynamic, 16)
    for (std::int64_t t = 0; t < rows; ++t) {
      const std::int64_t bh = t / Nq, i = t % Nq;
      const std::int64_t b = bh / a.q_heads, h = bh % a.q_heads;
      const std::int64_t kv_base = (b * a.kv_heads + h / group) * Nk * D;
      const std::int64_t begin = a.row_offsets[i], end = a.row_offsets[i + 1];
      for (std::int64_t d = 0; d < D; ++d) q[d] = load(a, a.q, t * D + d) * a.scale;
      score.resize(static_cast<std::size_t>(end - begin));
      EdgeSoftmax st = edge_softmax_init();
      for (std::int64_t e = begin; e < end; ++e) {
        const std::int64_t j = a.col_indices[e];
        if (a.causal && !attn_causal_visible(i, j, diag)) continue;
        float s = 0.0f;
        for (std::int64_t d = 0; d < D; ++d) s += q[d] * load(a, a.k, kv_base + j * D + d);
        score[e - begin] = s;
        st = edge_softmax_push(st, s);
      }
      std::fill(o.begin(), o.end(), 0.0f);
      if (st.s > 0.0f) {
        for (std::int64_t e = begin; e < end; ++e) {
          const std::int64_t j = a.col_indices[e];
          if (a.causal && !attn_causal_visible(i, j, diag)) continue;
          const float w = edge_softmax_weight(st, score[e - begin]);
          for (std::int64_t d = 0; d < D; ++d) kv[d] = load(a, a.v, kv_base + j * D + d);
          for (std::int64_t d = 0; d < D; ++d) o[d] += w * kv[d];
        }
      }
      for (std::int64_t d = 0; d < D; ++d) store(a, t * D + d, o[d]);
      if (a.lse) a.lse[t] = edge_softmax_lse(st);
    }
  }
}

}  // namespace mpe::kernels
