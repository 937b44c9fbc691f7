// CPU twins of the message-passing ops: OpenMP over rows (or nodes), each output element
// reduced in edge order, the same per-element math as the CUDA kernels. graph_mp's body is
// also built for x86-64-v3 (kernels/cpu/isa/) and chosen at run time.
#include <algorithm>
#include <vector>

#include "common/edge_softmax.hpp"
#include "cpu/cpu_level.hpp"
#include "cpu/graph_mp_body.hpp"

#if MPE_CPU_V3
namespace mpe::kernels_x86_64_v3 {
void graph_mp_cpu_level(const void* args);
}
#endif

namespace mpe::kernels {

using graph_mp_detail::kParallelWork;

void graph_mp_cpu(const GraphMpArgs& a) {
#if MPE_CPU_V3
  if (cpu_level(kCpuWidestBuilt) == 3) return kernels_x86_64_v3::graph_mp_cpu_level(&a);
#endif
  graph_mp_cpu_body(a);
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
        EdgeSoftmax m = edge_softmax_init();  // the softmax denominator, max-shifted
        for (std::int64_t e = begin; e < end; ++e) {
          const std::int64_t j = a.col_indices[e];
          m = edge_softmax_push(m, leaky_relu(a.s_src[j * H + h] + sd, a.negative_slope));
        }
        float* acc_h = acc.data() + h * C;
        for (std::int64_t e = begin; e < end; ++e) {
          const std::int64_t j = a.col_indices[e];
          const float score = leaky_relu(a.s_src[j * H + h] + sd, a.negative_slope);
          const float alpha = edge_softmax_weight(m, score);
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
