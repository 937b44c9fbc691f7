// CPU twin of CSR aggregation: graph_mp's CPU kernel with a weighted (or copied) message, no
// types and a plain replace update — the same edge-order reduction, OpenMP over rows, and the
// x86-64-v3 build when the CPU has it (y = 1 · aggregate is exact, so nothing changes but the
// instruction set).
#include "csr_aggregate.hpp"
#include "graph_mp.hpp"

namespace mpe::kernels {

void csr_aggregate_cpu(const CsrAggregateArgs& a) {
  GraphMpArgs g;
  g.row_offsets = a.row_offsets;
  g.col_indices = a.col_indices;
  g.weights = a.weights;
  g.x = a.x;
  g.y = a.y;
  g.rows = a.rows;
  g.width = a.width;
  g.agg = static_cast<MpAgg>(static_cast<int>(a.agg));  // sum, mean, max, min: same order
  graph_mp_cpu(g);
}

}  // namespace mpe::kernels
