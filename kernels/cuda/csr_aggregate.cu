// CUDA CSR aggregation (pull). A team of T threads (T = 1..32, a power of two fitted to the
// feature width) owns one row; each thread owns VEC consecutive features (float4 loads when
// the width allows) and reduces them over the row's edges in edge order. No atomics, so the
// result is bit-reproducible. Row-size classes for power-law graphs come later (issue 5).
#include "csr_aggregate.hpp"
#include "cuda/check.hpp"

namespace mpe::kernels {

namespace {
constexpr int kBlockThreads = 256;  // tuning: threads per block
constexpr int kMaxBlocks = 65535 * 8;
constexpr int kUnroll = 4;  // tuning: edges gathered at once per thread

template <int VEC>
__device__ __forceinline__ void load_vec(const float* p, float (&v)[VEC]) {
  if constexpr (VEC == 4) {
    const float4 q = __ldg(reinterpret_cast<const float4*>(p));
    v[0] = q.x;
    v[1] = q.y;
    v[2] = q.z;
    v[3] = q.w;
  } else {
    v[0] = __ldg(p);
  }
}

template <int VEC>
__device__ __forceinline__ void store_vec(float* p, const float (&v)[VEC]) {
  if constexpr (VEC == 4) {
    *reinterpret_cast<float4*>(p) = make_float4(v[0], v[1], v[2], v[3]);
  } else {
    p[0] = v[0];
  }
}

template <AggKind K, int VEC>
__global__ void __launch_bounds__(kBlockThreads)
    csr_aggregate_kernel(const std::int64_t* __restrict__ row_offsets,
                         const std::int32_t* __restrict__ col_indices,
                         const float* __restrict__ weights, const float* __restrict__ x,
                         float* __restrict__ y, std::int64_t rows, std::int64_t width, int team) {
  const int rows_per_block = kBlockThreads / team;
  const int t = threadIdx.x % team;
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * rows_per_block;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * rows_per_block + threadIdx.x / team;
       i < rows; i += stride) {
    const std::int64_t begin = __ldg(row_offsets + i);
    const std::int64_t end = __ldg(row_offsets + i + 1);
    for (std::int64_t f0 = static_cast<std::int64_t>(t) * VEC; f0 < width;
         f0 += static_cast<std::int64_t>(team) * VEC) {
      float acc[VEC];
#pragma unroll
      for (int v = 0; v < VEC; ++v) acc[v] = agg_init(K);
      std::int64_t e = begin;
      // kUnroll independent gathers in flight per thread (long rows are latency-bound); the
      // reduction still runs in edge order, so results do not depend on the unrolling.
      for (; e + kUnroll <= end; e += kUnroll) {
        float w[kUnroll];
        float xv[kUnroll][VEC];
#pragma unroll
        for (int u = 0; u < kUnroll; ++u) {
          w[u] = weights ? __ldg(weights + e + u) : 1.0f;
          load_vec<VEC>(x + static_cast<std::int64_t>(__ldg(col_indices + e + u)) * width + f0,
                        xv[u]);
        }
#pragma unroll
        for (int u = 0; u < kUnroll; ++u) {
#pragma unroll
          for (int v = 0; v < VEC; ++v) acc[v] = agg_step(K, acc[v], w[u] * xv[u][v]);
        }
      }
      for (; e < end; ++e) {
        const float w = weights ? __ldg(weights + e) : 1.0f;
        float xv[VEC];
        load_vec<VEC>(x + static_cast<std::int64_t>(__ldg(col_indices + e)) * width + f0, xv);
#pragma unroll
        for (int v = 0; v < VEC; ++v) acc[v] = agg_step(K, acc[v], w * xv[v]);
      }
#pragma unroll
      for (int v = 0; v < VEC; ++v) acc[v] = agg_finish(K, acc[v], end - begin);
      store_vec<VEC>(y + i * width + f0, acc);
    }
  }
}

int team_size(std::int64_t vectors_per_row) {
  int team = 1;
  while (team < 32 && team < vectors_per_row) team *= 2;
  return team;
}

template <AggKind K>
void launch(const CsrAggregateArgs& a, Stream stream) {
  const bool vec4 = a.width % 4 == 0 && reinterpret_cast<std::uintptr_t>(a.x) % 16 == 0 &&
                    reinterpret_cast<std::uintptr_t>(a.y) % 16 == 0;
  const int vec = vec4 ? 4 : 1;
  const int team = team_size((a.width + vec - 1) / vec);
  const std::int64_t rows_per_block = kBlockThreads / team;
  const std::int64_t needed = (a.rows + rows_per_block - 1) / rows_per_block;
  const int blocks = static_cast<int>(needed < kMaxBlocks ? needed : kMaxBlocks);
  if (vec4) {
    csr_aggregate_kernel<K, 4><<<blocks, kBlockThreads, 0, stream>>>(
        a.row_offsets, a.col_indices, a.weights, a.x, a.y, a.rows, a.width, team);
  } else {
    csr_aggregate_kernel<K, 1><<<blocks, kBlockThreads, 0, stream>>>(
        a.row_offsets, a.col_indices, a.weights, a.x, a.y, a.rows, a.width, team);
  }
  MPE_CUDA_CHECK_LAUNCH();
}
}  // namespace

void csr_aggregate_cuda(const CsrAggregateArgs& a, Stream stream) {
  if (a.rows == 0 || a.width == 0) return;
  switch (a.agg) {
    case AggKind::sum: launch<AggKind::sum>(a, stream); break;
    case AggKind::mean: launch<AggKind::mean>(a, stream); break;
    case AggKind::max: launch<AggKind::max>(a, stream); break;
    case AggKind::min: launch<AggKind::min>(a, stream); break;
  }
}

}  // namespace mpe::kernels
