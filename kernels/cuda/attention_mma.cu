// CUDA attention forward for bfloat16 / float16 storage on tensor cores (sm_80+):
// mma.sync.m16n8k16 with float32 accumulation, FlashAttention-2 style.
//
// One block of 4 warps per (batch·head, tile of 64 query rows); each warp owns 16 rows. The
// block's Q tile is staged through shared memory once and kept in registers as mma A
// fragments. Per tile of 64 keys, K and V go to shared memory (rows padded by 8 elements so the
// fragment loads hit 32 different banks), S = Q·Kᵀ is 8 n-tiles of m16n8k16 mmas per 16 head
// dims, the online softmax runs on the accumulator fragments (each thread holds two rows; row
// max and sum are reduced over the 4 threads of a quad), and P (rounded to the storage type,
// as FlashAttention does) is fed straight from registers as the A operand of O += P·V, with V's
// B fragments read by ldmatrix.trans. The
// score matrix is never written to memory. Head dims up to 128 (zero-padded to 64 or 128);
// larger ones take the CUDA-core kernel of attention.cu. When rows are 16-byte loadable
// (head_dim % 8 == 0) the K/V tiles are double-buffered with cp.async, so the next tile's copy
// overlaps the current tile's mmas; otherwise they are loaded between two barriers.
//
// Fragment layouts (PTX ISA, mma.m16n8k16 .bf16/.f16): with g = lane / 4, t = lane % 4,
//   A (16x16, row): a0 = (g, 2t..2t+1), a1 = (g+8, 2t..), a2 = (g, 2t+8..), a3 = (g+8, 2t+8..)
//   B (16x8, col):  b0 = (k 2t..2t+1, n g), b1 = (k 2t+8..2t+9, n g)
//   C (16x8, f32):  c0, c1 = (g, 2t..2t+1), c2, c3 = (g+8, 2t..2t+1)
// the lower-index element in the low 16 bits of each register.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "attention.hpp"
#include "common/attention_math.hpp"
#include "cuda/check.hpp"
#include "cuda/device_utils.cuh"

