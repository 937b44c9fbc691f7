// CUDA kernels of the relevance engine. Seeding: cuBLAS (dense_linear) for the similarity
// product, then one block per query selects the top k in k passes (each pass finds the best
// node ranked after the previous pick). Propagation: every query keeps its frontier as a list;
// per iteration one launch pushes messages from all queries' frontier nodes (a warp per node,
// lanes over its weight-sorted out-edges, stopping at the first edge the gate stops), one
// launch updates the touched and frontier nodes and builds the next frontier, and one thread
// per query closes the iteration (convergence, swap). Sums use atomics, so the order of
// additions differs from the CPU twin's; the per-element math is the same
// (common/relevance_core.hpp).
#include <algorithm>
#include <cstdint>

#include "cuda/check.hpp"
#include "cuda/device_utils.cuh"
#include "graph_mp.hpp"  // dense_linear_cuda
#include "relevance.hpp"

namespace mpe::kernels {

namespace {
constexpr int kThreads = 256;       // tuning: threads per block (all kernels here)
constexpr int kBlocksPerQuery = 64; // tuning: grid.x of the per-iteration kernels
constexpr int kMaxGridY = 65535;

// Per-query counters in the workspace.
struct QueryState {
  std::int32_t fcount[2];  // frontier sizes (current = cur, next = 1 - cur)
  std::int32_t tcount;     // touched nodes this iteration
  std::int32_t cur;
  std::uint32_t delta;     // bits of max |Δa| (non-negative floats order like their bits)
  std::int32_t done;
  std::int32_t iterations;
  std::int32_t converged;
  unsigned long long messages;
};

// One query's slices of the workspace: its node arrays and its current and next frontiers.
struct QuerySlices {
  float* act;
  float* conf;
  float* agg;
  float* cnum;
  std::int32_t* stamp;
  std::int32_t* touched;
  std::int32_t* front;
  std::int32_t* next;
};

struct Workspace {
  float* act;
  float* conf;
  float* agg;
  float* cnum;
  std::int32_t* stamp;
  std::int32_t* frontier0;  // the two frontier lists (selected with a conditional, not an index:
  std::int32_t* frontier1;  // an indexed parameter array would be copied to local memory)
  __device__ std::int32_t* frontier(std::int32_t which) const { return which ? frontier1 : frontier0; }
  std::int32_t* touched;
  QueryState* state;
  // Query q's slices (N nodes a query), `cur` its current frontier.
  __device__ QuerySlices query(std::int64_t q, std::int64_t N, std::int32_t cur) const {
    const std::int64_t o = q * N;
    return {act + o,   conf + o,    agg + o,           cnum + o,
            stamp + o, touched + o, frontier(cur) + o, frontier(1 - cur) + o};
  }
};

std::size_t round_up(std::size_t b) { return (b + 255) / 256 * 256; }

Workspace carve(void* base, std::int64_t batch, std::int64_t nodes) {
  const std::size_t per = round_up(std::size_t(batch) * std::size_t(nodes) * 4);
  char* p = static_cast<char*>(base);
  Workspace w;
  w.act = reinterpret_cast<float*>(p);
  w.conf = reinterpret_cast<float*>(p + per);
  w.agg = reinterpret_cast<float*>(p + 2 * per);
  w.cnum = reinterpret_cast<float*>(p + 3 * per);
  w.stamp = reinterpret_cast<std::int32_t*>(p + 4 * per);
  w.frontier0 = reinterpret_cast<std::int32_t*>(p + 5 * per);
  w.frontier1 = reinterpret_cast<std::int32_t*>(p + 6 * per);
  w.touched = reinterpret_cast<std::int32_t*>(p + 7 * per);
  w.state = reinterpret_cast<QueryState*>(p + 8 * per);
  return w;
}

// ---------------------------------------------------------------- top-k

__global__ void __launch_bounds__(kThreads) topk_kernel(const RelevanceTopkArgs a) {
  __shared__ float s_val[kThreads];
  __shared__ std::int32_t s_idx[kThreads];
  const std::int64_t q = blockIdx.x;
  const float* sim = a.sim + q * a.nodes;
  const float th = a.threshold[q];
  const int k = a.k[q];
  float prev_v = INFINITY;
  std::int32_t prev_i = -1;
  int found = 0;
  for (; found < k; ++found) {
    float best_v = -INFINITY;
    std::int32_t best_i = -1;
    for (std::int64_t i = threadIdx.x; i < a.nodes; i += kThreads) {
      const float v = __ldg(sim + i);
      const auto ii = static_cast<std::int32_t>(i);
      if (!(v >= th)) continue;
      if (!rel_better(prev_v, prev_i, v, ii)) continue;  // ranked at or before the last pick
      if (best_i < 0 || rel_better(v, ii, best_v, best_i)) {
        best_v = v;
        best_i = ii;
      }
    }
    s_val[threadIdx.x] = best_v;
    s_idx[threadIdx.x] = best_i;
    __syncthreads();
    cuda::block_tree_reduce(kThreads, [&](int dst, int src) {
      const float ov = s_val[src];
      const std::int32_t oi = s_idx[src];
      if (oi >= 0 && (s_idx[dst] < 0 || rel_better(ov, oi, s_val[dst], s_idx[dst]))) {
        s_val[dst] = ov;
        s_idx[dst] = oi;
      }
    });
    prev_v = s_val[0];
    prev_i = s_idx[0];
    __syncthreads();  // everyone has read s_*[0] before the next pass writes
    if (prev_i < 0) break;
    if (threadIdx.x == 0) {
      a.seed_nodes[q * a.max_k + found] = prev_i;
      a.seed_sim[q * a.max_k + found] = prev_v;
    }
  }
  if (threadIdx.x == 0) a.seed_count[q] = found;
}

// ---------------------------------------------------------------- propagation

__global__ void __launch_bounds__(kThreads) init_kernel(const RelevancePropagateArgs a, Workspace w) {
  const std::int64_t q = blockIdx.y;
  const std::int64_t N = a.g.nodes;
  const std::int32_t count = a.seed_count[q];
  for (std::int32_t s = blockIdx.x * kThreads + threadIdx.x; s < count; s += gridDim.x * kThreads) {
    const std::int32_t i = a.seed_nodes[q * a.max_seeds + s];
    const float v = a.seed_act[q * a.max_seeds + s];
    w.act[q * N + i] = v;
    w.conf[q * N + i] = v;
    w.frontier0[q * N + s] = i;
  }
  if (blockIdx.x == 0 && threadIdx.x == 0) {
    QueryState& st = w.state[q];
    st.fcount[0] = count;
    st.fcount[1] = 0;
    st.tcount = 0;
    st.cur = 0;
    st.delta = 0;
    st.done = a.params[q].max_iterations <= 0;
    st.iterations = 0;
    st.converged = 0;
    st.messages = 0;
  }
}

// The per-iteration kernels' prologue: query blockIdx.y (grid.y = queries), skipped once done;
// body(state, params, slices) does the work.
template <class Body>
__device__ __forceinline__ void per_live_query(const RelevancePropagateArgs& a, const Workspace& w,
                                               Body body) {
  const std::int64_t q = blockIdx.y;
  QueryState& st = w.state[q];
  if (st.done) return;
  const RelevanceParams p = a.params[q];  // a copy: read once, not through the atomics
  body(st, p, w.query(q, a.g.nodes, st.cur));
}

__global__ void __launch_bounds__(kThreads)
    push_kernel(const RelevancePropagateArgs a, Workspace w, std::int32_t mark) {
  per_live_query(a, w, [&](QueryState& st, const RelevanceParams& p, const QuerySlices& s) {
    const RelevanceGraph& g = a.g;
    const std::int32_t fcount = st.fcount[st.cur];
    const int lane = threadIdx.x % 32;
    const std::int64_t warps = std::int64_t(gridDim.x) * (kThreads / 32);
    unsigned long long sent = 0;
    for (std::int64_t k = (std::int64_t(blockIdx.x) * kThreads + threadIdx.x) / 32; k < fcount;
         k += warps) {
      const std::int32_t j = s.front[k];
      const float aj = s.act[j];
      const std::int32_t lj = g.level ? __ldg(g.level + j) : 0;
      const std::int64_t end = __ldg(g.row_offsets + j + 1);
      for (std::int64_t base = __ldg(g.row_offsets + j); base < end; base += 32) {
        const std::int64_t e = base + lane;
        bool pass = false;
        if (e < end) {
          const std::int32_t i = __ldg(g.targets + e);
          const float tw =
              g.type_weights
                  ? __ldg(g.type_weights + std::int64_t(i) * g.num_types + __ldg(g.edge_types + e))
                  : 1.0f;
          const float ls =
              g.level ? rel_level_scale(lj, __ldg(g.level + i), p.up_scale, p.down_scale) : 1.0f;
          const float m = rel_message(aj, __ldg(g.weights + e), p.gate, tw, ls);
          if (m >= 0.0f) {
            pass = true;
            atomicAdd(s.agg + i, m);
            atomicAdd(s.cnum + i, m * __ldg(g.confidence + e));
            if (atomicExch(s.stamp + i, mark) != mark) s.touched[atomicAdd(&st.tcount, 1)] = i;
          }
        }
        const unsigned ballot = __ballot_sync(cuda::kFullMask, pass);
        sent += lane == 0 ? __popc(ballot) : 0;
        // Weights descend within a row: once an edge fails the gate, every later one does.
        if (__ballot_sync(cuda::kFullMask, e < end && !pass) != 0u) break;
      }
    }
    if (lane == 0 && sent) atomicAdd(&st.messages, sent);
  });
}

__global__ void __launch_bounds__(kThreads) update_kernel(const RelevancePropagateArgs a, Workspace w,
                                                          std::int32_t mark) {
  per_live_query(a, w, [&](QueryState& st, const RelevanceParams& p, const QuerySlices& s) {
    const RelevanceGraph& g = a.g;
    const std::int32_t cur = st.cur;
    const std::int32_t fcount = st.fcount[cur], tcount = st.tcount;
    float delta = 0.0f;
    for (std::int64_t k = std::int64_t(blockIdx.x) * kThreads + threadIdx.x; k < tcount + fcount;
         k += std::int64_t(gridDim.x) * kThreads) {
      std::int32_t i;
      float v;
      if (k < tcount) {
        i = s.touched[k];
        const float old = s.act[i];
        const float ag = s.agg[i];
        v = rel_update(old, true, ag, __ldg(g.residual + i), __ldg(g.decay + i),
                       __ldg(g.threshold + i), p.prop_threshold);
        s.conf[i] = v > 0.0f ? rel_confidence(s.cnum[i], ag, s.conf[i]) : 0.0f;
        s.agg[i] = 0.0f;
        s.cnum[i] = 0.0f;
        delta = fmaxf(delta, fabsf(v - old));
      } else {
        i = s.front[k - tcount];
        if (s.stamp[i] == mark) continue;  // received messages: updated above
        const float old = s.act[i];
        v = rel_update(old, false, 0.0f, __ldg(g.residual + i), __ldg(g.decay + i),
                       __ldg(g.threshold + i), p.prop_threshold);
        if (!(v > 0.0f)) s.conf[i] = 0.0f;
        delta = fmaxf(delta, fabsf(v - old));
      }
      s.act[i] = v;
      if (v > 0.0f) s.next[atomicAdd(&st.fcount[1 - cur], 1)] = i;
    }
    // Block maximum of delta, then one atomic per block.
    delta = cuda::warp_max(delta);
    if (threadIdx.x % 32 == 0 && delta > 0.0f) atomicMax(&st.delta, __float_as_uint(delta));
  });
}

__global__ void finish_kernel(const RelevancePropagateArgs a, Workspace w, std::int32_t t) {
  const std::int64_t q = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (q >= a.batch) return;
  QueryState& st = w.state[q];
  if (st.done) return;
  st.iterations = t;
  st.fcount[st.cur] = 0;
  st.cur = 1 - st.cur;
  st.tcount = 0;
  const float delta = __uint_as_float(st.delta);
  st.delta = 0;
  if (delta < a.params[q].tolerance) {
    st.converged = 1;
    st.done = 1;
  } else if (t >= a.params[q].max_iterations) {
    st.done = 1;
  }
}

__global__ void __launch_bounds__(kThreads) output_kernel(const RelevancePropagateArgs a, Workspace w) {
  const std::int64_t q = blockIdx.y;
  const QueryState& st = w.state[q];
  const std::int64_t N = a.g.nodes;
  const std::int32_t* front = w.frontier(st.cur) + q * N;
  const std::int32_t count = st.fcount[st.cur];
  for (std::int64_t k = std::int64_t(blockIdx.x) * kThreads + threadIdx.x; k < count;
       k += std::int64_t(gridDim.x) * kThreads) {
    const std::int32_t i = front[k];
    a.out_nodes[q * N + k] = i;
    a.out_act[q * N + k] = w.act[q * N + i];
    a.out_conf[q * N + k] = w.conf[q * N + i];
  }
  if (blockIdx.x == 0 && threadIdx.x == 0) {
    a.out_count[q] = count;
    a.iterations[q] = st.iterations;
    a.converged[q] = st.converged;
    a.messages[q] = static_cast<std::int64_t>(st.messages);
  }
}
}  // namespace

void relevance_similarity_cuda(const RelevanceSimilarityArgs& a, Stream stream,
                               cublasContext* handle) {
  DenseLinearArgs d;
  d.x = a.queries;
  d.w = a.embeddings;
  d.y = a.sim;
  d.n = a.batch;
  d.k = a.dim;
  d.m = a.nodes;
  dense_linear_cuda(d, stream, handle);
}

void relevance_topk_cuda(const RelevanceTopkArgs& a, Stream stream) {
  if (a.batch == 0) return;
  topk_kernel<<<static_cast<unsigned>(a.batch), kThreads, 0, stream>>>(a);
  MPE_CUDA_CHECK_LAUNCH();
}

void relevance_propagate_cuda(const RelevancePropagateArgs& a, Stream stream) {
  if (a.batch == 0 || a.g.nodes == 0) return;
  if (a.batch > kMaxGridY) {
    throw Error(ErrorCode::invalid_argument, "relevance_propagate_cuda: batch exceeds 65535");
  }
  const Workspace w = carve(a.workspace, a.batch, a.g.nodes);
  // act, conf, agg, cnum and stamp start at zero (5 consecutive arrays).
  const std::size_t per = round_up(std::size_t(a.batch) * std::size_t(a.g.nodes) * 4);
  MPE_CUDA_CHECK(cudaMemsetAsync(a.workspace, 0, 5 * per, stream));
  const std::int32_t max_iter = a.max_iterations;
  const dim3 grid(kBlocksPerQuery, static_cast<unsigned>(a.batch));
  init_kernel<<<dim3(1, static_cast<unsigned>(a.batch)), kThreads, 0, stream>>>(a, w);
  MPE_CUDA_CHECK_LAUNCH();
  const unsigned fin_blocks = static_cast<unsigned>((a.batch + kThreads - 1) / kThreads);
  for (std::int32_t t = 1; t <= max_iter; ++t) {
    push_kernel<<<grid, kThreads, 0, stream>>>(a, w, t);
    MPE_CUDA_CHECK_LAUNCH();
    update_kernel<<<grid, kThreads, 0, stream>>>(a, w, t);
    MPE_CUDA_CHECK_LAUNCH();
    finish_kernel<<<fin_blocks, kThreads, 0, stream>>>(a, w, t);
    MPE_CUDA_CHECK_LAUNCH();
  }
  output_kernel<<<grid, kThreads, 0, stream>>>(a, w);
  MPE_CUDA_CHECK_LAUNCH();
}

}  // namespace mpe::kernels
