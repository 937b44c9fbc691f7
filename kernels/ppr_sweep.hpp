#pragma once
// Personalised PageRank's Gauss-Seidel sweep (relevance's PPR mode, CPU only): over the rows
// [begin, end) of a pull CSR in topological order of its strongly connected components, for
// `width` queries at once (y node-major, [rows, width], float64 or float32: the sums are
// float64 either way, a float32 y is rounded when stored and the bound below is taken on the
// stored values),
//   y[i, k] ← (r[i, k] + d_k · Σ_e w_e · y[src_e, k]) / (1 − d_k · diag[i])
// in row order, in place (a row reads the rows before it as already updated), over-relaxed:
// y ← y + ω (g − y) with g the value above. The reset terms r are sparse: (row, column, value)
// triples sorted by row. Each column's bound on the residual the sweep leaves,
// Σ (1 − d diag[i]) |g_i − y_i| + d back[i] |Δy_i| (back[i]: the transition weight from i to
// the rows before it, which read y_i before this sweep changed it), and Σ y over the rows come
// back for the caller's stopping rule (engine/relevance/ppr.cpp).
#include <cstdint>

namespace mpe::kernels {

struct PprSweepArgs {
  const std::int64_t* row_offsets = nullptr;  // [rows + 1]
  const std::int32_t* sources = nullptr;      // [nnz] (no self-loops: those are diag)
  const double* weights = nullptr;            // [nnz] transition weights
  const double* diag = nullptr;               // [rows] self-loop transition weight
  const double* back = nullptr;               // [rows] transition weight to earlier rows of the block
  std::int64_t begin = 0, end = 0;            // rows swept
  std::int64_t width = 0;                     // queries, 1..kPprMaxWidth
  const double* damping = nullptr;            // [width]
  double* y = nullptr;                        // [rows, width] (when y_f32 is null)
  float* y_f32 = nullptr;                     // [rows, width]: float32 scores instead of y
  const std::int64_t* reset_row = nullptr;    // [resets], ascending, inside [begin, end)
  const std::int32_t* reset_col = nullptr;    // [resets]
  const double* reset_value = nullptr;        // [resets]
  std::int64_t resets = 0;
  double omega = 1.0;                         // 1: Gauss-Seidel (exact for acyclic rows)
  double* change = nullptr;                   // [width] out: the residual bound above
  double* mass = nullptr;                     // [width] out: Σ over the rows of y
};

constexpr std::int64_t kPprMaxWidth = 16;

void ppr_sweep_cpu(const PprSweepArgs& a);

}  // namespace mpe::kernels
