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
template <MpAgg K, bool kTypeVec, Storage S, bool kGate = false>
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
  for (std::int64_t e = begin; e < end; ++e) {
    float w = a.weights ? a.weights[e] : 1.0f;
    [[maybe_unused]] const float w_raw = w;
    [[maybe_unused]] const float scale = kGate && a.edge_scale ? a.edge_scale[e] : 1.0f;
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
      if constexpr (kGate) {
        const float rel = w_raw * Feat::load(x_row[f]);
        v = rel > a.gate[f] ? rel * scale : 0.0f;
      }
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

template <MpAgg K, bool kTypeVec, Storage S, bool kGate = false>
void mp_rows(const GraphMpArgs& a) {
  const std::int64_t nnz = a.row_offsets[a.rows];
#pragma omp parallel if ((nnz + a.rows) * a.width > kParallelWork)
  {
    std::vector<float> acc(static_cast<std::size_t>(a.width));
    std::vector<float> sums(K == MpAgg::logsumexp ? static_cast<std::size_t>(a.width) : 0);
    std::vector<float> out(S == Storage::f32 ? 0 : static_cast<std::size_t>(a.width));
#pragma omp for schedule(dynamic, 64)
    for (std::int64_t i = 0; i < a.rows; ++i) {
      mp_row<K, kTypeVec, S, kGate>(a, i, acc.data(), sums.data(), out.data());
    }
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
  if (a.gate) {  // only relevance's dense iteration sets it
    if (a.agg != MpAgg::sum || a.storage != Storage::f32 || a.edge_types) {
      std::fprintf(stderr, "%s:%d: graph_mp gate needs sum, float32, no edge types\n",
                   __FILE__, __LINE__);
      std::abort();  // an internal caller's bug, not user input
    }
    return mp_rows<MpAgg::sum, false, Storage::f32, true>(a);
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
