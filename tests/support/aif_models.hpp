#pragma once
// AIF-MP test inputs shared by the CPU and GPU suites: random normalised models and the
// golden fixture of aif-mp.md §7.
#include <cstdint>
#include <random>
#include <vector>

#include <mpe/aif.hpp>

namespace mpe::test {

// Sizes of a random model.
struct AifSizes {
  std::int64_t S, K, A, F, O;
};

// Random [outer, len, inner] values normalised along len; `zero_fraction` of the entries
// (never the first along len) become exact zeros.
std::vector<float> random_dist(std::mt19937_64& rng, std::int64_t outer, std::int64_t len,
                               std::int64_t inner, float zero_fraction = 0.0f);

// A random model; `zeros` is the fraction of structural zeros in T.
aif::Model random_aif_model(const AifSizes& z, std::mt19937_64& rng, bool theta_goal,
                            float zeros = 0.0f);

// A model whose transitions are deterministic per θ (at most K successors per (x_old, u)),
// with F = 2 modalities of O = 3 outcomes: sparse dynamics.
aif::Model deterministic_aif_model(std::int64_t S, std::int64_t K, std::int64_t A,
                                   std::mt19937_64& rng, bool theta_goal);

// A request with random beliefs and horizon H (other fields at their defaults).
aif::PlanRequest random_aif_request(const AifSizes& z, std::mt19937_64& rng, int H);

// The §7 fixture: S=2, K=2, A=2, F=1, O=2. `sparse` selects the deterministic T with
// structural zeros; `pu` the action prior.
aif::Model fixture_model(bool theta_goal, bool sparse = false,
                         const std::vector<float>& pu = {0.6f, 0.4f});
// The §7 request: H=2, I=2, λ=0.5, method aif, the given observation path.
aif::PlanRequest fixture_request(aif::ObservationPath path);

}  // namespace mpe::test
