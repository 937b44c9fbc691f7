#pragma once
// Benchmark cases of the message-passing layer: graph_mp (the fused generic layer) and gcn
// (one GCN layer: dense transform + normalised aggregation). Same parameters as csr_aggregate.
#include <cstdint>
#include <string>

#include "cases.hpp"

namespace mpe::bench {

PreparedCase prepare_graph_mp(const CasePoint& p, const Device& device, std::uint64_t seed,
                              const std::string& mtx);
PreparedCase prepare_gcn(const CasePoint& p, const Device& device, std::uint64_t seed,
                         const std::string& mtx);

}  // namespace mpe::bench
