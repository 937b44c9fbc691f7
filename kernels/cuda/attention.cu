// CUDA attention forward, float32: one block per (batch·head, tile of 32 query rows), 4 warps of
// 8 rows each. K and V tiles of BC keys go through shared memory; each warp computes its rows'
// scores (lane = key column), updates the rows' online softmax with warp shuffles, and adds P·V
// into register accumulators (lane = head-dim column). The score matrix is never written out.
// The same kernel reads and writes bfloat16 / float16 storage (converted on load, float32
// inside) for head dims the tensor-core kernel (attention_mma.cu) does not take.
#include <algorithm>
#include <cstdint>

#include "attention.hpp"
#include "common/attention_math.hpp"
#include "cuda/check.hpp"
#include "cuda/device_utils.cuh"

namespace mpe::kernels {
namespace {
using cuda::load_elem;
using cuda::store_elem;
using cuda::warp_max;
using cuda::warp_sum;

constexpr int kWarps = 4;        // warps per block
constexpr int kRowsPerWarp = 8;  // query rows per warp
constexpr int kTileRows = kWarps * kRowsPerWarp;

template <int DMAX, int BC>
struct Tile {
  static constexpr int kCols = BC / 32;      // key columns per lane
  static constexpr int kDCols = DMAX / 32;   // head-dim columns per lane
  static constexpr int kKStride = DMAX + 1;  // padded: lanes read different rows, same d
  static constexpr int kQFloats = kTileRows * DMAX;
  static constexpr int kKFloats = BC * kKStride;
  static constexpr int kVFloats = BC * DMAX;
  static constexpr int kPFloats = kTileRows * BC;
  static constexpr std::size_t kSmemBytes =
      sizeof(float) * (kQFloats + kKFloats + kVFloats + kPFloats);
};

template <int DMAX, int BC, Storage ST>
__global__ void __launch_bounds__(kWarps * 32, 1) attention_fwd_kernel(const AttentionArgs a) {
  using T = Tile<DMAX, BC>;
  extern __shared__ float smem[];
  float* qs = smem;              // [kTileRows][DMAX]
  float* ks = qs + T::kQFloats;  // [BC][DMAX + 1]
  float* vs = ks + T::kKFloats;  // [BC][DMAX]
  float* ps = vs + T::kVFloats;  // [kTileRows][BC]

  const int lane = threadIdx.x & 31;
  const int warp = threadIdx.x >> 5;
  const std::int64_t bh = blockIdx.x;
  const std::int64_t b = bh / a.q_heads, h = bh % a.q_heads;
  const std::int64_t kvh = attn_kv_head(h, a.q_heads, a.kv_heads);
  const std::int64_t D = a.head_dim, Nq = a.q_len, Nk = a.k_len;
  const std::int64_t q0 = static_cast<std::int64_t>(blockIdx.y) * kTileRows;
  const std::int64_t diag = Nk - Nq;
  const std::int64_t q_off = (bh * Nq + q0) * D;
  const std::int64_t kv_off = (b * a.kv_heads + kvh) * Nk * D;
  const std::int32_t* mask = a.key_mask ? a.key_mask + b * Nk : nullptr;

  for (int e = threadIdx.x; e < kTileRows * DMAX; e += blockDim.x) {
    const int r = e / DMAX, d = e % DMAX;
    qs[e] = (d < D && q0 + r < Nq) ? load_elem<ST>(a.q, q_off + r * D + d) * a.scale
                                   : 0.0f;
  }

  float o[kRowsPerWarp][T::kDCols];
  float m[kRowsPerWarp], l[kRowsPerWarp];
#pragma unroll
  for (int r = 0; r < kRowsPerWarp; ++r) {
    m[r] = kAttnNoScore;
    l[r] = 0.0f;
#pragma unroll
    for (int c = 0; c < T::kDCols; ++c) o[r][c] = 0.0f;
  }
  const std::int64_t last_row = (q0 + kTileRows < Nq ? q0 + kTileRows : Nq) - 1;
  const std::int64_t kv_end = a.causal ? attn_causal_limit(last_row, Nk, diag) : Nk;
  const int row0 = warp * kRowsPerWarp;
  float* pw = ps + row0 * BC;

  for (std::int64_t kb = 0; kb < kv_end; kb += BC) {
    __syncthreads();  // previous tiles fully used (and qs written, on the first pass)
    for (int e = threadIdx.x; e < BC * DMAX; e += blockDim.x) {
      const int j = e / DMAX, d = e % DMAX;
      const bool in = d < D && kb + j < kv_end;
      ks[j * T::kKStride + d] = in ? load_elem<ST>(a.k, kv_off + (kb + j) * D + d) : 0.0f;
      vs[e] = in ? load_elem<ST>(a.v, kv_off + (kb + j) * D + d) : 0.0f;
    }
    __syncthreads();

    float s[kRowsPerWarp][T::kCols];
#pragma unroll
    for (int r = 0; r < kRowsPerWarp; ++r)
#pragma unroll
      for (int c = 0; c < T::kCols; ++c) s[r][c] = 0.0f;
    for (int d = 0; d < D; ++d) {
      float kv[T::kCols];
#pragma unroll
      for (int c = 0; c < T::kCols; ++c) kv[c] = ks[(lane + 32 * c) * T::kKStride + d];
#pragma unroll
      for (int r = 0; r < kRowsPerWarp; ++r) {
        const float qv = qs[(row0 + r) * DMAX + d];
#pragma unroll
        for (int c = 0; c < T::kCols; ++c) s[r][c] = fmaf(qv, kv[c], s[r][c]);
      }
    }
    bool key_ok[T::kCols];
#pragma unroll
    for (int c = 0; c < T::kCols; ++c) {
      const std::int64_t key = kb + lane + 32 * c;
      key_ok[c] = key < kv_end && (!mask || mask[key] != 0);
    }
#pragma unroll
    for (int r = 0; r < kRowsPerWarp; ++r) {
      const std::int64_t lim = a.causal ? attn_causal_limit(q0 + row0 + r, Nk, diag) : Nk;
      float bmax = kAttnNoScore;
#pragma unroll
      for (int c = 0; c < T::kCols; ++c) {
        const bool vis = key_ok[c] && kb + lane + 32 * c < lim;
        s[r][c] = vis ? s[r][c] : kAttnNoScore;
        bmax = fmaxf(bmax, s[r][c]);
      }
      const float mn = attn_new_max(m[r], warp_max(bmax));
      float sum = 0.0f;
#pragma unroll
      for (int c = 0; c < T::kCols; ++c) {
        const float p = s[r][c] > kAttnNoScore ? __expf(s[r][c] - mn) : 0.0f;
        pw[r * BC + lane + 32 * c] = p;
        sum += p;
      }
      const float alpha = __expf(m[r] - mn);
      l[r] = l[r] * alpha + warp_sum(sum);
      m[r] = mn;
#pragma unroll
      for (int c = 0; c < T::kDCols; ++c) o[r][c] *= alpha;
    }
    __syncwarp();
    const int jn = static_cast<int>(kv_end - kb < BC ? kv_end - kb : BC);
    for (int j = 0; j < jn; ++j) {
      float vv[T::kDCols];
#pragma unroll
      for (int c = 0; c < T::kDCols; ++c) vv[c] = vs[j * DMAX + lane + 32 * c];
#pragma unroll
      for (int r = 0; r < kRowsPerWarp; ++r) {
        const float p = pw[r * BC + j];
#pragma unroll
        for (int c = 0; c < T::kDCols; ++c) o[r][c] = fmaf(p, vv[c], o[r][c]);
      }
    }
  }

#pragma unroll
  for (int r = 0; r < kRowsPerWarp; ++r) {
    const std::int64_t row = q0 + row0 + r;
    if (row >= Nq) continue;
    const float inv = attn_inv_denominator(l[r]);
    const std::int64_t out_off = (bh * Nq + row) * D;
#pragma unroll
    for (int c = 0; c < T::kDCols; ++c) {
      const int col = lane + 32 * c;
      if (col < D) store_elem<ST>(a.out, out_off + col, o[r][c] * inv);
    }
    if (a.lse && lane == 0) a.lse[bh * Nq + row] = attn_row_lse(m[r], l[r]);
  }
}

template <int DMAX, int BC, Storage ST>
void launch(const AttentionArgs& a, Stream stream) {
  using T = Tile<DMAX, BC>;
  auto kernel = attention_fwd_kernel<DMAX, BC, ST>;
  MPE_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                      static_cast<int>(T::kSmemBytes)));
  const dim3 grid(static_cast<unsigned>(a.batch * a.q_heads),
                  static_cast<unsigned>((a.q_len + kTileRows - 1) / kTileRows));
  kernel<<<grid, kWarps * 32, T::kSmemBytes, stream>>>(a);
  MPE_CUDA_CHECK_LAUNCH();
}

template <Storage ST>
void dispatch(const AttentionArgs& a, Stream stream) {
  if (a.head_dim <= 32) return launch<32, 64, ST>(a, stream);
  if (a.head_dim <= 64) return launch<64, 64, ST>(a, stream);
  if (a.head_dim <= 128) return launch<128, 64, ST>(a, stream);
  return launch<256, 32, ST>(a, stream);
}

}  // namespace

void attention_cuda_cores(const AttentionArgs& a, Stream stream) {
  if (a.batch * a.q_heads == 0 || a.q_len == 0) return;
  switch (a.store) {
    case Storage::f32: return dispatch<Storage::f32>(a, stream);
    case Storage::bf16: return dispatch<Storage::bf16>(a, stream);
    case Storage::f16: return dispatch<Storage::f16>(a, stream);
  }
}

void attention_cuda(const AttentionArgs& a, Stream stream) {
  if (a.store != Storage::f32 && a.head_dim <= kAttentionMmaMaxHeadDim && !a.force_cuda_cores) {
    return attention_mma_cuda(a, stream);
  }
  attention_cuda_cores(a, stream);
}

}  // namespace mpe::kernels
