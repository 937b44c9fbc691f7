#pragma once
// Pieces of the single-process BP driver (run.cpp) that the partitioned driver
// (partitioned.cpp) reuses, so both compute the same numbers with the same code.
#include <vector>

#include <mpe/factor_graph.hpp>

#include "bp/structure.hpp"

namespace mpe::bp::parts {

/// The CPU flooding kernel's probability tables of the log-potentials `pot` (laid out as s).
std::vector<double> probability_tables(const FactorGraph& g, const Structure& s,
                                       const std::vector<double>& pot);
std::vector<float> probability_tables(const FactorGraph& g, const Structure& s,
                                      const std::vector<float>& pot);

/// What Solver::solve() does after its last sweep, from the final factor→variable messages
/// `r` of graph g (structure s, CPU): the var step (q from r), then beliefs, log Z and MAP.
/// converged / iterations / max_change are left for the caller.
Result finish_messages(const FactorGraph& g, const Structure& s, const Instance& in,
                       const Options& o, std::vector<double> r);
Result finish_messages(const FactorGraph& g, const Structure& s, const Instance& in,
                       const Options& o, std::vector<float> r);

/// The ranks whose factors (factor f on rank owner[f]) touch each variable: sorted, distinct.
std::vector<std::vector<int>> factor_readers(const FactorGraph& g, const std::vector<int>& owner);

}  // namespace mpe::bp::parts
