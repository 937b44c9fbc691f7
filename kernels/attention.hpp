#pragma once
// Op: dense attention forward with an online softmax (O and the per-row log-sum-exp).
#include <cstddef>
#include <cstdint>

#include "common/storage.hpp"
#include "stream.hpp"

struct cublasContext;  // cublasHandle_t without cuBLAS's headers

namespace mpe::kernels {

struct AttentionArgs {
  // Elements of q, k, v and out in storage `store` (lse is always float32); arithmetic is
  // float32 throughout.
  const void* q = nullptr;                 // [batch, q_heads, q_len, head_dim]
  const void* k = nullptr;                 // [batch, kv_heads, k_len, head_dim]
  const void* v = nullptr;                 // [batch, kv_heads, k_len, head_dim]
  const std::int32_t* key_mask = nullptr;  // [batch, k_len], non-zero = visible; or nullptr
  void* out = nullptr;                     // [batch, q_heads, q_len, head_dim]
  Storage store = Storage::f32;
  float* lse = nullptr;                    // [batch, q_heads, q_len], or nullptr
  std::int64_t batch = 0;
  std::int64_t q_heads = 0;
  std::int64_t kv_heads = 0;  // divides q_heads
  std::int64_t q_len = 0;
  std::int64_t k_len = 0;
  std::int64_t head_dim = 0;
  float scale = 1.0f;   // already resolved (never 0 here)
  bool causal = false;  // bottom-right aligned: query i sees keys j <= i + k_len - q_len
  bool unfused = false;  // CUDA only: the cuBLAS GEMM -> softmax -> GEMM reference path
  // Masked attention over a CSR neighbourhood (attention_csr_*): query row i of every
  // (batch, head) sees the keys col_indices[row_offsets[i] .. row_offsets[i + 1]); key_mask is
  // not used there.
  const std::int64_t* row_offsets = nullptr;  // [q_len + 1]
  const std::int32_t* col_indices = nullptr;  // [nnz], each in [0, k_len)
  // Test hooks (CUDA): 1 runs the CUDA-core kernel even where the tensor-core one applies;
  // a non-zero workspace limit (bytes) makes the unfused path work in smaller pieces.
  int force_cuda_cores = 0;
  std::size_t unfused_workspace_limit = 0;
};

void attention_cpu(const AttentionArgs& a);
// CSR-masked attention (row_offsets / col_indices set), CPU and CUDA.
void attention_csr_cpu(const AttentionArgs& a);
void attention_csr_cuda(const AttentionArgs& a, Stream stream);
// The CUDA forward: 16-bit storage with head_dim <= kAttentionMmaMaxHeadDim goes to the
// tensor-core kernel, everything else to the CUDA-core one.
void attention_cuda(const AttentionArgs& a, Stream stream);
// The CUDA-core kernel (any storage, head_dim <= kAttentionCudaMaxHeadDim).
void attention_cuda_cores(const AttentionArgs& a, Stream stream);
// The tensor-core kernel (mma.sync m16n8k16; bf16 / f16 storage only, head_dim <= 128).
void attention_mma_cuda(const AttentionArgs& a, Stream stream);
constexpr std::int64_t kAttentionMmaMaxHeadDim = 128;
// The unfused reference (attention_unfused.cu): cuBLAS S = Q·Kᵀ, a row softmax, cuBLAS O = P·V,
// with S and P in `workspace`. attention_unfused_workspace gives the bytes it would like
// (everything at once, capped at `limit`, but at least one score row).
void attention_unfused_cuda(const AttentionArgs& a, Stream stream, cublasContext* handle,
                            void* workspace, std::size_t workspace_bytes);
std::size_t attention_unfused_workspace(const AttentionArgs& a, std::size_t limit);
// Largest head_dim the CUDA kernel handles.
constexpr std::int64_t kAttentionCudaMaxHeadDim = 256;

}  // namespace mpe::kernels
