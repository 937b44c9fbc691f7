// CUDA kernels of the generic message-passing layer (and so of csr_aggregate, which is this
// layer with an edge-weight message), GAT and bioelectric diffusion. graph_mp reduces rows in
// two size classes, so that power-law graphs do not leave one thread team walking a hub row
// while the GPU idles: rows shorter than kLongRow belong to a team of 1..32 threads (each owning
// VEC consecutive features), longer rows to a whole block whose warps reduce fixed edge slices
// merged in warp order. Fixed orders, no atomics: results are bit-reproducible run to run.
#include "common/edge_softmax.hpp"
#include "cuda/check.hpp"
#include "cuda/device_utils.cuh"
#include "graph_mp.hpp"

namespace mpe::kernels {

namespace {
using cuda::grid_blocks;
using cuda::load_vec;
constexpr int kBlockThreads = 256;  // tuning: threads per block (all kernels here)
constexpr int kWarps = kBlockThreads / 32;
constexpr int kUnroll = 4;               // tuning: edges gathered at once per thread (no types)
constexpr std::int64_t kLongRow = 512;   // tuning: rows with at least this many edges use a block
constexpr int kLongRowBlocks = 132 * 8;  // tuning: blocks scanning for long rows
// tuning: resident blocks per SM the mp kernels are compiled for (64 registers; at 8 blocks ptxas
// aims at 32 registers and the max/min kernels spill)
constexpr int kMinBlocksPerSm = 4;

// Folds edges [begin, end) into acc for features [f0, f0 + VEC), in edge order. Without edge
// types, kUnroll edges' gathers are in flight at once (the order of the reduction does not
// depend on the unrolling).
template <MpAgg K, Storage S, int VEC>
__device__ __forceinline__ void mp_edges(const GraphMpArgs& a, std::int64_t f0, std::int64_t begin,
                                         std::int64_t end, MpAcc (&acc)[VEC]) {
  using T = typename StorageTraits<S>::T;
  const T* x = static_cast<const T*>(a.x) + f0;
  std::int64_t e = begin;
  if (!a.edge_types) {
    for (; e + kUnroll <= end; e += kUnroll) {
      float w[kUnroll];
      float xv[kUnroll][VEC];
#pragma unroll
      for (int u = 0; u < kUnroll; ++u) {
        w[u] = a.weights ? __ldg(a.weights + e + u) : 1.0f;
        load_vec<S, VEC>(x + static_cast<std::int64_t>(__ldg(a.col_indices + e + u)) * a.width,
                         xv[u]);
      }
#pragma unroll
      for (int u = 0; u < kUnroll; ++u) {
#pragma unroll
        for (int v = 0; v < VEC; ++v) acc[v] = mp_step(K, acc[v], w[u] * xv[u][v]);
      }
    }
  }
  for (; e < end; ++e) {
    float w = a.weights ? __ldg(a.weights + e) : 1.0f;
    float tw[VEC];
#pragma unroll
    for (int v = 0; v < VEC; ++v) tw[v] = 1.0f;
    if (a.edge_types) {
      const float* t =
          a.type_weights + static_cast<std::int64_t>(__ldg(a.edge_types + e)) * a.type_width;
      if (a.type_width == 1) {
        w *= __ldg(t);
      } else {
        load_vec<VEC>(t + f0, tw);
      }
    }
    float xv[VEC];
    load_vec<S, VEC>(x + static_cast<std::int64_t>(__ldg(a.col_indices + e)) * a.width, xv);
#pragma unroll
    for (int v = 0; v < VEC; ++v) acc[v] = mp_step(K, acc[v], w * tw[v] * xv[v]);
  }
}

template <MpAgg K, Storage S, int VEC>
__device__ __forceinline__ void mp_store(const GraphMpArgs& a, std::int64_t i, std::int64_t f0,
                                         std::int64_t degree, const MpAcc (&acc)[VEC]) {
  using Feat = StorageTraits<S>;
  using T = typename Feat::T;
#pragma unroll
  for (int v = 0; v < VEC; ++v) {
    const std::int64_t f = f0 + v;
    const float h = a.self_scale != 0.0f
                        ? Feat::load(__ldg(static_cast<const T*>(a.self) + i * a.width + f))
                        : 0.0f;
    static_cast<T*>(a.y)[i * a.width + f] =
        Feat::store(mp_update(a.act, a.self_scale, h, a.agg_scale, mp_finish(K, acc[v], degree),
                              a.bias ? __ldg(a.bias + f) : 0.0f));
  }
}

template <MpAgg K, Storage S, int VEC>
__global__ void __launch_bounds__(kBlockThreads, kMinBlocksPerSm)
    mp_short_rows(const GraphMpArgs a, int team) {
  const int rows_per_block = kBlockThreads / team;
  const int t = threadIdx.x % team;
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * rows_per_block;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * rows_per_block + threadIdx.x / team;
       i < a.rows; i += stride) {
    const std::int64_t begin = __ldg(a.row_offsets + i);
    const std::int64_t end = __ldg(a.row_offsets + i + 1);
    if (end - begin >= kLongRow) continue;  // mp_long_rows'
    for (std::int64_t f0 = static_cast<std::int64_t>(t) * VEC; f0 < a.width;
         f0 += static_cast<std::int64_t>(team) * VEC) {
      MpAcc acc[VEC];
#pragma unroll
      for (int v = 0; v < VEC; ++v) acc[v] = mp_init(K);
      mp_edges<K, S, VEC>(a, f0, begin, end, acc);
      mp_store<K, S, VEC>(a, i, f0, end - begin, acc);
    }
  }
}

template <MpAgg K, Storage S, int VEC>
__global__ void __launch_bounds__(kBlockThreads, kMinBlocksPerSm)
    mp_long_rows(const GraphMpArgs a) {
  __shared__ MpAcc partial[kWarps][32 * VEC];
  __shared__ int is_long[kBlockThreads];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const std::int64_t G = gridDim.x;
  for (std::int64_t base = blockIdx.x; base < a.rows; base += G * kBlockThreads) {
    const std::int64_t r = base + threadIdx.x * G;
    is_long[threadIdx.x] =
        r < a.rows && __ldg(a.row_offsets + r + 1) - __ldg(a.row_offsets + r) >= kLongRow;
    __syncthreads();
    for (int j = 0; j < kBlockThreads; ++j) {
      if (!is_long[j]) continue;  // uniform across the block
      const std::int64_t i = base + j * G;
      const std::int64_t begin = __ldg(a.row_offsets + i);
      const std::int64_t end = __ldg(a.row_offsets + i + 1);
      const std::int64_t slice = (end - begin + kWarps - 1) / kWarps;
      const std::int64_t my_begin = begin + warp * slice;
      const std::int64_t my_end = my_begin + slice < end ? my_begin + slice : end;
      for (std::int64_t window = 0; window < a.width; window += 32 * VEC) {
        const std::int64_t f0 = window + static_cast<std::int64_t>(lane) * VEC;
        MpAcc acc[VEC];
#pragma unroll
        for (int v = 0; v < VEC; ++v) acc[v] = mp_init(K);
        if (f0 < a.width && my_begin < my_end) mp_edges<K, S, VEC>(a, f0, my_begin, my_end, acc);
#pragma unroll
        for (int v = 0; v < VEC; ++v) partial[warp][lane * VEC + v] = acc[v];
        __syncthreads();
        if (warp == 0 && f0 < a.width) {
          MpAcc total[VEC];
#pragma unroll
          for (int v = 0; v < VEC; ++v) total[v] = partial[0][lane * VEC + v];
          for (int w = 1; w < kWarps; ++w) {
#pragma unroll
            for (int v = 0; v < VEC; ++v)
              total[v] = mp_merge(K, total[v], partial[w][lane * VEC + v]);
          }
          mp_store<K, S, VEC>(a, i, f0, end - begin, total);
        }
        __syncthreads();
      }
    }
    __syncthreads();
  }
}

int team_size(std::int64_t vectors_per_row) {
  int team = 1;
  while (team < 32 && team < vectors_per_row) team *= 2;
  return team;
}

template <MpAgg K, Storage S, int VEC>
void mp_launch(const GraphMpArgs& a, Stream stream) {
  const int team = team_size((a.width + VEC - 1) / VEC);
  mp_short_rows<K, S, VEC>
      <<<grid_blocks(a.rows, kBlockThreads / team), kBlockThreads, 0, stream>>>(a, team);
  MPE_CUDA_CHECK_LAUNCH();
  const std::int64_t chunks = (a.rows + kBlockThreads - 1) / kBlockThreads;
  mp_long_rows<K, S, VEC><<<static_cast<int>(chunks < kLongRowBlocks ? chunks : kLongRowBlocks),
                            kBlockThreads, 0, stream>>>(a);
  MPE_CUDA_CHECK_LAUNCH();
}

template <MpAgg K, Storage S>
void mp_dispatch_storage(const GraphMpArgs& a, Stream stream) {
  // 4 features per load: 16 bytes of float32, 8 bytes of 16-bit storage (rows of a width
  // divisible by 4 keep every row start aligned).
  const bool vec4 = a.width % 4 == 0 && cuda::is_aligned(a.x, 4 * sizeof(typename StorageTraits<S>::T)) &&
                    (a.type_width == 1 || !a.edge_types || cuda::is_aligned(a.type_weights, 16));
  if (vec4) {
    mp_launch<K, S, 4>(a, stream);
  } else {
    mp_launch<K, S, 1>(a, stream);
  }
}

template <MpAgg K>
void mp_dispatch(const GraphMpArgs& a, Stream stream) {
  switch (a.storage) {
    case Storage::bf16: mp_dispatch_storage<K, Storage::bf16>(a, stream); break;
    case Storage::f16: mp_dispatch_storage<K, Storage::f16>(a, stream); break;
    default: mp_dispatch_storage<K, Storage::f32>(a, stream);
  }
}

// ---------------------------------------------------------------- GAT

__global__ void __launch_bounds__(kBlockThreads) gat_scores_kernel(const GatScoreArgs a) {
  const std::int64_t total = a.nodes * a.heads;
  for (std::int64_t t = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; t < total;
       t += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t n = t / a.heads, h = t % a.heads;
    const float* f = a.feat + n * a.heads * a.channels + h * a.channels;
    const float* w = a.att + h * a.channels;
    float s = 0.0f;
    for (std::int64_t c = 0; c < a.channels; ++c) s += __ldg(f + c) * __ldg(w + c);
    a.score[t] = s;
  }
}

// One warp per row; lane l owns output features l, l + 32, ... and recomputes its head's
// softmax statistics itself (the scores are a few floats per edge), so no lane waits on another.
__global__ void __launch_bounds__(kBlockThreads) gat_aggregate_kernel(const GatAggregateArgs a) {
  const int lane = threadIdx.x % 32;
  const std::int64_t H = a.heads, C = a.channels;
  const std::int64_t out_w = a.concat ? H * C : C;
  const std::int64_t warps = static_cast<std::int64_t>(gridDim.x) * kWarps;
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(kWarps) + threadIdx.x / 32;
       i < a.rows; i += warps) {
    const std::int64_t begin = __ldg(a.row_offsets + i), end = __ldg(a.row_offsets + i + 1);
    for (std::int64_t f = lane; f < out_w; f += 32) {
      float out = 0.0f;
      for (std::int64_t h = a.concat ? f / C : 0; h < (a.concat ? f / C + 1 : H); ++h) {
        const std::int64_t c = a.concat ? f % C : f;
        const float sd = __ldg(a.s_dst + i * H + h);
        EdgeSoftmax m = edge_softmax_init();
        for (std::int64_t e = begin; e < end; ++e) {
          const std::int64_t j = __ldg(a.col_indices + e);
          m = edge_softmax_push(m, leaky_relu(__ldg(a.s_src + j * H + h) + sd, a.negative_slope));
        }
        float acc = 0.0f;
        for (std::int64_t e = begin; e < end; ++e) {
          const std::int64_t j = __ldg(a.col_indices + e);
          const float score = leaky_relu(__ldg(a.s_src + j * H + h) + sd, a.negative_slope);
          acc += edge_softmax_weight(m, score) * __ldg(a.feat + j * H * C + h * C + c);
        }
        out += acc;
      }
      if (!a.concat) out = mp_div(out, static_cast<float>(H));
      a.y[i * out_w + f] = mp_activate(a.act, out + (a.bias ? __ldg(a.bias + f) : 0.0f));
    }
  }
}

