// CUDA kernels of the sentence encoder's glue (kernels/text_encoder.hpp). LayerNorm: a warp per
// token row (two passes over the row, which stays in L1). Heads: a thread per element, grid-
// stride. Pooling: a block per sentence, threads over the hidden width, then one block sum of
// squares for the norm. Conversion to the 16-bit GEMM operands: a thread per element.
// Per-element math: common/text_encoder.hpp, as on the CPU.
#include <cstdint>

#include "common/text_encoder.hpp"
#include "cuda/check.hpp"
#include "cuda/device_utils.cuh"
#include "text_encoder.hpp"

namespace mpe::kernels {

namespace {
constexpr int kThreads = 256;  // tuning: threads per block (every kernel here)
constexpr int kRowsPerBlock = kThreads / 32;

__global__ void __launch_bounds__(kThreads) layer_norm_kernel(TextLayerNormArgs a) {
  const int lane = static_cast<int>(threadIdx.x & 31);
  const std::int64_t h = a.h;
  for (std::int64_t r = blockIdx.x * static_cast<std::int64_t>(kRowsPerBlock) + (threadIdx.x >> 5);
       r < a.rows.n; r += static_cast<std::int64_t>(gridDim.x) * kRowsPerBlock) {
    float* v = a.x + r * h;
    if (a.word) {
      const float* we = a.word + static_cast<std::int64_t>(__ldg(a.rows.ids + r)) * h;
      const float* pe = a.position + static_cast<std::int64_t>(__ldg(a.rows.pos + r)) * h;
      const float* te = a.type + static_cast<std::int64_t>(__ldg(a.rows.types + r)) * h;
      for (std::int64_t j = lane; j < h; j += 32) v[j] = __ldg(we + j) + __ldg(pe + j) + __ldg(te + j);
      __syncwarp();
    }
    float s = 0.0f;
    for (std::int64_t j = lane; j < h; j += 32) s += v[j];
    const float mean = cuda::warp_sum(s) / static_cast<float>(h);
    float q = 0.0f;
    for (std::int64_t j = lane; j < h; j += 32) q += (v[j] - mean) * (v[j] - mean);
    const float inv = text_inv_std(cuda::warp_sum(q) / static_cast<float>(h), a.eps);
    for (std::int64_t j = lane; j < h; j += 32)
      v[j] = text_layer_norm(v[j], mean, inv, __ldg(a.gamma + j), __ldg(a.beta + j));
  }
}

__global__ void __launch_bounds__(kThreads) heads_kernel(TextHeadsArgs a) {
  const std::int64_t D = a.head_dim, H = a.heads * D, L = a.rows.length;
  const std::int64_t total = a.rows.n * H;
  for (std::int64_t t = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; t < total;
       t += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t r = t / H, c = t % H, h = c / D, d = c % D;
    const std::int64_t cell =
        ((static_cast<std::int64_t>(__ldg(a.rows.sent + r)) * a.heads + h) * L +
         __ldg(a.rows.pos + r)) * D + d;
    if (a.merge) {
      a.q[t] = __ldg(a.src + cell);
    } else {
      const float* row = a.src + r * 3 * H + c;
      a.q[cell] = __ldg(row);
      a.k[cell] = __ldg(row + H);
      a.v[cell] = __ldg(row + 2 * H);
    }
  }
}

__global__ void __launch_bounds__(kThreads) pool_kernel(TextPoolArgs a) {
  __shared__ float red[kThreads / 32];
  const std::int64_t b = blockIdx.x, h = a.h, L = a.rows.length;
  const std::int64_t r0 = a.rows.off[b], r1 = a.rows.off[b + 1];
  float count = 0.0f;
  for (std::int64_t r = r0; r < r1; ++r) {
    const std::int64_t l = __ldg(a.rows.pos + r);
    if (__ldg(a.mask + b * L + l) && !(a.cls && l > 0)) count += 1.0f;
  }
  float sq = 0.0f;
  for (std::int64_t j = threadIdx.x; j < h; j += kThreads) {
    float s = 0.0f;
    for (std::int64_t r = r0; r < r1; ++r) {
      const std::int64_t l = __ldg(a.rows.pos + r);
      if (__ldg(a.mask + b * L + l) && !(a.cls && l > 0)) s += __ldg(a.x + r * h + j);
    }
    a.out[b * h + j] = s;
    sq += s * s;
  }
  const float scale = text_pool_scale(count, cuda::block_allreduce<kThreads>(sq, cuda::SumOp{}, red),
                                      a.normalize);
  for (std::int64_t j = threadIdx.x; j < h; j += kThreads) a.out[b * h + j] *= scale;
}
template <Storage S>
__global__ void __launch_bounds__(kThreads) convert_kernel(TextConvertArgs a) {
  auto* d = static_cast<typename StorageTraits<S>::T*>(a.dst);
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
       i < a.count; i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
    d[i] = StorageTraits<S>::store(__ldg(a.src + i));
}
}  // namespace

void text_convert_cuda(const TextConvertArgs& a, Stream stream) {
  if (a.count == 0) return;
  const int blocks = cuda::grid_blocks(a.count, kThreads);
  switch (a.store) {
    case Storage::bf16:
      convert_kernel<Storage::bf16><<<blocks, kThreads, 0, stream>>>(a);
      break;
    case Storage::f16:
      convert_kernel<Storage::f16><<<blocks, kThreads, 0, stream>>>(a);
      break;
    case Storage::f32:
      convert_kernel<Storage::f32><<<blocks, kThreads, 0, stream>>>(a);
      break;
  }
  MPE_CUDA_CHECK_LAUNCH();
}

void text_layer_norm_cuda(const TextLayerNormArgs& a, Stream stream) {
  if (a.rows.n == 0) return;
  layer_norm_kernel<<<cuda::grid_blocks(a.rows.n, kRowsPerBlock), kThreads, 0, stream>>>(a);
  MPE_CUDA_CHECK_LAUNCH();
}

void text_heads_cuda(const TextHeadsArgs& a, Stream stream) {
  if (a.rows.n == 0) return;
  heads_kernel<<<cuda::grid_blocks(a.rows.n * a.heads * a.head_dim, kThreads), kThreads, 0,
                 stream>>>(a);
  MPE_CUDA_CHECK_LAUNCH();
}

void text_pool_cuda(const TextPoolArgs& a, Stream stream) {
  if (a.rows.batch == 0) return;
  if (a.rows.batch > 0x7fffffff)
    throw Error(ErrorCode::not_supported, "text_pool_cuda: more than 2^31 - 1 sentences");
  pool_kernel<<<static_cast<unsigned>(a.rows.batch), kThreads, 0, stream>>>(a);
  MPE_CUDA_CHECK_LAUNCH();
}

}  // namespace mpe::kernels
