// CUDA CSR aggregation (pull), in two row-size classes so that power-law graphs do not leave
// one thread team walking a hub row while the GPU idles:
//  - short rows (degree < kLongRow): a team of T threads (T = 1..32, a power of two fitted to
//    the feature width) owns one row; each thread owns VEC consecutive features (float4 loads
//    when the width allows) and reduces them over the row's edges in edge order;
//  - long rows: a whole block owns the row; each of its warps reduces a fixed contiguous slice
//    of the edges, and warp partials are combined in warp order.
// No atomics and a fixed order everywhere, so results are bit-reproducible run to run.
#include "csr_aggregate.hpp"
#include "cuda/check.hpp"
#include "cuda/device_utils.cuh"

namespace mpe::kernels {

namespace {
using cuda::load_vec;
using cuda::store_vec;
constexpr int kBlockThreads = 256;  // tuning: threads per block (both kernels)
constexpr int kWarps = kBlockThreads / 32;
constexpr int kUnroll = 4;               // tuning: edges gathered at once per thread
constexpr std::int64_t kLongRow = 512;   // tuning: rows with at least this many edges use a block
constexpr int kLongRowBlocks = 132 * 8;  // tuning: blocks scanning for long rows

// Reduces features [f0, f0 + VEC) over edges [begin, end) in edge order into acc (initialised
// by the caller). kUnroll independent gathers are in flight per thread; the order of the
// reduction does not depend on the unrolling.
template <AggKind K, int VEC>
__device__ __forceinline__ void reduce_edges(const std::int32_t* __restrict__ col_indices,
                                             const float* __restrict__ weights,
                                             const float* __restrict__ x, std::int64_t width,
                                             std::int64_t f0, std::int64_t begin, std::int64_t end,
                                             float (&acc)[VEC]) {
  std::int64_t e = begin;
  for (; e + kUnroll <= end; e += kUnroll) {
    float w[kUnroll];
    float xv[kUnroll][VEC];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      w[u] = weights ? __ldg(weights + e + u) : 1.0f;
      load_vec<VEC>(x + static_cast<std::int64_t>(__ldg(col_indices + e + u)) * width + f0, xv[u]);
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
}

template <AggKind K, int VEC>
__global__ void __launch_bounds__(kBlockThreads)
    short_rows_kernel(const std::int64_t* __restrict__ row_offsets,
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
    if (end - begin >= kLongRow) continue;  // long_rows_kernel's
    for (std::int64_t f0 = static_cast<std::int64_t>(t) * VEC; f0 < width;
         f0 += static_cast<std::int64_t>(team) * VEC) {
      float acc[VEC];
#pragma unroll
      for (int v = 0; v < VEC; ++v) acc[v] = agg_init(K);
      reduce_edges<K, VEC>(col_indices, weights, x, width, f0, begin, end, acc);
#pragma unroll
      for (int v = 0; v < VEC; ++v) acc[v] = agg_finish(K, acc[v], end - begin);
      store_vec<VEC>(y + i * width + f0, acc);
    }
  }
}

// One block per long row. Each block tests 256 of its rows at once and then walks the long ones
// in order (no row list to build beforehand). Warp w
// reduces the w-th of kWarps equal edge slices; lane l owns VEC features of a 32·VEC-wide
// feature window; partials meet in shared memory and warp 0 combines them in warp order.
template <AggKind K, int VEC>
__global__ void __launch_bounds__(kBlockThreads)
    long_rows_kernel(const std::int64_t* __restrict__ row_offsets,
                     const std::int32_t* __restrict__ col_indices,
                     const float* __restrict__ weights, const float* __restrict__ x,
                     float* __restrict__ y, std::int64_t rows, std::int64_t width) {
  __shared__ float partial[kWarps][32 * VEC];
  __shared__ int is_long[kBlockThreads];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  // Block b owns rows b, b + G, b + 2G, ... (G = gridDim.x), tested 256 at a time: hub rows
  // that sit next to each other (R-MAT puts them at small indices) land on different blocks.
  const std::int64_t G = gridDim.x;
  for (std::int64_t base = blockIdx.x; base < rows; base += G * kBlockThreads) {
    const std::int64_t r = base + threadIdx.x * G;
    is_long[threadIdx.x] =
        r < rows && __ldg(row_offsets + r + 1) - __ldg(row_offsets + r) >= kLongRow;
    __syncthreads();
    for (int j = 0; j < kBlockThreads; ++j) {
      if (!is_long[j]) continue;  // uniform across the block
      const std::int64_t i = base + j * G;
      const std::int64_t begin = __ldg(row_offsets + i);
      const std::int64_t end = __ldg(row_offsets + i + 1);
      const std::int64_t degree = end - begin;
      const std::int64_t slice = (degree + kWarps - 1) / kWarps;
      const std::int64_t my_begin = begin + warp * slice;
      const std::int64_t my_end = my_begin + slice < end ? my_begin + slice : end;
      for (std::int64_t window = 0; window < width; window += 32 * VEC) {
        const std::int64_t f0 = window + static_cast<std::int64_t>(lane) * VEC;
        float acc[VEC];
#pragma unroll
        for (int v = 0; v < VEC; ++v) acc[v] = agg_init(K);
        if (f0 < width && my_begin < my_end) {
          reduce_edges<K, VEC>(col_indices, weights, x, width, f0, my_begin, my_end, acc);
        }
#pragma unroll
        for (int v = 0; v < VEC; ++v) partial[warp][lane * VEC + v] = acc[v];
        __syncthreads();
        if (warp == 0 && f0 < width) {
          float total[VEC];
#pragma unroll
          for (int v = 0; v < VEC; ++v) total[v] = partial[0][lane * VEC + v];
          for (int w = 1; w < kWarps; ++w) {
#pragma unroll
            for (int v = 0; v < VEC; ++v) {
              total[v] = agg_step(K, total[v], partial[w][lane * VEC + v]);
            }
          }
#pragma unroll
          for (int v = 0; v < VEC; ++v) total[v] = agg_finish(K, total[v], degree);
          store_vec<VEC>(y + i * width + f0, total);
        }
        __syncthreads();
      }
    }
    __syncthreads();  // is_long is rewritten for the next chunk
  }
}

int team_size(std::int64_t vectors_per_row) {
  int team = 1;
  while (team < 32 && team < vectors_per_row) team *= 2;
  return team;
}

template <AggKind K, int VEC>
void launch_both(const CsrAggregateArgs& a, Stream stream) {
  const int team = team_size((a.width + VEC - 1) / VEC);
  const int blocks = cuda::grid_blocks(a.rows, kBlockThreads / team);
  short_rows_kernel<K, VEC><<<blocks, kBlockThreads, 0, stream>>>(
      a.row_offsets, a.col_indices, a.weights, a.x, a.y, a.rows, a.width, team);
  MPE_CUDA_CHECK_LAUNCH();
  const std::int64_t chunks = (a.rows + kBlockThreads - 1) / kBlockThreads;
  const int long_blocks = static_cast<int>(chunks < kLongRowBlocks ? chunks : kLongRowBlocks);
  long_rows_kernel<K, VEC><<<long_blocks, kBlockThreads, 0, stream>>>(
      a.row_offsets, a.col_indices, a.weights, a.x, a.y, a.rows, a.width);
  MPE_CUDA_CHECK_LAUNCH();
}

template <AggKind K>
void launch(const CsrAggregateArgs& a, Stream stream) {
  const bool vec4 = a.width % 4 == 0 && cuda::is_aligned(a.x, 16) && cuda::is_aligned(a.y, 16);
  if (vec4) {
    launch_both<K, 4>(a, stream);
  } else {
    launch_both<K, 1>(a, stream);
  }
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