// ---------------------------------------------------------------- bioelectric

__global__ void __launch_bounds__(kBlockThreads) bio_step_kernel(const BioStepArgs a) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
       i < a.rows; i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const float v = __ldg(a.v_in + i);
    if (a.clamped && a.clamped[i]) {
      a.v_out[i] = v;
      continue;
    }
    float junction = 0.0f;
    const std::int64_t end = __ldg(a.row_offsets + i + 1);
    for (std::int64_t e = __ldg(a.row_offsets + i); e < end; ++e) {
      const float g = a.conductance ? __ldg(a.conductance + e) : 1.0f;
      junction += g * (__ldg(a.v_in + __ldg(a.col_indices + e)) - v);
    }
    a.v_out[i] = bio_step(v, junction, a.dt, a.leak, a.v_rest);
  }
}
}  // namespace

void graph_mp_cuda(const GraphMpArgs& a, Stream stream) {
  if (a.rows == 0 || a.width == 0) return;
  switch (a.agg) {
    case MpAgg::sum: mp_dispatch<MpAgg::sum>(a, stream); break;
    case MpAgg::mean: mp_dispatch<MpAgg::mean>(a, stream); break;
    case MpAgg::max: mp_dispatch<MpAgg::max>(a, stream); break;
    case MpAgg::min: mp_dispatch<MpAgg::min>(a, stream); break;
    case MpAgg::logsumexp: mp_dispatch<MpAgg::logsumexp>(a, stream); break;
  }
}

void gat_scores_cuda(const GatScoreArgs& a, Stream stream) {
  if (a.nodes == 0 || a.heads == 0) return;
  gat_scores_kernel<<<grid_blocks(a.nodes * a.heads, kBlockThreads), kBlockThreads, 0, stream>>>(a);
  MPE_CUDA_CHECK_LAUNCH();
}

void gat_aggregate_cuda(const GatAggregateArgs& a, Stream stream) {
  if (a.rows == 0 || a.heads == 0 || a.channels == 0) return;
  gat_aggregate_kernel<<<grid_blocks(a.rows, kWarps), kBlockThreads, 0, stream>>>(a);
  MPE_CUDA_CHECK_LAUNCH();
}

void bio_step_cuda(const BioStepArgs& a, Stream stream) {
  if (a.rows == 0) return;
  bio_step_kernel<<<grid_blocks(a.rows, kBlockThreads), kBlockThreads, 0, stream>>>(a);
  MPE_CUDA_CHECK_LAUNCH();
}

}  // namespace mpe::kernels
