#pragma once
// Ops of the generic message-passing layer and the models on it:
//  - graph_mp: fused MESSAGE (× edge weight, × per-type weight) / AGGREGATE / UPDATE over a
//    pull CSR, y[i,f] = act(self_scale·h[i,f] + agg_scale·AGG_e m_e[f] + bias[f]);
//  - gat_scores / gat_aggregate: GAT's per-node attention terms and edge-softmax aggregation;
//  - dense_linear: y = act(x·Wᵀ + bias [+ y]) (blocked on the CPU, cuBLAS on the GPU);
//  - bio_step: one Euler step of gap-junction voltage diffusion with leak and clamps.
// No atomics anywhere: each output element is reduced in edge order by one owner.
#include <cstdint>

#include "common/graph_mp.hpp"
#include "stream.hpp"

struct cublasContext;  // cublasHandle_t without cuBLAS's headers

namespace mpe::kernels {

struct GraphMpArgs {
  const std::int64_t* row_offsets = nullptr;  // [rows + 1]
  const std::int32_t* col_indices = nullptr;  // [nnz]
  const float* weights = nullptr;             // [nnz] edge weights, or nullptr (not used)
  const std::int32_t* edge_types = nullptr;   // [nnz], or nullptr (no per-type weights)
  const float* type_weights = nullptr;        // [num_types, type_width]
  std::int64_t type_width = 1;                // 1 (one scalar per type) or width
  // x, self and y hold elements of `storage` (float, or 16-bit bf16 / f16 bits).
  const void* x = nullptr;                    // [cols, width] source features
  const void* self = nullptr;                 // [rows, width], read when self_scale != 0
  const float* bias = nullptr;                // [width], or nullptr
  void* y = nullptr;                          // [rows, width]
  Storage storage = Storage::f32;
  std::int64_t rows = 0;
  std::int64_t width = 0;
  MpAgg agg = MpAgg::sum;
  MpAct act = MpAct::none;
  float self_scale = 0.0f;
  float agg_scale = 1.0f;
  // Gated messages (CPU only; relevance's dense iteration): when set, edge e sends on feature f
  // only where its relevance r = weights[e] · x[col_e, f] exceeds gate[f], and sends
  // r · edge_scale[e]; y = agg_scale · the sum, and y2 (when set) the same sum with
  // edge_scale2 instead, in the same pass (null scales are 1). Needs weights, float32, sum, no
  // edge types, self, bias or activation. The CUDA kernel has none of these fields.
  const float* gate = nullptr;         // [width], or nullptr
  const float* edge_scale = nullptr;   // [nnz], or nullptr
  const float* edge_scale2 = nullptr;  // [nnz], or nullptr
  float* y2 = nullptr;                 // [rows, width], or nullptr
};

// s[n, h] = Σ_c feat[n, h·C + c] · att[h·C + c].
struct GatScoreArgs {
  const float* feat = nullptr;  // [nodes, heads · channels]
  const float* att = nullptr;   // [heads · channels]
  float* score = nullptr;       // [nodes, heads]
  std::int64_t nodes = 0;
  std::int64_t heads = 0;
  std::int64_t channels = 0;
};

// α_e = softmax over row i of leaky_relu(s_src[col_e, h] + s_dst[i, h]);
// out[i, h, c] = Σ_e α_e feat[col_e, h, c]; concat keeps [rows, H·C], otherwise the heads are
// averaged to [rows, C]; then + bias and activation. Empty rows aggregate to 0.
struct GatAggregateArgs {
  const std::int64_t* row_offsets = nullptr;
  const std::int32_t* col_indices = nullptr;
  const float* feat = nullptr;   // [cols, heads · channels]
  const float* s_src = nullptr;  // [cols, heads]
  const float* s_dst = nullptr;  // [rows, heads]
  const float* bias = nullptr;   // [out width], or nullptr
  float* y = nullptr;            // [rows, concat ? heads · channels : channels]
  std::int64_t rows = 0;
  std::int64_t heads = 0;
  std::int64_t channels = 0;
  float negative_slope = 0.2f;
  bool concat = true;
  MpAct act = MpAct::none;
};

// y[n, m] = act(Σ_k x[n, k] · w[m, k] + bias[m] + (accumulate ? y[n, m] : 0)).
struct DenseLinearArgs {
  const float* x = nullptr;     // [n, k]
  const float* w = nullptr;     // [m, k] (PyTorch's Linear layout)
  const float* bias = nullptr;  // [m], or nullptr
  float* y = nullptr;           // [n, m]; must not alias x or w
  std::int64_t n = 0;
  std::int64_t k = 0;
  std::int64_t m = 0;
  bool accumulate = false;
  MpAct act = MpAct::none;
  // CPU only: W already in the CPU kernel's panel layout (dense_linear_pack_cpu), packed once by
  // a caller that reuses W, with the panel width it was packed for. The kernel packs w itself
  // when this is null or the width is not its own, so w stays required.
  const float* w_packed = nullptr;
  std::int64_t w_panel_cols = 0;
  // CUDA only: with `operands` bf16 or f16, x and w are read from x16 / w16 in that storage
  // (same layouts; x and w unused) and multiplied with float32 accumulation into float32 y.
  Storage operands = Storage::f32;
  const void* x16 = nullptr;
  const void* w16 = nullptr;
};

// v_out[i] = clamped[i] ? v_in[i] : bio_step(v_in[i], Σ_e g_e (v_in[col_e] − v_in[i]), ...).
struct BioStepArgs {
  const std::int64_t* row_offsets = nullptr;
  const std::int32_t* col_indices = nullptr;
  const float* conductance = nullptr;     // [nnz], or nullptr for all ones
  const std::uint8_t* clamped = nullptr;  // [rows], or nullptr
  const float* v_in = nullptr;            // [rows]
  float* v_out = nullptr;                 // [rows]
  std::int64_t rows = 0;
  float dt = 0.0f;
  float leak = 0.0f;
  float v_rest = 0.0f;
};

void graph_mp_cpu(const GraphMpArgs& a);
void gat_scores_cpu(const GatScoreArgs& a);
void gat_aggregate_cpu(const GatAggregateArgs& a);
void dense_linear_cpu(const DenseLinearArgs& a);
// The panel width of the CPU dense kernel this process runs (it depends on the instruction
// set), and W [m, k] packed for it into `out` (dense_linear_packed_floats(m, k) floats).
std::int64_t dense_linear_panel_cols_cpu();
inline std::int64_t dense_linear_packed_floats(std::int64_t m, std::int64_t k) {
  const std::int64_t cols = dense_linear_panel_cols_cpu();
  return (m + cols - 1) / cols * cols * k;
}
void dense_linear_pack_cpu(const float* w, std::int64_t m, std::int64_t k, float* out);
void bio_step_cpu(const BioStepArgs& a);

void graph_mp_cuda(const GraphMpArgs& a, Stream stream);
void gat_scores_cuda(const GatScoreArgs& a, Stream stream);
void gat_aggregate_cuda(const GatAggregateArgs& a, Stream stream);
void dense_linear_cuda(const DenseLinearArgs& a, Stream stream, cublasContext* handle);
void bio_step_cuda(const BioStepArgs& a, Stream stream);

}  // namespace mpe::kernels
