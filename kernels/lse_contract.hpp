#pragma once
// Op: batched log-space contraction y[b,i] = logsumexp_j(M[b|shared,i,j] + x[b,j]).
#include <cstdint>

#include "stream.hpp"

namespace mpe::kernels {

struct LseContractArgs {
  const float* M = nullptr;  // [batch, rows, cols], or [rows, cols] when shared_matrix
  const float* x = nullptr;  // [batch, cols]
  float* y = nullptr;        // [batch, rows]
  std::int64_t batch = 0;
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  bool shared_matrix = false;
};

void lse_contract_cpu(const LseContractArgs& a);
void lse_contract_cuda(const LseContractArgs& a, Stream stream);

}  // namespace mpe::kernels
