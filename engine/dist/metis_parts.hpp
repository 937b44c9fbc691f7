#pragma once
// METIS k-way partitioning (dist/metis/metis_parts.cpp), or a not_supported stand-in
// (dist/none/metis_none.cpp) when METIS is not built.
#include <vector>

#include <mpe/graph.hpp>

namespace mpe::dist::detail {
extern const bool kMetisBuilt;
/// Part of each node of a square host CSR; parts >= 2.
std::vector<int> metis_parts(const Csr& graph, int parts);
}  // namespace mpe::dist::detail
