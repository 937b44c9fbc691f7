#pragma once
// Seeded synthetic graphs for benchmarks, built as pull-direction CSRs on the host.
#include <cstdint>
#include <string>

#include <mpe/graph.hpp>

namespace mpe::bench {

// True for the kinds synthetic_graph knows ("uniform", "rmat").
bool known_graph_kind(const std::string& kind);

// "uniform": every edge's endpoints uniform at random. "rmat": R-MAT (a=0.57, b=c=0.19),
// power-law degrees like real social/web graphs. About nodes * avg_degree edges, weighted
// with random weights in [0.5, 1.5). Cached, so grids that vary other parameters reuse it.
const Csr& synthetic_graph(const std::string& kind, std::int64_t nodes, std::int64_t avg_degree,
                           std::uint64_t seed);

// A Matrix Market file as a pull-direction CSR (cached).
const Csr& file_graph(const std::string& path);

}  // namespace mpe::bench
