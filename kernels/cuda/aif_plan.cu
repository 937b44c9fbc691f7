// CUDA AIF-MP planning: the shared core (kernels/common/aif_core.hpp) run by one block per
// problem, the whole planning call (all iterations) in one launch. Suits small and medium S
// (the block walks S·S·A work per step); a tiled contraction for large S is future work.
#include "aif_plan.hpp"
#include "common/aif_core.hpp"
#include "cuda/check.hpp"

namespace mpe::kernels {

namespace {
constexpr int kThreads = 256;  // tuning: threads per problem (block)

// Loops spread over the block's threads, each followed by a barrier. The host bodies exist
// only so that the shared __host__ __device__ core type-checks; they never run.
struct BlockExec {
  float* reduce;  // kThreads floats of shared memory

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

  __host__ __device__ float max_all(float v) const {
#ifdef __CUDA_ARCH__
    reduce[threadIdx.x] = v;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s /= 2) {
      if (static_cast<int>(threadIdx.x) < s) {
        reduce[threadIdx.x] = fmaxf(reduce[threadIdx.x], reduce[threadIdx.x + s]);
      }
      __syncthreads();
    }
    const float r = reduce[0];
    __syncthreads();
    return r;
#else
    return v;
#endif
  }
};

__global__ void __launch_bounds__(kThreads)
    aif_plan_kernel(AifConfig cfg, const AifProblem* problems, float* workspace,
                    std::int64_t workspace_floats) {
  __shared__ float reduce[kThreads];
  const AifProblem p = problems[blockIdx.x];
  const BlockExec exec{reduce};
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
