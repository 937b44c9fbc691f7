#pragma once
// Loopy belief propagation ops (per-message math in common/bp_core.hpp). One flooding sweep is
// the var step over every variable (q from r), then the factor step over every edge (r from
// q, with damping and the per-instance max change). Instances whose `active` flag is 0 are
// left alone. The host driver (engine/bp) owns iterations and convergence.
#include <cstdint>

#include "common/bp_core.hpp"
#include "stream.hpp"

namespace mpe::kernels {

// Which steps a call runs.
enum BpSteps : int { kBpVarStep = 1, kBpFactorStep = 2, kBpBothSteps = 3 };

// CPU: OpenMP over variables and factors. change[b] is overwritten for active instances.
void bp_sweep_cpu(const BpArgs<float>& a, int steps);
void bp_sweep_cpu(const BpArgs<double>& a, int steps);
// CPU sequential sweep (libDAI's SEQFIX order): factors in order; for each, q of its edges
// from the newest r, then each of its messages in variable order. tot_live/tot_zero are
// workspace [V_states] (Σ_v K_v entries, variable-major). q ends consistent with r only for
// the factors' own inputs: run a var step before reading beliefs.
void bp_sequential_sweep_cpu(const BpArgs<float>& a, float* tot_live, std::int32_t* tot_zero);
void bp_sequential_sweep_cpu(const BpArgs<double>& a, double* tot_live, std::int32_t* tot_zero);

// CUDA: the var step one thread per (instance, variable); the factor step one thread per
// (instance, binary pairwise factor) for pair2_factors and one per (instance, edge) for
// other_edges. change[b] is zeroed and max-reduced on the stream.
void bp_sweep_cuda(const BpArgs<float>& a, int steps, Stream stream);
void bp_sweep_cuda(const BpArgs<double>& a, int steps, Stream stream);

}  // namespace mpe::kernels
