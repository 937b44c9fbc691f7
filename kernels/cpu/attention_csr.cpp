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

template <Storage S>
float load_as(const void* x, std::int64_t i) {
  using Tr = StorageTraits<S>;
  return Tr::load(static_cast<const typename Tr::T*>(x)[i]);
}

float load(const AttentionArgs& a, const void* x, std::int64_t i) {
  switch (a.store) {
    case Storage::f32: return load_as<Storage::f32>(x, i);
    case Storage::bf16: return load_as<Storage::bf16>(x, i);
    case Storage::f16: return load_as<Storage::f16>(x, i);
  }
  return 0.0f;
}

template <Storage S>
void store_as(void* out, std::int64_t i, float x) {
  using Tr = StorageTraits<S>;
  static_cast<typename Tr::T*>(out)[i] = Tr::store(x);
}

void store(const AttentionArgs& a, std::int64_t i, float x) {
  switch (a.store) {
    case Storage::f32: return store_as<Storage::f32>(a.out, i, x);
    case Storage::bf16: return store_as<Storage::bf16>(a.out, i, x);
    case Storage::f16: return store_as<Storage::f16>(a.out, i, x);
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
