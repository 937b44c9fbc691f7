#pragma once
// Brute-force references for factor graphs (enumeration of every assignment, float64) and
// random graph makers for the BP tests.
#include <cstdint>
#include <random>
#include <vector>

#include <mpe/factor_graph.hpp>

namespace mpe::test {

struct BpExact {
  double log_z = 0;                                 // log Σ_x Π_f φ_f(x_f) (with evidence)
  std::vector<std::vector<double>> var_marginals;   // P(x_v | evidence)
  std::vector<std::vector<double>> factor_marginals;  // P(x_f | evidence), table order
  std::vector<int> map;                             // argmax (first found on ties)
  double map_log_score = 0;
  double second_best_gap = 0;                       // score(map) − best score of another x
};

// Enumerates every assignment consistent with `evidence` (empty = none).
BpExact bp_brute_force(const bp::FactorGraph& g, const std::vector<int>& evidence = {});

// A random factor tree: factors of arity 1..max_arity, each adding new variables next to one
// existing variable, cardinalities in [2, max_card], log-potentials uniform in
// [-spread, spread]; about `zero_fraction` of the entries set to −inf (never all of a table).
// min_card = max_card gives every variable the same number of states.
bp::FactorGraph random_tree(std::mt19937& rng, int num_vars, int max_arity, int max_card,
                            double spread, double zero_fraction = 0.0, int min_card = 2);
// A w×h grid of binary (or `card`-state) variables with random unary and pairwise factors.
bp::FactorGraph random_grid(std::mt19937& rng, int w, int h, int card, double coupling);

}  // namespace mpe::test
