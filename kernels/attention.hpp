#pragma once
// Op: dense attention forward with an online softmax (O and the per-row log-sum-exp).
#include <cstdint>

#include "stream.hpp"

namespace mpe::kernels {

struct AttentionArgs {
  const float* q = nullptr;                // [batch, q_heads, q_len, head_dim]
  const float* k = nullptr;                // [batch, kv_heads, k_len, head_dim]
  const float* v = nullptr;                // [batch, kv_heads, k_len, head_dim]
  const std::int32_t* key_mask = nullptr;  // [batch, k_len], non-zero = visible; or nullptr
  float* out = nullptr;                    // [batch, q_heads, q_len, head_dim]
  float* lse = nullptr;                    // [batch, q_heads, q_len], or nullptr
  std::int64_t batch = 0;
  std::int64_t q_heads = 0;
  std::int64_t kv_heads = 0;  // divides q_heads
  std::int64_t q_len = 0;
  std::int64_t k_len = 0;
  std::int64_t head_dim = 0;
  float scale = 1.0f;   // already resolved (never 0 here)
  bool causal = false;  // bottom-right aligned: query i sees keys j <= i + k_len - q_len
};

void attention_cpu(const AttentionArgs& a);
void attention_cuda(const AttentionArgs& a, Stream stream);
// Largest head_dim the CUDA kernel handles.
constexpr std::int64_t kAttentionCudaMaxHeadDim = 256;

}  // namespace mpe::kernels
