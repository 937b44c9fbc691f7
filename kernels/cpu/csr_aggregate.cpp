// CPU twin of CSR aggregation: OpenMP over rows, each row reduced in edge order.

#include "csr_aggregate.hpp"

namespace mpe::kernels {

namespace {
// Reduces one row into y_row with a compile-time aggregation so the feature loop vectorises.
template <AggKind K>
void aggregate_row(const CsrAggregateArgs& a, std::int64_t i, float* y_row) {
  const std::int64_t begin = a.row_offsets[i];
  const std::int64_t end = a.row_offsets[i + 1];
  const std::int64_t width = a.width;
  for (std::int64_t f = 0; f < width; ++f) y_row[f] = agg_init(K);
  for (std::int64_t e = begin; e < end; ++e) {
    const float w = a.weights ? a.weights[e] : 1.0f;
    const float* x_row = a.x + static_cast<std::int64_t>(a.col_indices[e]) * width;
    for (std::int64_t f = 0; f < width; ++f) y_row[f] = agg_step(K, y_row[f], w * x_row[f]);
  }
  for (std::int64_t f = 0; f < width; ++f) y_row[f] = agg_finish(K, y_row[f], end - begin);
}

// Below this much work (entries x width) one thread beats waking an OpenMP team.
constexpr std::int64_t kParallelWork = std::int64_t(1) << 18;

template <AggKind K>
void aggregate_all(const CsrAggregateArgs& a) {
  const std::int64_t nnz = a.row_offsets[a.rows];
#pragma omp parallel for schedule(dynamic, 64) if ((nnz + a.rows) * a.width > kParallelWork)
  for (std::int64_t i = 0; i < a.rows; ++i) aggregate_row<K>(a, i, a.y + i * a.width);
}
}  // namespace

void csr_aggregate_cpu(const CsrAggregateArgs& a) {
  switch (a.agg) {
    case AggKind::sum: aggregate_all<AggKind::sum>(a); break;
    case AggKind::mean: aggregate_all<AggKind::mean>(a); break;
    case AggKind::max: aggregate_all<AggKind::max>(a); break;
    case AggKind::min: aggregate_all<AggKind::min>(a); break;
  }
}

}  // namespace mpe::kernels
