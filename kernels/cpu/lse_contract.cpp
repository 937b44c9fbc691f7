// CPU twin of the batched log-space contraction: one (b, i) row per iteration, OpenMP over rows.
#include "lse_contract.hpp"

#include "common/logspace.hpp"

namespace mpe::kernels {

// Below this many terms one thread is faster than waking a team (waking sleeping OpenMP
// threads cost milliseconds on the 16-vCPU GPU machine; see bench/NOTES.md).
constexpr std::int64_t kParallelTerms = std::int64_t(1) << 18;

void lse_contract_cpu(const LseContractArgs& a) {
  const std::int64_t total = a.batch * a.rows;
#pragma omp parallel for schedule(static) if (total * a.cols > kParallelTerms)
  for (std::int64_t r = 0; r < total; ++r) {
    const std::int64_t b = r / a.rows;
    const std::int64_t i = r % a.rows;
    const float* m_row = a.M + ((a.shared_matrix ? 0 : b * a.rows) + i) * a.cols;
    const float* x_row = a.x + b * a.cols;
    // push() per term: here the rescale branch is rare and well predicted; the GPU's chunked
    // form (push_chunk) measured 1.6x slower on this path (scalar libm expf either way).
    LseAcc acc;
    for (std::int64_t j = 0; j < a.cols; ++j) acc.push(m_row[j] + x_row[j]);
    a.y[r] = acc.result();
  }
}

}  // namespace mpe::kernels
