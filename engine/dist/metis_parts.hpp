#pragma once
// METIS k-way partitioning (dist/metis/metis_parts.cpp), or a not_supported stand-in
// (dist/none/metis_none.cpp) when METIS is not built.
#include <vector>

#include <mpe/graph.hpp>

namespace mpe::dist::detail {
extern const bool kMetisBuilt;
/// Part of each node of a square host CSR; parts >= 2. `volume`: minimise the communication
/// volume (METIS_OBJTYPE_VOL) instead of the edge cut.
std::vector<int> metis_parts(const Csr& graph, int parts, bool volume);
}  // namespace mpe::dist::detail
