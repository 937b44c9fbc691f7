#pragma once
// Predictive coding internals shared by network.cpp and inference.cpp.
#include <cstdint>
#include <vector>

#include <mpe/predictive_coding.hpp>

namespace mpe::pc::detail {

// Errors of every layer for the whole batch: eps[l] = x_l - f(a_l) and g[l] = eps[l] ⊙ f'(a_l),
// each [B, n_l] row-major; sample_energy[b] = ½ Σ_l ‖ε_l‖² of sample b.
struct Errors {
  std::vector<std::vector<float>> eps, g;
  std::vector<double> sample_energy;
};

// Throws Error naming `what` when the state does not fit the network (count, dtype, device,
// shapes); returns the batch size.
std::int64_t check_state(const Network& net, const State& state, const char* what);

// Fills `out` from the current state.
void compute_errors(const Network& net, const State& state, Errors& out);

// Mean of sample_energy (summed in order: reproducible).
double mean_energy(const Errors& e);

}  // namespace mpe::pc::detail
