#pragma once
// Benchmark case of loopy belief propagation (op "bp"): fixed sweep counts over seeded
// synthetic factor graphs (Ising grids, random regular graphs, higher-order factors, RBMs) or
// a .fg/.uai file; messages/s counts factor→variable message updates.
#include <cstdint>
#include <random>
#include <string>

#include <mpe/factor_graph.hpp>

#include "cases.hpp"

namespace mpe::bench {

// grid: size×size binary Ising grid (fields ±0.5, couplings ±coupling); regular: size
// variables, random 3-regular pairwise graph (card states); higher: size binary variables,
// size random 3-ary factors plus unaries; rbm: size visible × size/2 hidden binary units,
// all-to-all pairwise factors plus unaries.
bp::FactorGraph make_bp_graph(const std::string& kind, std::int64_t size, int card,
                              double coupling, std::uint64_t seed);
bool known_bp_graph(const std::string& kind);

PreparedCase prepare_bp(const CasePoint& p, const Device& device, std::uint64_t seed);

}  // namespace mpe::bench
