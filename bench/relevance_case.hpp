#pragma once
// Benchmark case of the relevance engine (--op relevance): a batch of queries (seeding +
// propagation + extraction) against a store loaded in memory — the demo graph or an R-MAT
// graph with random embeddings.
#include <cstdint>
#include <string>

#include "cases.hpp"

namespace mpe::bench {

PreparedCase prepare_relevance(const CasePoint& p, const Device& device, std::uint64_t seed);

}  // namespace mpe::bench
