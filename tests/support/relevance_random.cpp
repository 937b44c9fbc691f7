#include "support/relevance_random.hpp"

#include <set>
#include <string>

namespace mpe::test {

void random_node_params(std::mt19937_64& rng, relevance::Node& nd, int levels,
                        bool zero_type_weight) {
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  const char* types[] = {"ENABLES", "REQUIRES", "PART_OF"};
  nd.residual = u(rng);
  nd.decay = 0.5f + 0.5f * u(rng);
  nd.threshold = u(rng) < 0.5f ? 0.0f : 0.05f * u(rng);
  nd.level = levels > 1 ? int(rng() % unsigned(levels)) : 0;
  // (C++17 evaluates the weight before the subscript: u, then the type.)
  if (u(rng) < 0.3f) nd.type_weights[types[rng() % 3]] = zero_type_weight ? 0.0f : 2.0f * u(rng);
}

std::vector<relevance::SeedSpec> random_seeds(std::mt19937_64& rng, int n, int max_seeds,
                                              float lo) {
  std::set<int> ids;
  const int k = 1 + int(rng() % unsigned(max_seeds));
  while (int(ids.size()) < k) ids.insert(int(rng() % unsigned(n)));
  std::vector<relevance::SeedSpec> seeds;
  for (int id : ids) {
    seeds.push_back({"n" + std::to_string(id), lo + (1.0f - lo) * float(rng() % 1000) / 1000.0f});
  }
  return seeds;
}

}  // namespace mpe::test
