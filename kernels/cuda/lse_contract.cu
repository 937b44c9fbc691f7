// CUDA batched log-space contraction. A group of G lanes (G = 4..32, a power of two chosen
// from the row length) reduces one (b, i) row: each lane streams a strided slice of j through
// an LseAcc in chunks (one max, then one exp per term), then the group merges partial
// (max, sum) pairs with shuffles. Deterministic: the
// order of operations depends only on the shape.
#include "common/logspace.hpp"
#include "cuda/check.hpp"
#include "cuda/device_utils.cuh"
#include "lse_contract.hpp"

namespace mpe::kernels {

namespace {
constexpr int kBlockThreads = 256;  // tuning: threads per block
constexpr int kChunk = 8;           // tuning: terms per lane per LseAcc::push_chunk

template <int G>
__global__ void __launch_bounds__(kBlockThreads)
    lse_contract_kernel(const float* __restrict__ M, const float* __restrict__ x,
                        float* __restrict__ y, std::int64_t batch, std::int64_t rows,
                        std::int64_t cols, bool shared_matrix) {
  const std::int64_t total = batch * rows;
  constexpr int kGroupsPerWarp = 32 / G;
  const int lane = threadIdx.x % G;
  const int group_in_warp = (threadIdx.x % 32) / G;
  const std::int64_t grid_stride = static_cast<std::int64_t>(gridDim.x) * (kBlockThreads / G);
  // The loop bound is uniform across each warp, so every lane reaches the shuffles.
  // 32-bit index math when it fits: 64-bit division is a long instruction sequence per row.
  const bool narrow = total <= 0xffffffffll;
  for (std::int64_t warp_row = static_cast<std::int64_t>(blockIdx.x) * (kBlockThreads / G) +
                               (threadIdx.x / 32) * kGroupsPerWarp;
       warp_row < total; warp_row += grid_stride) {
    const std::int64_t r = warp_row + group_in_warp;
    const bool active = r < total;
    LseAcc acc;
    if (active) {
      const std::int64_t b = narrow ? static_cast<std::int64_t>(static_cast<std::uint32_t>(r) /
                                                                static_cast<std::uint32_t>(rows))
                                    : r / rows;
      const std::int64_t i = r - b * rows;
      const float* m_row = M + ((shared_matrix ? 0 : b * rows) + i) * cols;
      const float* x_row = x + b * cols;
      // Each lane takes kChunk terms G apart (coalesced across the group) per step.
      for (std::int64_t j0 = lane; j0 < cols; j0 += static_cast<std::int64_t>(G) * kChunk) {
        float v[kChunk];
#pragma unroll
        for (int k = 0; k < kChunk; ++k) {
          const std::int64_t j = j0 + static_cast<std::int64_t>(k) * G;
          v[k] = j < cols ? __ldg(m_row + j) + __ldg(x_row + j) : kLogZero;
        }
        acc.push_chunk(v);
      }
    }
#pragma unroll
    for (int offset = G / 2; offset > 0; offset /= 2) {
      const float om = __shfl_xor_sync(cuda::kFullMask, acc.m, offset, G);
      const float os = __shfl_xor_sync(cuda::kFullMask, acc.s, offset, G);
      acc.merge(om, os);
    }
    if (active && lane == 0) y[r] = acc.result();
  }
}

template <int G>
void launch(const LseContractArgs& a, Stream stream) {
  const int blocks = cuda::grid_blocks(a.batch * a.rows, kBlockThreads / G);
  lse_contract_kernel<G><<<blocks, kBlockThreads, 0, stream>>>(a.M, a.x, a.y, a.batch, a.rows,
                                                               a.cols, a.shared_matrix);
  MPE_CUDA_CHECK_LAUNCH();
}
}  // namespace

void lse_contract_cuda(const LseContractArgs& a, Stream stream) {
  if (a.batch * a.rows == 0) return;
  // Group size: the largest power of two in [4, 32] that still gives every lane at least two
  // chunks of terms, so the shuffle reduction is amortised over enough work.
  if (a.cols >= 32 * 2 * kChunk) {
    launch<32>(a, stream);
  } else if (a.cols >= 16 * 2 * kChunk) {
    launch<16>(a, stream);
  } else if (a.cols >= 8 * 2 * kChunk) {
    launch<8>(a, stream);
  } else {
    launch<4>(a, stream);
  }
}

}  // namespace mpe::kernels
