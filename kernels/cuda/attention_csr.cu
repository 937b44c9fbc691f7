// CUDA attention masked by a CSR neighbourhood: one warp per (batch, head, query row); lane l
// holds head-dim columns l, l + 32, ... of q and of the output. Each edge's score is a warp
// reduction of the lanes' partial dot products. The softmax is GAT's edge softmax
// (common/edge_softmax.hpp), in its two passes: push every visible score, then recompute each
// score and add its weight times the value row (as GAT's CUDA kernel does).
#include <cstdint>

#include "attention.hpp"
#include "common/attention_math.hpp"
#include "common/edge_softmax.hpp"
#include "cuda/check.hpp"
#include "cuda/device_utils.cuh"

namespace mpe::kernels {
namespace {
using cuda::load_elem;
using cuda::store_elem;
using cuda::warp_sum;

constexpr int kWarps = 4;

template <int DMAX, Storage ST>
__global__ void __launch_bounds__(kWarps * 32) attention_csr_kernel(const AttentionArgs a) {
  constexpr int kCols = DMAX / 32;
  const int lane = threadIdx.x & 31;
  const std::int64_t rows = a.batch * a.q_heads * a.q_len;
  const std::int64_t t = blockIdx.x * static_cast<std::int64_t>(kWarps) + (threadIdx.x >> 5);
  if (t >= rows) return;  // whole warps leave together
  const std::int64_t D = a.head_dim, Nq = a.q_len, Nk = a.k_len, diag = Nk - Nq;
  const std::int64_t bh = t / Nq, i = t % Nq;
  const std::int64_t b = bh / a.q_heads, h = bh % a.q_heads;
  const std::int64_t kv_base = (b * a.kv_heads + attn_kv_head(h, a.q_heads, a.kv_heads)) * Nk * D;
  const std::int64_t begin = __ldg(a.row_offsets + i), end = __ldg(a.row_offsets + i + 1);
  float q[kCols];
#pragma unroll
  for (int c = 0; c < kCols; ++c) {
    const int d = lane + 32 * c;
    q[c] = d < D ? load_elem<ST>(a.q, t * D + d) * a.scale : 0.0f;
  }
  auto score_of = [&](std::int64_t j) {
    float s = 0.0f;
#pragma unroll
    for (int c = 0; c < kCols; ++c) {
      const int d = lane + 32 * c;
      if (d < D) s += q[c] * load_elem<ST>(a.k, kv_base + j * D + d);
    }
    return warp_sum(s);
  };
  EdgeSoftmax st = edge_softmax_init();
  for (std::int64_t e = begin; e < end; ++e) {
    const std::int64_t j = __ldg(a.col_indices + e);
    if (a.causal && !attn_causal_visible(i, j, diag)) continue;
    st = edge_softmax_push(st, score_of(j));
  }
  float o[kCols];
#pragma unroll
  for (int c = 0; c < kCols; ++c) o[c] = 0.0f;
  if (st.s > 0.0f) {
    for (std::int64_t e = begin; e < end; ++e) {
      const std::int64_t j = __ldg(a.col_indices + e);
      if (a.causal && !attn_causal_visible(i, j, diag)) continue;
      const float w = edge_softmax_weight(st, score_of(j));
#pragma unroll
      for (int c = 0; c < kCols; ++c) {
        const int d = lane + 32 * c;
        if (d < D) o[c] += w * load_elem<ST>(a.v, kv_base + j * D + d);
      }
    }
  }
#pragma unroll
  for (int c = 0; c < kCols; ++c) {
    const int d = lane + 32 * c;
    if (d < D) store_elem<ST>(a.out, t * D + d, o[c]);
  }
  if (a.lse && lane == 0) a.lse[t] = edge_softmax_lse(st);
}

template <int DMAX, Storage ST>
void launch(const AttentionArgs& a, Stream stream) {
  const std::int64_t rows = a.batch * a.q_heads * a.q_len;
  const std::int64_t blocks = (rows + kWarps - 1) / kWarps;
  attention_csr_kernel<DMAX, ST><<<static_cast<unsigned>(blocks), kWarps * 32, 0, stream>>>(a);
  MPE_CUDA_CHECK_LAUNCH();
}

template <Storage ST>
void dispatch(const AttentionArgs& a, Stream stream) {
  if (a.head_dim <= 32) return launch<32, ST>(a, stream);
  if (a.head_dim <= 64) return launch<64, ST>(a, stream);
  if (a.head_dim <= 128) return launch<128, ST>(a, stream);
  return launch<256, ST>(a, stream);
}

}  // namespace

void attention_csr_cuda(const AttentionArgs& a, Stream stream) {
  if (a.batch * a.q_heads * a.q_len == 0) return;
  switch (a.store) {
    case Storage::f32: return dispatch<Storage::f32>(a, stream);
    case Storage::bf16: return dispatch<Storage::bf16>(a, stream);
    case Storage::f16: return dispatch<Storage::f16>(a, stream);
  }
}

}  // namespace mpe::kernels
