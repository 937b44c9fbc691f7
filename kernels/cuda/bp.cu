// Loopy belief propagation on CUDA: one flooding sweep = the var step (a thread per instance
// and variable) then the factor step, edge-parallel and grouped by shape: a thread per binary
// pairwise factor (both messages in registers; 32 factors per warp) and a thread per edge of
// every other factor (raw messages through the scratch buffer). The per-instance max change
// is warp-reduced, then atomicMax'ed on its bits (non-negative floats order as integers).
#include "bp.hpp"
#include "cuda/check.hpp"
#include "cuda/device_utils.cuh"

namespace mpe::kernels {
namespace {

constexpr int kBlock = 256;

__device__ __forceinline__ void atomic_max_change(float* p, float c) {
  atomicMax(reinterpret_cast<int*>(p), __float_as_int(c));
}
__device__ __forceinline__ void atomic_max_change(double* p, double c) {
  atomicMax(reinterpret_cast<unsigned long long*>(p),
            static_cast<unsigned long long>(__double_as_longlong(c)));
}

// Warp max of c when the whole warp works on one instance, else one atomic per thread.
template <class T>
__device__ __forceinline__ void report_change(T* change, std::int64_t b, bool valid, T c) {
  const unsigned full = cuda::kFullMask;
  const long long b0 = __shfl_sync(full, static_cast<long long>(b), 0);
  const bool uniform = __all_sync(full, !valid || b == b0);
  if (uniform) {
    c = cuda::warp_allreduce(c, cuda::GreaterOp{});
    const bool any_valid = __any_sync(full, valid);
    if ((threadIdx.x & 31) == 0 && any_valid && c > 0) atomic_max_change(change + b0, c);
  } else if (valid && c > 0) {
    atomic_max_change(change + b, c);
  }
}

template <class T>
__global__ void __launch_bounds__(kBlock) var_kernel(const BpArgs<T> a) {
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * kBlock + threadIdx.x;
  if (i >= static_cast<std::int64_t>(a.batch) * a.num_vars) return;
  const std::int64_t b = i / a.num_vars;
  const auto v = static_cast<std::int32_t>(i - b * a.num_vars);
  if (!a.active[b]) return;
  const std::int32_t* ev = a.evidence ? a.evidence + b * a.num_vars : nullptr;
  bp_var_step(a, a.r + b * a.msg_len, a.q + b * a.msg_len, ev, v);
}

// A thread per (instance b, item k) of `count` items per instance: c = item(b, k), the change
// of its messages, for the active instances; the warp then reports the changes.
template <class T, class Item>
__device__ __forceinline__ void for_each_item(const BpArgs<T>& a, std::int64_t count, Item item) {
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * kBlock + threadIdx.x;
  const bool in_range = i < static_cast<std::int64_t>(a.batch) * count;
  const std::int64_t b = in_range ? i / count : 0;
  const bool valid = in_range && a.active[b] != 0;
  const T c = valid ? item(b, i - b * count) : T(0);
  report_change(a.change, b, valid, c);
}

template <class T, bool kMax>
__global__ void __launch_bounds__(kBlock) pair2_kernel(const BpArgs<T> a) {
  for_each_item(a, a.num_pair2, [&a](std::int64_t b, std::int64_t k) {
    const std::int32_t f = a.pair2_factors[k];
    const std::int32_t e0 = a.factor_edge_off[f];
    const T* tab = a.log_pot + b * a.pot_stride + a.factor_tab_off[f];
    const T* q = a.q + b * a.msg_len;
    T* r = a.r + b * a.msg_len;
    const std::int64_t o0 = a.edge_msg_off[e0];
    const std::int64_t o1 = a.edge_msg_off[e0 + 1];
    const T q0[2] = {q[o0], q[o0 + 1]};
    const T q1[2] = {q[o1], q[o1 + 1]};
    T r0[2] = {r[o0], r[o0 + 1]};
    T r1[2] = {r[o1], r[o1 + 1]};
    T c0, c1;
    if (a.damping == 0) {  // to the first variable (stride 1), then the second (stride 2)
      c0 = bp_pair2_undamped<T, kMax>(tab, 1, 2, q1, r0);
      c1 = bp_pair2_undamped<T, kMax>(tab, 2, 1, q0, r1);
    } else {
      T raw[2];
      bp_pair_raw<T, kMax>(tab, 1, 2, 2, 2, q1, raw);
      c0 = bp_finish(raw, r0, 2, a.damping);
      bp_pair_raw<T, kMax>(tab, 2, 2, 1, 2, q0, raw);
      c1 = bp_finish(raw, r1, 2, a.damping);
    }
    r[o0] = r0[0];
    r[o0 + 1] = r0[1];
    r[o1] = r1[0];
    r[o1 + 1] = r1[1];
    return c0 > c1 ? c0 : c1;
  });
}

template <class T, bool kMax>
__global__ void __launch_bounds__(kBlock) edge_kernel(const BpArgs<T> a) {
  for_each_item(a, a.num_other, [&a](std::int64_t b, std::int64_t k) {
    const std::int32_t e = a.other_edges[k];
    const std::int64_t o = b * a.msg_len + a.edge_msg_off[e];
    bp_factor_raw<T, kMax>(a, a.log_pot + b * a.pot_stride, a.q + b * a.msg_len, e,
                           a.scratch + o);
    return bp_finish(a.scratch + o, a.r + o, a.card[a.edge_var[e]], a.damping);
  });
}

// One launch of `kernel` with a thread per (instance, item); nothing when there are no items.
template <class T>
void launch(void (*kernel)(BpArgs<T>), std::int64_t items, const BpArgs<T>& a, Stream stream) {
  if (items <= 0) return;
  const std::int64_t threads = std::int64_t{a.batch} * items;
  kernel<<<static_cast<unsigned>((threads + kBlock - 1) / kBlock), kBlock, 0, stream>>>(a);
  MPE_CUDA_CHECK_LAUNCH();
}

template <class T>
void sweep(const BpArgs<T>& a, int steps, Stream stream) {
  if (a.batch == 0) return;
  if (steps & kBpVarStep) launch(&var_kernel<T>, a.num_vars, a, stream);
  if (steps & kBpFactorStep) {
    MPE_CUDA_CHECK(cudaMemsetAsync(a.change, 0, sizeof(T) * static_cast<std::size_t>(a.batch),
                                   stream));
    const bool mx = a.max_product;
    launch(mx ? &pair2_kernel<T, true> : &pair2_kernel<T, false>, a.num_pair2, a, stream);
    launch(mx ? &edge_kernel<T, true> : &edge_kernel<T, false>, a.num_other, a, stream);
  }
}

}  // namespace

void bp_sweep_cuda(const BpArgs<float>& a, int steps, Stream stream) { sweep(a, steps, stream); }
void bp_sweep_cuda(const BpArgs<double>& a, int steps, Stream stream) { sweep(a, steps, stream); }

}  // namespace mpe::kernels