namespace mpe::kernels {
namespace {

constexpr int kWarps = 4;
constexpr int kRows = 16 * kWarps;  // query rows per block
constexpr int kKeys = 64;           // keys per K/V tile
constexpr int kNt = kKeys / 8;      // n-tiles of the score block
constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

static_assert(kRows == kKeys, "the pipelined kernel stages Q in a K/V tile buffer");

// Shared memory: the plain kernel has a Q tile, a K tile and a V tile; the pipelined one two K
// and two V tiles (Q is staged in the second K buffer before the pipeline starts), plus one
// visibility byte per key and buffer.
template <int DP>
struct MmaTile {
  static constexpr int kStride = DP + 8;  // elements per shared-memory row
  static constexpr int kQElems = kRows * kStride;
  static constexpr int kKElems = kKeys * kStride;
  static constexpr std::size_t kSmemBytes =
      sizeof(std::uint16_t) * (kQElems + 2 * kKElems) + kKeys;
  static constexpr std::size_t kPipeSmemBytes = sizeof(std::uint16_t) * 4 * kKElems + 2 * kKeys;
};

template <bool BF16>
__device__ __forceinline__ void mma16816(float (&c)[4], const std::uint32_t (&a)[4],
                                         std::uint32_t b0, std::uint32_t b1) {
  if constexpr (BF16) {
    asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
        "{%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  } else {
    asm("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
        "{%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  }
}

// Two floats as one register of the storage type, lo in the low half (round to nearest even).
template <bool BF16>
__device__ __forceinline__ std::uint32_t pack2(float lo, float hi) {
  if constexpr (BF16) {
    const __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<const std::uint32_t*>(&v);
  } else {
    const __half2 v = __floats2half2_rn(lo, hi);
    return *reinterpret_cast<const std::uint32_t*>(&v);
  }
}

template <bool BF16>
__device__ __forceinline__ std::uint16_t to_storage(float x) {
  if constexpr (BF16) {
    return __bfloat16_as_ushort(__float2bfloat16_rn(x));
  } else {
    return __half_as_ushort(__float2half_rn(x));
  }
}

__device__ __forceinline__ std::uint32_t ld32(const std::uint16_t* p) {
  return *reinterpret_cast<const std::uint32_t*>(p);
}

// Four transposed 8x8 b16 matrices from shared memory: lane l gives the address of row l % 8
// of matrix l / 8 (16 bytes, 16-byte aligned); lane (g, t) receives, of each matrix M,
// M[2t][g] and M[2t + 1][g], which is an mma B fragment when M's rows are k and columns n.
__device__ __forceinline__ void ldmatrix_x4_trans(std::uint32_t (&r)[4], const std::uint16_t* p) {
  const auto addr = static_cast<unsigned>(__cvta_generic_to_shared(p));
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}

// 16 bytes global -> shared without passing through registers; `valid` false zero-fills
// (src-size 0: nothing is read, but `gmem` must still be a mapped address).
__device__ __forceinline__ void cp_async16(std::uint16_t* smem, const std::uint16_t* gmem,
                                           bool valid) {
  const auto addr = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(addr), "l"(gmem),
               "r"(valid ? 16 : 0));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

// As load_tile's vector path, with cp.async (D % 8 == 0, 16-byte aligned rows; g must point to
// a mapped row, which it does while valid >= 1).
template <int DP, int R>
__device__ __forceinline__ void load_tile_async(std::uint16_t* __restrict__ s,
                                                const std::uint16_t* __restrict__ g,
                                                std::int64_t valid, std::int64_t D) {
  constexpr int S = MmaTile<DP>::kStride;
  constexpr int kChunks = DP / 8;
  for (int e = threadIdx.x; e < R * kChunks; e += blockDim.x) {
    const int r = e / kChunks, c = (e % kChunks) * 8;
    const bool in = r < valid && c < D;
    cp_async16(s + r * S + c, in ? g + r * D + c : g, in);
  }
}

// Rows [0, valid) of a [*, D] global tile into shared rows of kStride elements; columns D..DP
// and rows valid..R are zero (so padded keys carry V = 0 and padded dims add nothing).
// vec: D % 8 == 0 and 16-byte aligned rows, loaded 8 elements at a time.
template <int DP, int R>
__device__ __forceinline__ void load_tile(std::uint16_t* __restrict__ s,
                                          const std::uint16_t* __restrict__ g, std::int64_t valid,
                                          std::int64_t D, bool vec) {
  constexpr int S = MmaTile<DP>::kStride;
  if (vec) {
    constexpr int kChunks = DP / 8;
    for (int e = threadIdx.x; e < R * kChunks; e += blockDim.x) {
      const int r = e / kChunks, c = (e % kChunks) * 8;
      uint4 val = make_uint4(0u, 0u, 0u, 0u);
      if (r < valid && c < D) val = __ldg(reinterpret_cast<const uint4*>(g + r * D + c));
      *reinterpret_cast<uint4*>(s + r * S + c) = val;
    }
  } else {
    for (int e = threadIdx.x; e < R * DP; e += blockDim.x) {
      const int r = e / DP, c = e % DP;
      s[r * S + c] = (r < valid && c < D) ? __ldg(g + r * D + c) : std::uint16_t{0};
    }
  }
}

// PIPE (vector loads only): K/V tiles double-buffered, the next tile's cp.async copies in
// flight while the current one is computed. Otherwise one buffer, loaded between barriers.
template <int DP, bool BF16, bool PIPE>
__global__ void __launch_bounds__(kWarps * 32) attention_mma_kernel(const AttentionArgs a,
                                                                    const bool vec) {
  using T = MmaTile<DP>;
  constexpr int S = T::kStride;
  constexpr int kKc = DP / 16;  // k-chunks of Q·Kᵀ
  constexpr int kDt = DP / 8;   // n-tiles of O
  extern __shared__ __align__(16) unsigned char smem_raw[];
  std::uint16_t* base = reinterpret_cast<std::uint16_t*>(smem_raw);
  // Plain: [Q][K][V][vis]. Pipelined: [K0][K1][V0][V1][vis0 vis1], Q staged in K1.
  std::uint16_t* ks = PIPE ? base : base + T::kQElems;
  std::uint16_t* vs = PIPE ? base + 2 * T::kKElems : ks + T::kKElems;
  std::uint16_t* qs = PIPE ? base + T::kKElems : base;
  unsigned char* key_vis = reinterpret_cast<unsigned char*>(PIPE ? base + 4 * T::kKElems
                                                                 : vs + T::kKElems);

  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int g = lane >> 2, t = lane & 3;
  const std::int64_t bh = blockIdx.x;
  const std::int64_t b = bh / a.q_heads, h = bh % a.q_heads;
  const std::int64_t kvh = attn_kv_head(h, a.q_heads, a.kv_heads);
  const std::int64_t D = a.head_dim, Nq = a.q_len, Nk = a.k_len;
  const std::int64_t q0 = static_cast<std::int64_t>(blockIdx.y) * kRows;
  const std::int64_t diag = Nk - Nq;
  const std::uint16_t* k = static_cast<const std::uint16_t*>(a.k) + (b * a.kv_heads + kvh) * Nk * D;
  const std::uint16_t* v = static_cast<const std::uint16_t*>(a.v) + (b * a.kv_heads + kvh) * Nk * D;
  const std::int32_t* mask = a.key_mask ? a.key_mask + b * Nk : nullptr;

  load_tile<DP, kRows>(qs, static_cast<const std::uint16_t*>(a.q) + (bh * Nq + q0) * D, Nq - q0, D, vec);
  __syncthreads();
  const int r0 = warp * 16;
  std::uint32_t qf[kKc][4];
#pragma unroll
  for (int kc = 0; kc < kKc; ++kc) {
    const std::uint16_t* p = qs + (r0 + g) * S + kc * 16 + 2 * t;
    qf[kc][0] = ld32(p);
    qf[kc][1] = ld32(p + 8 * S);
    qf[kc][2] = ld32(p + 8);
    qf[kc][3] = ld32(p + 8 * S + 8);
  }
  if constexpr (PIPE) __syncthreads();  // Q's staging buffer becomes K buffer 1

  float o[kDt][4];
#pragma unroll
  for (int dt = 0; dt < kDt; ++dt)
#pragma unroll
    for (int c = 0; c < 4; ++c) o[dt][c] = 0.0f;
  // Running max (in log2 units of the scaled scores) and the thread's partial sums of rows
  // g and g + 8.
  float m[2] = {kAttnNoScore, kAttnNoScore};
  float l[2] = {0.0f, 0.0f};
  const float sl2 = a.scale * kLog2e;
  const std::int64_t row[2] = {q0 + r0 + g, q0 + r0 + g + 8};
  const std::int64_t lim[2] = {a.causal ? attn_causal_limit(row[0], Nk, diag) : Nk,
                               a.causal ? attn_causal_limit(row[1], Nk, diag) : Nk};
  const std::int64_t last_row = (q0 + kRows < Nq ? q0 + kRows : Nq) - 1;
  const std::int64_t kv_end = a.causal ? attn_causal_limit(last_row, Nk, diag) : Nk;

  // Tile `it`'s K, V (cp.async) and key visibility into buffer it % 2 (pipelined kernel).
  const auto issue = [&](std::int64_t it) {
    const std::int64_t kb = it * kKeys;
    const int buf = static_cast<int>(it & 1);
    load_tile_async<DP, kKeys>(ks + buf * T::kKElems, k + kb * D, kv_end - kb, D);
    load_tile_async<DP, kKeys>(vs + buf * T::kKElems, v + kb * D, kv_end - kb, D);
    for (int j = threadIdx.x; j < kKeys; j += blockDim.x) {
      key_vis[buf * kKeys + j] =
          (kb + j < kv_end && (!mask || __ldg(mask + kb + j) != 0)) ? 1 : 0;
    }
    cp_async_commit();
  };
  const std::int64_t tiles = (kv_end + kKeys - 1) / kKeys;
  if constexpr (PIPE) {
    if (tiles > 0) issue(0);
  }
  for (std::int64_t it = 0; it < tiles; ++it) {
    const std::int64_t kb = it * kKeys;
    const std::uint16_t* kcur = ks;
    const std::uint16_t* vcur = vs;
    const unsigned char* vis_cur = key_vis;
    if constexpr (PIPE) {
      if (it + 1 < tiles) {
        issue(it + 1);  // its buffer was released by the barrier that ended iteration it - 1
        cp_async_wait<1>();
      } else {
        cp_async_wait<0>();
      }
      __syncthreads();  // tile it is in shared memory for every thread
      const int buf = static_cast<int>(it & 1);
      kcur = ks + buf * T::kKElems;
      vcur = vs + buf * T::kKElems;
      vis_cur = key_vis + buf * kKeys;
    } else {
      __syncthreads();  // the previous K/V tiles are fully used
      load_tile<DP, kKeys>(ks, k + kb * D, kv_end - kb, D, vec);
      load_tile<DP, kKeys>(vs, v + kb * D, kv_end - kb, D, vec);
      for (int j = threadIdx.x; j < kKeys; j += blockDim.x) {
        key_vis[j] = (kb + j < kv_end && (!mask || __ldg(mask + kb + j) != 0)) ? 1 : 0;
      }
      __syncthreads();
    }

    float s[kNt][4];
#pragma unroll
    for (int nt = 0; nt < kNt; ++nt)
#pragma unroll
      for (int c = 0; c < 4; ++c) s[nt][c] = 0.0f;
#pragma unroll
    for (int kc = 0; kc < kKc; ++kc) {
#pragma unroll
      for (int nt = 0; nt < kNt; ++nt) {
        const std::uint16_t* p = kcur + (nt * 8 + g) * S + kc * 16 + 2 * t;
        mma16816<BF16>(s[nt], qf[kc], ld32(p), ld32(p + 8));
      }
    }

    // Scale, mask, and the online-softmax update of both rows.
    float mx[2] = {kAttnNoScore, kAttnNoScore};
#pragma unroll
    for (int nt = 0; nt < kNt; ++nt) {
#pragma unroll
      for (int c = 0; c < 4; ++c) {
        const int j = nt * 8 + 2 * t + (c & 1);
        const int hr = c >> 1;
        const bool vis = vis_cur[j] != 0 && kb + j < lim[hr];
        s[nt][c] = vis ? s[nt][c] * sl2 : kAttnNoScore;
        mx[hr] = fmaxf(mx[hr], s[nt][c]);
      }
    }
    float alpha[2];
#pragma unroll
    for (int hr = 0; hr < 2; ++hr) {
      mx[hr] = fmaxf(mx[hr], __shfl_xor_sync(cuda::kFullMask, mx[hr], 1));
      mx[hr] = fmaxf(mx[hr], __shfl_xor_sync(cuda::kFullMask, mx[hr], 2));
      const float mn = attn_new_max(m[hr], mx[hr]);
      alpha[hr] = exp2f(m[hr] - mn);
      m[hr] = mn;
      l[hr] *= alpha[hr];
    }
#pragma unroll
    for (int nt = 0; nt < kNt; ++nt) {
#pragma unroll
      for (int c = 0; c < 4; ++c) {
        const int hr = c >> 1;
        const float p = s[nt][c] > kAttnNoScore ? exp2f(s[nt][c] - m[hr]) : 0.0f;
        l[hr] += p;
        s[nt][c] = p;
      }
    }
#pragma unroll
    for (int dt = 0; dt < kDt; ++dt) {
      o[dt][0] *= alpha[0];
      o[dt][1] *= alpha[0];
      o[dt][2] *= alpha[1];
      o[dt][3] *= alpha[1];
    }

    // O += P·V, P from the score fragments (16 keys per k-chunk = two n-tiles).
#pragma unroll
    for (int kk = 0; kk < kKeys / 16; ++kk) {
      const std::uint32_t pa[4] = {pack2<BF16>(s[2 * kk][0], s[2 * kk][1]),
                                   pack2<BF16>(s[2 * kk][2], s[2 * kk][3]),
                                   pack2<BF16>(s[2 * kk + 1][0], s[2 * kk + 1][1]),
                                   pack2<BF16>(s[2 * kk + 1][2], s[2 * kk + 1][3])};
      // V fragments by ldmatrix.trans, two head-dim tiles per instruction: matrices 0/1 are
      // keys 0-7 / 8-15 of this chunk at columns dt*8.., matrices 2/3 the same keys at
      // (dt+1)*8.., so r = {b0, b1} of tile dt then of tile dt + 1.
      const std::uint16_t* vk = vcur + (kk * 16 + (lane & 15)) * S + (lane >> 4) * 8;
#pragma unroll
      for (int dt = 0; dt < kDt; dt += 2) {
        std::uint32_t b[4];
        ldmatrix_x4_trans(b, vk + dt * 8);
        mma16816<BF16>(o[dt], pa, b[0], b[1]);
        mma16816<BF16>(o[dt + 1], pa, b[2], b[3]);
      }
    }
    if constexpr (PIPE) __syncthreads();  // buffer it % 2 is free for tile it + 2
  }

#pragma unroll
  for (int hr = 0; hr < 2; ++hr) {
    float lt = l[hr];
    lt += __shfl_xor_sync(cuda::kFullMask, lt, 1);
    lt += __shfl_xor_sync(cuda::kFullMask, lt, 2);
    if (row[hr] >= Nq) continue;
    const float inv = attn_inv_denominator(lt);
    std::uint16_t* out = static_cast<std::uint16_t*>(a.out) + (bh * Nq + row[hr]) * D;
#pragma unroll
    for (int dt = 0; dt < kDt; ++dt) {
      const int col = dt * 8 + 2 * t;
      if (col < D) out[col] = to_storage<BF16>(o[dt][2 * hr] * inv);
      if (col + 1 < D) out[col + 1] = to_storage<BF16>(o[dt][2 * hr + 1] * inv);
    }
    if (a.lse && t == 0) a.lse[bh * Nq + row[hr]] = attn_row_lse(m[hr] * kLn2, lt);
  }
}

template <int DP, bool BF16, bool PIPE>
void launch_variant(const AttentionArgs& a, Stream stream, bool vec) {
  using T = MmaTile<DP>;
  auto kernel = attention_mma_kernel<DP, BF16, PIPE>;
  const std::size_t smem = PIPE ? T::kPipeSmemBytes : T::kSmemBytes;
  MPE_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                      static_cast<int>(smem)));
  const dim3 grid(static_cast<unsigned>(a.batch * a.q_heads),
                  static_cast<unsigned>((a.q_len + kRows - 1) / kRows));
  kernel<<<grid, kWarps * 32, smem, stream>>>(a, vec);
  MPE_CUDA_CHECK_LAUNCH();
}

// 16-byte loadable rows (head_dim % 8 == 0, aligned bases) take the cp.async pipeline.
template <int DP, bool BF16>
void launch(const AttentionArgs& a, Stream stream) {
  const bool vec = a.head_dim % 8 == 0 && cuda::is_aligned(a.q, 16) && cuda::is_aligned(a.k, 16) &&
                   cuda::is_aligned(a.v, 16);
  if (vec) return launch_variant<DP, BF16, true>(a, stream, true);
  launch_variant<DP, BF16, false>(a, stream, false);
}

template <bool BF16>
void dispatch(const AttentionArgs& a, Stream stream) {
  if (a.head_dim <= 64) return launch<64, BF16>(a, stream);
  return launch<128, BF16>(a, stream);
}

}  // namespace

void attention_mma_cuda(const AttentionArgs& a, Stream stream) {
  if (a.batch * a.q_heads == 0 || a.q_len == 0) return;
  if (a.store == Storage::bf16) return dispatch<true>(a, stream);
  dispatch<false>(a, stream);
}

}  // namespace mpe::kernels
