#pragma once
// Op: AIF-MP planning (aif-mp.md §4) for a batch of independent problems of one shape.
// One call runs all iterations (a fused op: the iteration loop is the op).
#include <cstdint>

#include "stream.hpp"

namespace mpe::kernels {

// The planning method (mpe::aif::Method through the switch of engine/kernel_enums.hpp).
enum AifMethod : int { kAifBp = 0, kAifVbp = 1, kAifRm = 2, kAifAif = 3 };

struct AifConfig {
  std::int64_t S = 0, K = 0, A = 0, F = 0, O = 0;
  int H = 1;  // horizon
  int I = 1;  // iterations
  float lambda = 0.5f;
  int method = kAifAif;  // an AifMethod
  bool dense_obs = true;
  bool geometric = true;    // damping kind
  bool theta_goal = false;  // goal is C[S, K] rather than a terminal [S]
  float tolerance = 0.0f;
  // Sparse dynamics: base, r_x and Kd only on the support of T (see AifProblem::sp_*).
  bool sparse = false;
  std::int64_t nnz = 0;  // largest support size in the batch (sizes the workspace)
};

// Inputs and outputs of one problem (host or device pointers, matching the backend).
struct AifProblem {
  const float* T = nullptr;        // [S_new, S_old, K, A]
  const float* B = nullptr;        // [F, O, S, K]
  const float* pu = nullptr;       // [A], normalised
  const float* goal = nullptr;     // [S] terminal, or [S, K] θ-goal
  const float* q0 = nullptr;       // [S]
  const float* q_theta = nullptr;  // [K]
  float* q_u = nullptr;            // out [H, A]
  float* r_x = nullptr;            // out [H, S_old, S_new, A] (log)
  float* r_c = nullptr;            // out [H+1, F, O, S, K] (log), dense path only, may be null
  int* iterations_run = nullptr;   // out
  float* max_change = nullptr;     // out
  // Support of T (sparse dynamics only): entries e of (o, u) are sp_off[o*A+u] ..
  // sp_off[o*A+u+1], with target state sp_n[e] and sp_ou[e] = o*A+u; in_e[in_off[n] ..
  // in_off[n+1]] lists the entries whose target is n, in increasing e.
  const std::int32_t* sp_off = nullptr;  // [S*A + 1]
  const std::int32_t* sp_n = nullptr;    // [nnz]
  const std::int32_t* sp_ou = nullptr;   // [nnz]
  const std::int32_t* in_off = nullptr;  // [S + 1]
  const std::int32_t* in_e = nullptr;    // [nnz]
};

// Floats of scratch one problem needs (the CUDA backend allocates count times this).
std::int64_t aif_workspace_floats(const AifConfig& cfg);

// Runs the x86-64-v3 build where the CPU has it (cpu_level() of kernels/cpu/cpu_level.hpp).
void aif_plan_cpu(const AifConfig& cfg, const AifProblem* problems, std::int64_t count);

// problems: a device array of `count` problems; workspace: count * aif_workspace_floats floats.
void aif_plan_cuda(const AifConfig& cfg, const AifProblem* problems, std::int64_t count,
                   float* workspace, Stream stream);

}  // namespace mpe::kernels
