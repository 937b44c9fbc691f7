#pragma once
// Device helpers shared by every kernels/cuda/*.cu file (as ggml's common.cuh, FAISS's
// Reductions.cuh / LoadStoreOperators.cuh): warp and block reductions, vector and 16-bit element
// loads and stores, grid sizing and alignment tests. Needs nvcc; included by .cu files only.
// Each helper keeps the exact order of operations of the hand-written loops it replaced, so a
// kernel that switches to it computes the same bits.
#include <cstdint>

#include "common/storage.hpp"

namespace mpe::kernels::cuda {

constexpr unsigned kFullMask = 0xffffffffu;
// The most blocks a grid-stride kernel is launched with (grid.x; more blocks only add
// scheduling overhead once every SM is full many times over).
constexpr std::int64_t kMaxGridBlocks = 65535 * 8;

// ------------------------------------------------------------------ host: grids, alignment

// Blocks for `items` work items at `per_block` items a block, capped at kMaxGridBlocks (the
// kernels are grid-stride loops).
inline int grid_blocks(std::int64_t items, std::int64_t per_block) {
  const std::int64_t needed = (items + per_block - 1) / per_block;
  return static_cast<int>(needed < kMaxGridBlocks ? needed : kMaxGridBlocks);
}

// Whether p is a multiple of `bytes` (vector loads and stores need their natural alignment).
inline bool is_aligned(const void* p, std::uintptr_t bytes) {
  return reinterpret_cast<std::uintptr_t>(p) % bytes == 0;
}

// ------------------------------------------------------------------ reductions

struct SumOp {
  template <class T>
  __device__ __forceinline__ T operator()(T a, T b) const {
    return a + b;
  }
};
// fmaxf: a NaN operand loses to a number.
struct FmaxOp {
  __device__ __forceinline__ float operator()(float a, float b) const { return fmaxf(a, b); }
};
// Keeps a unless b is greater (a NaN in b never wins; one in a stays).
struct GreaterOp {
  template <class T>
  __device__ __forceinline__ T operator()(T a, T b) const {
    return b > a ? b : a;
  }
};

// Butterfly all-reduce over groups of W lanes (W a power of two <= 32), offsets W/2 down to 1:
// every lane of the group ends with op applied over the group's values.
template <int W = 32, class T, class Op>
__device__ __forceinline__ T warp_allreduce(T x, Op op) {
#pragma unroll
  for (int o = W / 2; o > 0; o >>= 1) x = op(x, __shfl_xor_sync(kFullMask, x, o, W));
  return x;
}
__device__ __forceinline__ float warp_sum(float x) { return warp_allreduce(x, SumOp{}); }
__device__ __forceinline__ float warp_max(float x) { return warp_allreduce(x, FmaxOp{}); }

// Block all-reduce of one value per thread (blockDim.x == THREADS, a multiple of 32): a warp
// butterfly, then the warp results combined in warp order. red: THREADS / 32 floats of shared
// memory, free on entry (the barrier before the write covers the previous call's readers).
template <int THREADS, class Op>
__device__ __forceinline__ float block_allreduce(float x, Op op, float* red) {
  x = warp_allreduce(x, op);
  __syncthreads();
  if ((threadIdx.x & 31) == 0) red[threadIdx.x >> 5] = x;
  __syncthreads();
  x = red[0];
  for (int w = 1; w < THREADS / 32; ++w) x = op(x, red[w]);
  return x;
}

// Tree reduction over n (a power of two) slots of shared memory, slot 0 ending with the result:
// combine(dst, src) folds slot src into slot dst, for dst < s, s = n/2 .. 1, a barrier after
// each level. The slots must be written (and a barrier passed) before the call.
template <class Combine>
__device__ __forceinline__ void block_tree_reduce(int n, const Combine& combine) {
  for (int s = n / 2; s > 0; s /= 2) {
    if (static_cast<int>(threadIdx.x) < s)
      combine(static_cast<int>(threadIdx.x), static_cast<int>(threadIdx.x) + s);
    __syncthreads();
  }
}

// ------------------------------------------------------------------ loads and stores

// VEC (1 or 4) consecutive floats through the read-only cache (16-byte loads for 4).
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

// VEC (1 or 4) consecutive elements of storage S at p as float32 (16-byte loads for 4 floats,
// 8-byte loads for 4 16-bit elements).
template <Storage S, int VEC>
__device__ __forceinline__ void load_vec(const void* p, float (&v)[VEC]) {
  using Tr = StorageTraits<S>;
  if constexpr (S == Storage::f32) {
    load_vec<VEC>(static_cast<const float*>(p), v);
  } else if constexpr (VEC == 4) {
    const uint2 q = __ldg(static_cast<const uint2*>(p));
    v[0] = Tr::load(static_cast<std::uint16_t>(q.x & 0xffffu));
    v[1] = Tr::load(static_cast<std::uint16_t>(q.x >> 16));
    v[2] = Tr::load(static_cast<std::uint16_t>(q.y & 0xffffu));
    v[3] = Tr::load(static_cast<std::uint16_t>(q.y >> 16));
  } else {
    v[0] = Tr::load(__ldg(static_cast<const unsigned short*>(p)));
  }
}

// Element i of storage S at p as float32, through the read-only cache.
template <Storage S>
__device__ __forceinline__ float load_elem(const void* p, std::int64_t i) {
  using T = typename StorageTraits<S>::T;
  return StorageTraits<S>::load(__ldg(static_cast<const T*>(p) + i));
}

// Stores x as element i of storage S at p (rounded to nearest even for 16-bit storage).
template <Storage S>
__device__ __forceinline__ void store_elem(void* p, std::int64_t i, float x) {
  using T = typename StorageTraits<S>::T;
  static_cast<T*>(p)[i] = StorageTraits<S>::store(x);
}

}  // namespace mpe::kernels::cuda
