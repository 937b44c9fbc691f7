// CPU twins of the message-passing ops: OpenMP over rows (or nodes), each output element
// reduced in edge order, the same per-element math as the CUDA kernels.
#include <algorithm>
#include <vector>

#include "graph_mp.hpp"

namespace mpe::kernels {

namespace {
// Below this much work one thread beats waking an OpenMP team.
constexpr std::int64_t kParallelWork = std::int64_t(1) << 17;

// Accumulators live in two plain float arrays (the aggregate or running max, and the log-sum-exp
// sums) so that the feature loops vectorise; the per-element rules are mp_step / mp_finish.
template <MpAgg K, bool kTypeVec>
void mp_row(const GraphMpArgs& a, std::int64_t i, float* acc, float* sums) {
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
    const float* tw = nullptr;
    if (a.edge_types) {
      tw = a.type_weights + static_cast<std::int64_t>(a.edge_types[e]) * a.type_width;
      if constexpr (!kTypeVec) w *= tw[0];
    }
    const float* x_row = a.x + static_cast<std::int64_t>(a.col_indices[e]) * width;
    MPE_SIMD
    for (std::int64_t f = 0; f < width; ++f) {
      float v = w * x_row[f];
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
  float* y_row = a.y + i * width;
  const std::int64_t degree = end - begin;
  for (std::int64_t f = 0; f < width; ++f) {
    y_row[f] = a.agg_scale * mp_finish(K, MpAcc{acc[f], kLse ? sums[f] : 0.0f}, degree);
  }
  if (a.self_scale != 0.0f) {
    const float* h = a.self + i * width;
    for (std::int64_t f = 0; f < width; ++f) y_row[f] = a.self_scale * h[f] + y_row[f];
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
}

template <MpAgg K, bool kTypeVec>
void mp_rows(const GraphMpArgs& a) {
  const std::int64_t nnz = a.row_offsets[a.rows];
#pragma omp parallel if ((nnz + a.rows) * a.width > kParallelWork)
  {
    std::vector<float> acc(static_cast<std::size_t>(a.width));
    std::vector<float> sums(K == MpAgg::logsumexp ? static_cast<std::size_t>(a.width) : 0);
#pragma omp for schedule(dynamic, 64)
    for (std::int64_t i = 0; i < a.rows; ++i) mp_row<K, kTypeVec>(a, i, acc.data(), sums.data());
  }
}

template <MpAgg K>
void mp_all(const GraphMpArgs& a) {
  if (a.edge_types && a.type_width != 1) {
    mp_rows<K, true>(a);
  } else {
    mp_rows<K, false>(a);
  }
}
}  // namespace

void graph_mp_cpu(const GraphMpArgs& a) {
  switch (a.agg) {
    case MpAgg::sum: mp_all<MpAgg::sum>(a); break;
    case MpAgg::mean: mp_all<MpAgg::mean>(a); break;
    case MpAgg::max: mp_all<MpAgg::max>(a); break;
    case MpAgg::min: mp_all<MpAgg::min>(a); break;
    case MpAgg::logsumexp: mp_all<MpAgg::logsumexp>(a); break;
  }
}

void gat_scores_cpu(const GatScoreArgs& a) {
  const std::int64_t hc = a.heads * a.channels;
#pragma omp parallel for if (a.nodes * hc > kParallelWork)
  for (std::int64_t n = 0; n < a.nodes; ++n) {
    for (std::int64_t h = 0; h < a.heads; ++h) {
      float s = 0.0f;
      for (std::int64_t c = 0; c < a.channels; ++c) {
        s += a.feat[n * hc + h * a.channels + c] * a.att[h * a.channels + c];
      }
      a.score[n * a.heads + h] = s;
    }
  }
}

void gat_aggregate_cpu(const GatAggregateArgs& a) {
  const std::int64_t H = a.heads, C = a.channels, hc = H * C;
  const std::int64_t out_w = a.concat ? hc : C;
  const std::int64_t nnz = a.row_offsets[a.rows];
#pragma omp parallel if ((nnz + a.rows) * hc > kParallelWork)
  {
    std::vector<float> acc(static_cast<std::size_t>(hc));
#pragma omp for schedule(dynamic, 64)
    for (std::int64_t i = 0; i < a.rows; ++i) {
      const std::int64_t begin = a.row_offsets[i], end = a.row_offsets[i + 1];
      std::fill(acc.begin(), acc.end(), 0.0f);
      for (std::int64_t h = 0; h < H; ++h) {
        const float sd = a.s_dst[i * H + h];
        MpAcc m = mp_init(MpAgg::logsumexp);  // the softmax denominator, max-shifted
        for (std::int64_t e = begin; e < end; ++e) {
          const std::int64_t j = a.col_indices[e];
          m = mp_step(MpAgg::logsumexp, m, leaky_relu(a.s_src[j * H + h] + sd, a.negative_slope));
        }
        float* acc_h = acc.data() + h * C;
        for (std::int64_t e = begin; e < end; ++e) {
          const std::int64_t j = a.col_indices[e];
          const float score = leaky_relu(a.s_src[j * H + h] + sd, a.negative_slope);
          const float alpha = mp_div(expf(score - m.a), m.s);
          const float* fj = a.feat + j * hc + h * C;
          for (std::int64_t c = 0; c < C; ++c) acc_h[c] += alpha * fj[c];
        }
      }
      float* y = a.y + i * out_w;
      for (std::int64_t f = 0; f < out_w; ++f) {
        float v;
        if (a.concat) {
          v = acc[static_cast<std::size_t>(f)];
        } else {
          v = 0.0f;
          for (std::int64_t h = 0; h < H; ++h) v += acc[static_cast<std::size_t>(h * C + f)];
          v /= static_cast<float>(H);
        }
        y[f] = mp_activate(a.act, v + (a.bias ? a.bias[f] : 0.0f));
      }
    }
  }
}

void bio_step_cpu(const BioStepArgs& a) {
  const std::int64_t nnz = a.row_offsets[a.rows];
#pragma omp parallel for schedule(static) if (nnz + a.rows > kParallelWork)
  for (std::int64_t i = 0; i < a.rows; ++i) {
    const float v = a.v_in[i];
    if (a.clamped && a.clamped[i]) {
      a.v_out[i] = v;
      continue;
    }
    float junction = 0.0f;
    for (std::int64_t e = a.row_offsets[i]; e < a.row_offsets[i + 1]; ++e) {
      const float g = a.conductance ? a.conductance[e] : 1.0f;
      junction += g * (a.v_in[a.col_indices[e]] - v);
    }
    a.v_out[i] = bio_step(v, junction, a.dt, a.leak, a.v_rest);
  }
}

}  // namespace mpe::kernels
