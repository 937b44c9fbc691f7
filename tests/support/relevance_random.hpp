#pragma once
// Random relevance test data shared by the unit and parity tests. Each helper draws from the
// generator in one fixed order, so a seed gives the same graphs and queries in every test.
#include <random>
#include <vector>

#include <mpe/relevance.hpp>

namespace mpe::test {

// A node's propagation parameters: residual, decay, threshold (zero half the time), level
// (uniform in [0, levels) when levels > 1) and, with probability 0.3, a weight for one of
// the edge types ENABLES, REQUIRES, PART_OF: 2u, or 0 where zero_type_weight.
void random_node_params(std::mt19937_64& rng, relevance::Node& nd, int levels,
                        bool zero_type_weight = false);

// 1 + rng() % max_seeds distinct nodes "n<i>" of n, activations lo + (1 - lo) * (rng() % 1000)
// / 1000, in node order.
std::vector<relevance::SeedSpec> random_seeds(std::mt19937_64& rng, int n, int max_seeds, float lo);

}  // namespace mpe::test
