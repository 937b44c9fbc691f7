#pragma once
// Per-element rules of the online-softmax attention, shared by the CPU and CUDA kernels.
//
// Scores of invisible keys are replaced by kAttnNoScore (finite, so max/sub never make NaN) and
// their weights are selected to exactly 0. A row's running state is (m, l): the largest visible
// score so far and l = Σ exp(s - m) over the visible keys so far.
#include <cmath>
#include <cstdint>

#include "common/hd.hpp"
#include "common/logspace.hpp"

namespace mpe::kernels {

constexpr float kAttnNoScore = -1e30f;

// Grouped-query attention: the K/V head that query head h reads (q_heads / kv_heads consecutive
// query heads share one).
MPE_HD std::int64_t attn_kv_head(std::int64_t h, std::int64_t q_heads, std::int64_t kv_heads) {
  return h / (q_heads / kv_heads);
}

// Causal visibility with bottom-right alignment: query row i (0-based, of q_len) sits at key
// position i + (k_len - q_len). `diag` is that offset.
MPE_HD bool attn_causal_visible(std::int64_t q_row, std::int64_t key, std::int64_t diag) {
  return key <= q_row + diag;
}

// Number of keys query row i may see under the causal rule (clamped to [0, k_len]).
MPE_HD std::int64_t attn_causal_limit(std::int64_t q_row, std::int64_t k_len, std::int64_t diag) {
  const std::int64_t lim = q_row + diag + 1;
  return lim < 0 ? 0 : (lim > k_len ? k_len : lim);
}

// The new running max after a block whose visible maximum is `block_max`.
MPE_HD float attn_new_max(float m, float block_max) { return m > block_max ? m : block_max; }

// Output normaliser: 1/l, or 0 for a row that saw no key (so O = 0, never NaN).
MPE_HD float attn_inv_denominator(float l) { return l > 0.0f ? 1.0f / l : 0.0f; }

// The row's log-sum-exp: m + log l, or kLogZero when no key was visible.
MPE_HD float attn_row_lse(float m, float l) { return l > 0.0f ? m + logf(l) : kLogZero; }

// 1 / sqrt(head_dim) when the user's scale is 0.
MPE_HD float attn_resolve_scale(float scale, std::int64_t head_dim) {
  return scale != 0.0f ? scale : (head_dim > 0 ? 1.0f / sqrtf(static_cast<float>(head_dim)) : 1.0f);
}

}  // namespace mpe::kernels
