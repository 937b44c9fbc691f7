#pragma once
// Op: CSR aggregation y[i,:] = AGG_{e in row i} w_e * x[col_e,:] (pull, no atomics).
#include <cstdint>

#include "common/aggregate.hpp"
#include "stream.hpp"

namespace mpe::kernels {

struct CsrAggregateArgs {
  const std::int64_t* row_offsets = nullptr;  // [rows + 1]
  const std::int32_t* col_indices = nullptr;  // [nnz]
  const float* weights = nullptr;             // [nnz], or nullptr for all ones
  const float* x = nullptr;                   // [cols, width]
  float* y = nullptr;                         // [rows, width]
  std::int64_t rows = 0;
  std::int64_t width = 0;
  AggKind agg = AggKind::sum;
};

void csr_aggregate_cpu(const CsrAggregateArgs& a);
void csr_aggregate_cuda(const CsrAggregateArgs& a, Stream stream);

}  // namespace mpe::kernels
