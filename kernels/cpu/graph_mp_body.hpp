#pragma once
// The CPU body of graph_mp, included by kernels/cpu/graph_mp.cpp (baseline build) and by
// kernels/cpu/isa/graph_mp_x86_64_v3.cpp (AVX2 and FMA, with `kernels` renamed), which the
// baseline build calls when cpu_level() (kernels/cpu/cpu_level.hpp) picks that level.
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "graph_mp.hpp"

namespace mpe::kernels {

namespace graph_mp_detail {
// Below this much work one thread beats waking an OpenMP team.
constexpr std::int64_t kParallelWork = std::int64_t(1) << 17;

// Accumulators live in two plain float arrays (the aggregate or running max, and the log-sum-exp
// sums) so that the feature loops vectorise; the per-element rules are mp_step / mp_finish.
// `out` is a float row buffer used as y's row when y is not float32.
template <MpAgg K, bool kTypeVec, Storage S>
void mp_row(const GraphMpArgs& a, std::int64_t i, float* acc, float* sums, float* out) {
  using Feat = StorageTraits<S>;
  using T = typename Feat::T;
  constexpr bool kF32 = S == Storage::f32;
  constexpr bool kLse = K == MpAgg::logsumexp;
  const std::int64_t begin = a.row_offsets[i];
  const std::int64_t end = a.row_offsets[i + 1];
  const std::int64_t width = a.width;
  const MpAcc init = mp_init(K);
  for (std::int64_t f = 0; f < width; ++f) {
    acc[f] = init.a;
    if constexpr (kLse) sums[f] = init.s;
  }
  if constexpr (!kLse && !kTypeVec && kF32) {
    if (width == 1) {  // one feature: the running value stays in a register
      float r = init.a;
      const float* x = static_cast<const float*>(a.x);
      for (std::int64_t e = begin; e < end; ++e) {
        float w = a.weights ? a.weights[e] : 1.0f;
        if (a.edge_types) w *= a.type_weights[static_cast<std::int64_t>(a.edge_types[e]) * a.type_width];
        r = mp_step(K, MpAcc{r, 0.0f}, w * x[a.col_indices[e]]).a;
      }
      acc[0] = r;
    }
  }
  for (std::int64_t e = begin; e < end && !(!kLse && !kTypeVec && kF32 && width == 1); ++e) {
    float w = a.weights ? a.weights[e] : 1.0f;
    const float* tw = nullptr;
    if (a.edge_types) {
      tw = a.type_weights + static_cast<std::int64_t>(a.edge_types[e]) * a.type_width;
      if constexpr (!kTypeVec) w *= tw[0];
    }
    const T* x_row =
        static_cast<const T*>(a.x) + static_cast<std::int64_t>(a.col_indices[e]) * width;
    MPE_SIMD
    for (std::int64_t f = 0; f < width; ++f) {
      float v = w * Feat::load(x_row[f]);
      if constexpr (kTypeVec) v *= tw[f];
      if constexpr (kLse) {
        const MpAcc r = mp_step(K, MpAcc{acc[f], sums[f]}, v);
        acc[f] = r.a;
        sums[f] = r.s;
      } else {
        acc[f] = mp_step(K, MpAcc{acc[f], 0.0f}, v).a;
      }
    }
  }
  // UPDATE as mp_update computes it, act(self_scale·h + agg_scale·agg + bias), split into
  // loops without per-element branches so that they vectorise too.
  float* y_row = kF32 ? static_cast<float*>(a.y) + i * width : out;
  const std::int64_t degree = end - begin;
  for (std::int64_t f = 0; f < width; ++f) {
    y_row[f] = a.agg_scale * mp_finish(K, MpAcc{acc[f], kLse ? sums[f] : 0.0f}, degree);
  }
  if (a.self_scale != 0.0f) {
    const T* h = static_cast<const T*>(a.self) + i * width;
    for (std::int64_t f = 0; f < width; ++f) y_row[f] = a.self_scale * Feat::load(h[f]) + y_row[f];
  }
  if (a.bias) {
    for (std::int64_t f = 0; f < width; ++f) y_row[f] += a.bias[f];
  }
  switch (a.act) {
    case MpAct::none: break;
    case MpAct::relu:
      for (std::int64_t f = 0; f < width; ++f) y_row[f] = mp_activate(MpAct::relu, y_row[f]);
      break;
    default:
      for (std::int64_t f = 0; f < width; ++f) y_row[f] = mp_activate(a.act, y_row[f]);
  }
  if constexpr (!kF32) {
    T* y = static_cast<T*>(a.y) + i * width;
    for (std::int64_t f = 0; f < width; ++f) y[f] = Feat::store(y_row[f]);
  }
}

template <MpAgg K, bool kTypeVec, Storage S>
void mp_rows(const GraphMpArgs& a) {
  const std::int64_t nnz = a.row_offsets[a.rows];
#pragma omp parallel if ((nnz + a.rows) * a.width > kParallelWork)
  {
    std::vector<float> acc(static_cast<std::size_t>(a.width));
    std::vector<float> sums(K == MpAgg::logsumexp ? static_cast<std::size_t>(a.width) : 0);
    std::vector<float> out(S == Storage::f32 ? 0 : static_cast<std::size_t>(a.width));
#pragma omp for schedule(dynamic, 64)
    for (std::int64_t i = 0; i < a.rows; ++i) {
      mp_row<K, kTypeVec, S>(a, i, acc.data(), sums.data(), out.data());
    }
  }
}

// Gated sum of float32 (GraphMpArgs::gate): y = agg_scale · Σ [r > gate] r · edge_scale,
// r = w · x, and, when y2 is set, the same sum with edge_scale2 into y2 in the same pass.
inline void mp_row_gated(const GraphMpArgs& a, std::int64_t i, float* acc, float* acc2) {
  const std::int64_t begin = a.row_offsets[i], end = a.row_offsets[i + 1], W = a.width;
  const float* x = static_cast<const float*>(a.x);
  const bool two = a.y2 != nullptr;
  if (W == 1) {  // one feature: registers, no feature loop
    const float g = a.gate[0];
    float s1 = 0.0f, s2 = 0.0f;
    for (std::int64_t e = begin; e < end; ++e) {
      const float r = a.weights[e] * x[a.col_indices[e]];
      const float pass = static_cast<float>(r > g);  // branch-free: passing is data-dependent
      s1 += pass * (r * (a.edge_scale ? a.edge_scale[e] : 1.0f));
      if (two) s2 += pass * (r * (a.edge_scale2 ? a.edge_scale2[e] : 1.0f));
    }
    static_cast<float*>(a.y)[i] = a.agg_scale * s1;
    if (two) a.y2[i] = a.agg_scale * s2;
    return;
  }
  for (std::int64_t f = 0; f < W; ++f) acc[f] = acc2[f] = 0.0f;
  for (std::int64_t e = begin; e < end; ++e) {
    const float w = a.weights[e];
    const float s = a.edge_scale ? a.edge_scale[e] : 1.0f;
    const float s2 = a.edge_scale2 ? a.edge_scale2[e] : 1.0f;
    const float* xr = x + static_cast<std::int64_t>(a.col_indices[e]) * W;
    MPE_SIMD
    for (std::int64_t f = 0; f < W; ++f) {
      const float r = w * xr[f];
      const float pass = static_cast<float>(r > a.gate[f]);
      acc[f] += pass * (r * s);
      acc2[f] += pass * (r * s2);
    }
  }
  float* y = static_cast<float*>(a.y) + i * W;
  for (std::int64_t f = 0; f < W; ++f) y[f] = a.agg_scale * acc[f];
  if (two)
    for (std::int64_t f = 0; f < W; ++f) a.y2[i * W + f] = a.agg_scale * acc2[f];
}

inline void mp_rows_gated(const GraphMpArgs& a) {
  const std::int64_t nnz = a.row_offsets[a.rows];
#pragma omp parallel if ((nnz + a.rows) * a.width > kParallelWork)
  {
    std::vector<float> acc(static_cast<std::size_t>(a.width)), acc2(acc.size());
#pragma omp for schedule(dynamic, 64)
    for (std::int64_t i = 0; i < a.rows; ++i) mp_row_gated(a, i, acc.data(), acc2.data());
  }
}

template <MpAgg K, Storage S>
void mp_typed(const GraphMpArgs& a) {
  if (a.edge_types && a.type_width != 1) {
    mp_rows<K, true, S>(a);
  } else {
    mp_rows<K, false, S>(a);
  }
}

template <MpAgg K>
void mp_all(const GraphMpArgs& a) {
  switch (a.storage) {
    case Storage::bf16: mp_typed<K, Storage::bf16>(a); break;
    case Storage::f16: mp_typed<K, Storage::f16>(a); break;
    default: mp_typed<K, Storage::f32>(a);
  }
}
}  // namespace graph_mp_detail

inline void graph_mp_cpu_body(const GraphMpArgs& a) {
  using namespace graph_mp_detail;
  if (a.gate) {  // relevance's dense iteration
    if (a.agg != MpAgg::sum || a.storage != Storage::f32 || a.edge_types || !a.weights ||
        a.self_scale != 0.0f || a.bias || a.act != MpAct::none) {
      std::fprintf(stderr, "%s:%d: graph_mp's gate takes weights and a plain float32 sum\n",
                   __FILE__, __LINE__);
      std::abort();  // an internal caller's bug, not user input
    }
    return mp_rows_gated(a);
  }
  switch (a.agg) {
    case MpAgg::sum: mp_all<MpAgg::sum>(a); break;
    case MpAgg::mean: mp_all<MpAgg::mean>(a); break;
    case MpAgg::max: mp_all<MpAgg::max>(a); break;
    case MpAgg::min: mp_all<MpAgg::min>(a); break;
    case MpAgg::logsumexp: mp_all<MpAgg::logsumexp>(a); break;
  }
}

}  // namespace mpe::kernels
