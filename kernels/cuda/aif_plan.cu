// CUDA AIF-MP planning: the shared core (kernels/common/aif_core.hpp) run by one block per
// problem, the whole planning call (all iterations) in one launch. Rows of the dynamics
// (x_old, u) over x_new go to warps; column sums over x_old go to threads.
#include "aif_plan.hpp"
#include "common/aif_core.hpp"
#include "cuda/check.hpp"
#include "cuda/device_utils.cuh"

namespace mpe::kernels {

namespace {
constexpr int kThreads = 256;  // tuning: threads per problem (block)

// A row walked by one warp: lanes take every 32nd entry, butterfly shuffles combine them, so
// every lane ends with the row's result. Host bodies: see BlockExec.
struct WarpRow {
  std::int64_t len;
  int lane;

  template <class F>
  __host__ __device__ float max(const F& f) const {
    float m = kLogZero;
#ifdef __CUDA_ARCH__
    for (std::int64_t k = lane; k < len; k += 32) {
      const float v = f(k);
      m = v > m ? v : m;
    }
    m = cuda::warp_allreduce(m, cuda::GreaterOp{});
#else
    (void)f;
#endif
    return m;
  }
  template <class F>
  __host__ __device__ float sum(const F& f) const {
    float s = 0.0f;
#ifdef __CUDA_ARCH__
    for (std::int64_t k = lane; k < len; k += 32) s += f(k);
    s = cuda::warp_sum(s);
#else
    (void)f;
#endif
    return s;
  }
  template <class F>
  __host__ __device__ void each(const F& f) const {
    for (std::int64_t k = lane; k < len; k += 32) f(k);
  }
  template <class F>
  __host__ __device__ void once(const F& f) const {
    if (lane == 0) f();
  }
};

// Loops spread over the block's threads, each followed by a barrier. The host bodies exist
// only so that the shared __host__ __device__ core type-checks; they never run.
struct BlockExec {
  static constexpr bool kHostRows = false;  // the warp-row paths of AifCore

  float* reduce;   // kThreads floats of shared memory
  float* reduce2;  // another kThreads

  template <class F>
  __host__ __device__ void for_each(std::int64_t n, const F& f) const {
#ifdef __CUDA_ARCH__
    for (std::int64_t i = threadIdx.x; i < n; i += blockDim.x) f(i);
    __syncthreads();
#else
    (void)n;
    (void)f;
#endif
  }

  template <class F>
  __host__ __device__ void for_each_simd(std::int64_t n, const F& f) const {
    for_each(n, f);
  }

  // One warp per row (rows dealt round-robin to the block's warps).
  template <class Body>
  __host__ __device__ void for_each_row(std::int64_t rows, std::int64_t len,
                                        const Body& body) const {
#ifdef __CUDA_ARCH__
    const int warps = static_cast<int>(blockDim.x) / 32;
    WarpRow row{len, static_cast<int>(threadIdx.x) % 32};
    for (std::int64_t r = threadIdx.x / 32; r < rows; r += warps) body(row, r);
    __syncthreads();
#else
    (void)rows;
    (void)len;
    (void)body;
#endif
  }

  // Columns n over threads; when there are fewer columns than threads, `groups` threads share
  // a column (each takes every groups-th row) and their partial sums merge in shared memory.
  template <class RowC, class Term>
  __host__ __device__ void column_lse(std::int64_t rows, std::int64_t cols, const RowC& rowc,
                                      const Term& term, float* out, float*) const {
#ifdef __CUDA_ARCH__
    const std::int64_t nt = blockDim.x, tid = threadIdx.x;
    // One streaming pass (running max with rescaling): the step's rows are read from memory
    // once; the extra exps are cheap next to a second pass over HBM.
    auto partial = [&](std::int64_t n, std::int64_t first, std::int64_t step, float& m,
                       float& s) {
      LseAcc acc;
      for (std::int64_t r = first; r < rows; r += step) acc.push(term(r, n, rowc(r)));
      m = acc.m;
      s = acc.s;
    };
    if (cols <= nt) {
      const std::int64_t groups = nt / cols, g = tid / cols, n = tid % cols;
      float m = kLogZero, s = 0.0f;
      if (g < groups) partial(n, g, groups, m, s);
      reduce[tid] = m;
      reduce2[tid] = s;
      __syncthreads();
      if (tid < cols) {
        LseAcc acc;
        for (std::int64_t k = 0; k < groups; ++k) acc.merge(reduce[k * cols + tid], reduce2[k * cols + tid]);
        out[tid] = acc.result();
      }
    } else {
      for (std::int64_t n = tid; n < cols; n += nt) {
        float m, s;
        partial(n, 0, 1, m, s);
        out[n] = aif_lse_finish(m, s);
      }
    }
    __syncthreads();
#else
    (void)rows;
    (void)cols;
    (void)rowc;
    (void)term;
    (void)out;
#endif
  }

  __host__ __device__ float max_all(float v) const {
#ifdef __CUDA_ARCH__
    reduce[threadIdx.x] = v;
    __syncthreads();
    cuda::block_tree_reduce(static_cast<int>(blockDim.x),
                            [&](int dst, int src) { reduce[dst] = fmaxf(reduce[dst], reduce[src]); });
    const float r = reduce[0];
    __syncthreads();
    return r;
#else
    return v;
#endif
  }
};

// Four blocks per SM (64 registers): occupancy beats the few spills this costs (engine/
// CMakeLists.txt exempts this file from the spill check; numbers in bench/NOTES.md).
__global__ void __launch_bounds__(kThreads, 4)
    aif_plan_kernel(AifConfig cfg, const AifProblem* problems, float* workspace,
                    std::int64_t workspace_floats) {
  __shared__ float reduce[kThreads];
  __shared__ float reduce2[kThreads];
  const AifProblem p = problems[blockIdx.x];
  const BlockExec exec{reduce, reduce2};
  AifCore<BlockExec>(cfg, p, workspace + blockIdx.x * workspace_floats, exec).run();
}
}  // namespace

void aif_plan_cuda(const AifConfig& cfg, const AifProblem* problems, std::int64_t count,
                   float* workspace, Stream stream) {
  if (count == 0) return;
  aif_plan_kernel<<<static_cast<unsigned>(count), kThreads, 0, stream>>>(cfg, problems, workspace,
                                                                         aif_workspace_floats(cfg));
  MPE_CUDA_CHECK_LAUNCH();
}

}  // namespace mpe::kernels
