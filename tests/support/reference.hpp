#pragma once
// Independent float64 references for the ops, written plainly (two-pass log-sum-exp, dense
// loops), and seeded random inputs.
#include <cstdint>
#include <random>
#include <vector>

#include <mpe/graph.hpp>
#include <mpe/ops.hpp>

namespace mpe::test {

// y[b,i] = log Σ_j exp(M + x) in float64; terms <= -5e11 are zero probability; an all-zero
// row gives -1e12.
std::vector<double> lse_contract_ref(const std::vector<float>& M, const std::vector<float>& x,
                                     std::int64_t batch, std::int64_t rows, std::int64_t cols,
                                     bool shared);

// Dense float64 aggregation over a host CSR.
std::vector<double> csr_aggregate_ref(const Csr& graph, const std::vector<float>& x,
                                      std::int64_t width, Aggregation agg);

// Uniform floats in [lo, hi).
std::vector<float> random_floats(std::size_t n, float lo, float hi, std::uint64_t seed);

// A random CSR with `rows` rows, `cols` columns and about `avg_degree` entries per row;
// `weighted` adds weights in [-2, 2).
Csr random_csr(std::int64_t rows, std::int64_t cols, double avg_degree, bool weighted,
               std::uint64_t seed);

// A CSR from explicit host arrays (no validation: tests build odd shapes on purpose).
Csr make_csr(std::int64_t rows, std::int64_t cols, const std::vector<std::int64_t>& offsets,
             const std::vector<std::int32_t>& cols_idx, const std::vector<float>& weights = {});

}  // namespace mpe::test
