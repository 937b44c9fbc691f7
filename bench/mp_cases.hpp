#pragma once
// Benchmark cases of the message-passing layer: graph_mp (the fused generic layer) and gcn
// (one GCN layer: dense transform + normalised aggregation), and the cuSPARSE peer. Same
// parameters as csr_aggregate.
#include <cstdint>
#include <string>

#include "cases.hpp"

namespace mpe::bench {

PreparedCase prepare_graph_mp(const CasePoint& p, const Device& device, std::uint64_t seed,
                              const std::string& mtx);
PreparedCase prepare_gcn(const CasePoint& p, const Device& device, std::uint64_t seed,
                         const std::string& mtx);
// cusparse_spmm: cuSPARSE SpMM (CSR ALG2) on the csr_aggregate parameters, CUDA builds only
// (Error(not_supported) otherwise); checked against csr_aggregate before timing.
PreparedCase prepare_cusparse(const CasePoint& p, const Device& device, std::uint64_t seed,
                              const std::string& mtx);

}  // namespace mpe::bench
