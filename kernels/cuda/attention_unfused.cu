// Unfused attention on CUDA, a second reference for large shapes: cuBLAS GEMM for the scores
// S = Q·Kᵀ (float32 out), a row-softmax kernel that writes P = softmax(scale·S) (visibility,
// causal rule and lse as in the fused kernels), and a cuBLAS GEMM for O = P·V.
//
// The query heads of one key/value group are contiguous, so for (batch b, kv head g) the group's
// queries are one [G·Nq, D] row-major matrix and S is one [G·Nq, Nk] GEMM; the (b, g) pairs are
// strided batches. S and P live in a caller-provided workspace; when all pairs do not fit, the
// work is cut into pieces of whole pairs, or of row ranges of one pair.
//
// Precision: float32 storage uses cublasSgemm (full float32); bfloat16 / float16 storage uses
// cublasGemmEx with float32 accumulation (tensor cores), P rounded to the storage type for the
// second GEMM and O rounded once at its end.
#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <cstdint>

#include "attention.hpp"
#include "common/attention_math.hpp"
#include "cuda/check.hpp"
#include "cuda/device_utils.cuh"
#include "cuda/cublas_util.hpp"

namespace mpe::kernels {
namespace {

constexpr int kThreads = 256;

// Which rows of S one piece holds: pairs [bg0, bg0 + nb), rows [r0, r0 + rows) of each pair's
// [G·Nq, Nk] score matrix.
struct Piece {
  std::int64_t bg0, nb, r0, rows;
};

// One block per row of the piece: max, sum of exponentials and P in three passes over the row.
template <Storage ST>
__global__ void __launch_bounds__(kThreads) softmax_rows_kernel(const AttentionArgs a, Piece pc,
                                                                const float* __restrict__ s,
                                                                void* __restrict__ p_out) {
  __shared__ float red[kThreads / 32];
  const std::int64_t t = blockIdx.x;
  const std::int64_t bg = pc.bg0 + t / pc.rows;
  const std::int64_t r = pc.r0 + t % pc.rows;  // row in the pair's [G·Nq] query rows
  const std::int64_t G = a.q_heads / a.kv_heads;
  const std::int64_t Nq = a.q_len, Nk = a.k_len;
  const std::int64_t i = r % Nq;
  const std::int64_t b = bg / a.kv_heads;
  const std::int32_t* mask = a.key_mask ? a.key_mask + b * Nk : nullptr;
  const std::int64_t lim = a.causal ? attn_causal_limit(i, Nk, Nk - Nq) : Nk;
  const float* row = s + t * Nk;

  float mx = kAttnNoScore;
  for (std::int64_t j = threadIdx.x; j < lim; j += kThreads) {
    if (!mask || mask[j] != 0) mx = fmaxf(mx, row[j] * a.scale);
  }
  mx = cuda::block_allreduce<kThreads>(mx, cuda::FmaxOp{}, red);
  float sum = 0.0f;
  for (std::int64_t j = threadIdx.x; j < lim; j += kThreads) {
    if (!mask || mask[j] != 0) sum += expf(row[j] * a.scale - mx);
  }
  sum = cuda::block_allreduce<kThreads>(sum, cuda::SumOp{}, red);
  const float inv = attn_inv_denominator(sum);
  for (std::int64_t j = threadIdx.x; j < Nk; j += kThreads) {
    const bool vis = j < lim && (!mask || mask[j] != 0);
    const float p = vis ? expf(row[j] * a.scale - mx) * inv : 0.0f;
    cuda::store_elem<ST>(p_out, t * Nk + j, p);
  }
  if (a.lse && threadIdx.x == 0) a.lse[bg * G * Nq + r] = attn_row_lse(mx, sum);
}

std::size_t p_bytes(const AttentionArgs& a) {
  return static_cast<std::size_t>(storage_bytes(a.store));
}

// Bytes of S plus P per score row.
std::size_t row_bytes(const AttentionArgs& a) {
  return static_cast<std::size_t>(a.k_len) * (sizeof(float) + p_bytes(a));
}

cudaDataType_t cuda_type(Storage st) {
  return st == Storage::bf16 ? CUDA_R_16BF : (st == Storage::f16 ? CUDA_R_16F : CUDA_R_32F);
}

// C (m×n, col-major, ldc) = op(A)·B for `batch` strided matrices; float32 output for the scores,
// storage type for O. Every call goes through the shared lock.
void gemm(cublasHandle_t h, cublasOperation_t ta, int m, int n, int k, const void* A,
          cudaDataType_t at, int lda, long long sa, const void* B, cudaDataType_t bt, int ldb,
          long long sb, void* C, cudaDataType_t ct, int ldc, long long sc, int batch) {
  const float one = 1.0f, zero = 0.0f;
  if (at == CUDA_R_32F && bt == CUDA_R_32F && ct == CUDA_R_32F) {
    cublas_check_call(cublasSgemmStridedBatched(h, ta, CUBLAS_OP_N, m, n, k, &one,
                                                static_cast<const float*>(A), lda, sa,
                                                static_cast<const float*>(B), ldb, sb, &zero,
                                                static_cast<float*>(C), ldc, sc, batch),
                      "cublasSgemmStridedBatched");
  } else {
    cublas_check_call(cublasGemmStridedBatchedEx(h, ta, CUBLAS_OP_N, m, n, k, &one, A, at, lda, sa,
                                                 B, bt, ldb, sb, &zero, C, ct, ldc, sc, batch,
                                                 CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                      "cublasGemmStridedBatchedEx");
  }
}

}  // namespace

std::size_t attention_unfused_workspace(const AttentionArgs& a, std::size_t limit) {
  const std::size_t rows = static_cast<std::size_t>(a.batch * a.q_heads * a.q_len);
  const std::size_t want = rows * row_bytes(a);
  const std::size_t one_row = row_bytes(a);
  return std::max(one_row, std::min(want, limit));
}

void attention_unfused_cuda(const AttentionArgs& a, Stream stream, cublasContext* handle,
                            void* workspace, std::size_t workspace_bytes) {
  if (a.batch * a.q_heads == 0 || a.q_len == 0) return;
  const std::int64_t G = a.q_heads / a.kv_heads, Nq = a.q_len, Nk = a.k_len, D = a.head_dim;
  const std::int64_t pairs = a.batch * a.kv_heads;
  const std::int64_t R = G * Nq;  // score rows per pair
  const auto store_bytes = storage_bytes(a.store);
  const void* q = a.q;
  const void* k = a.k;
  const void* v = a.v;
  void* out = a.out;
  const cudaDataType_t st = cuda_type(a.store);
  if (Nk == 0) {  // every row sees no key: O = 0, lse = kLogZero (S and P are never read)
    MPE_CUDA_CHECK(cudaMemsetAsync(out, 0, static_cast<std::size_t>(pairs * R * D * store_bytes),
                                   stream));
    if (a.lse) {
      const Piece pc{0, pairs, 0, R};
      softmax_rows_kernel<Storage::f32>
          <<<static_cast<unsigned>(pairs * R), kThreads, 0, stream>>>(a, pc, nullptr, nullptr);
      MPE_CUDA_CHECK_LAUNCH();
    }
    return;
  }
  const auto per_row = static_cast<std::int64_t>(row_bytes(a));
  const std::int64_t fit_rows = static_cast<std::int64_t>(workspace_bytes) / per_row;
  if (fit_rows < 1) {
    throw Error(ErrorCode::internal, "attention_unfused_cuda: workspace smaller than one row");
  }
  // Pieces: whole pairs while at least one pair fits, else row ranges of a single pair.
  const std::int64_t rows_per_piece = std::min(R, fit_rows);
  const std::int64_t pairs_per_piece =
      rows_per_piece == R ? std::max<std::int64_t>(1, std::min(pairs, fit_rows / R)) : 1;
  std::lock_guard<std::mutex> lock(cublas_call_mutex());
  cublas_check_call(cublasSetStream(handle, stream), "cublasSetStream");
  for (std::int64_t bg0 = 0; bg0 < pairs; bg0 += pairs_per_piece) {
    const std::int64_t nb = std::min(pairs_per_piece, pairs - bg0);
    for (std::int64_t r0 = 0; r0 < R; r0 += rows_per_piece) {
      const std::int64_t rows = std::min(rows_per_piece, R - r0);
      float* s = static_cast<float*>(workspace);
      void* p = static_cast<char*>(workspace) + nb * rows * Nk * sizeof(float);
      const char* qp = static_cast<const char*>(q) + (bg0 * R + r0) * D * store_bytes;
      const char* kp = static_cast<const char*>(k) + bg0 * Nk * D * store_bytes;
      const char* vp = static_cast<const char*>(v) + bg0 * Nk * D * store_bytes;
      char* op = static_cast<char*>(out) + (bg0 * R + r0) * D * store_bytes;
      // Row-major S[rows, Nk] = Q[rows, D]·Kᵀ is column-major Sᵀ = op_T(K as D×Nk)·(Q as D×rows).
      if (D > 0) {
        gemm(handle, CUBLAS_OP_T, static_cast<int>(Nk), static_cast<int>(rows),
             static_cast<int>(D), kp, st, static_cast<int>(D), Nk * D, qp, st,
             static_cast<int>(D), R * D, s, CUDA_R_32F, static_cast<int>(Nk), rows * Nk,
             static_cast<int>(nb));
      } else {  // empty head dim: every score is 0
        MPE_CUDA_CHECK(cudaMemsetAsync(s, 0, sizeof(float) * nb * rows * Nk, stream));
      }
      const Piece pc{bg0, nb, r0, rows};
      const auto blocks = static_cast<unsigned>(nb * rows);
      switch (a.store) {
        case Storage::f32:
          softmax_rows_kernel<Storage::f32><<<blocks, kThreads, 0, stream>>>(a, pc, s, p);
          break;
        case Storage::bf16:
          softmax_rows_kernel<Storage::bf16><<<blocks, kThreads, 0, stream>>>(a, pc, s, p);
          break;
        case Storage::f16:
          softmax_rows_kernel<Storage::f16><<<blocks, kThreads, 0, stream>>>(a, pc, s, p);
          break;
      }
      MPE_CUDA_CHECK_LAUNCH();
      // Row-major O[rows, D] = P[rows, Nk]·V is column-major Oᵀ = (V as D×Nk)·(P as Nk×rows).
      if (D > 0) {
        gemm(handle, CUBLAS_OP_N, static_cast<int>(D), static_cast<int>(rows),
             static_cast<int>(Nk), vp, st, static_cast<int>(D), Nk * D, p, st,
             static_cast<int>(Nk), rows * Nk, op, st, static_cast<int>(D), R * D,
             static_cast<int>(nb));
      }
    }
  }
}

}  // namespace mpe::kernels
