#pragma once
// Op: the loopy-θ baseline planners bp, vbp and rm (aif-mp-baselines.md §3–6) for a batch of
// independent problems of one shape. θ is a variable node with cavity messages; the arithmetic
// is float64 throughout. The dynamics live on the support of T (entries (x_old, u) -> x_new
// that are non-zero for some θ); every other term is a structural zero.
#include <cstdint>

#include "aif_plan.hpp"  // AifMethod

namespace mpe::kernels {

struct AifLoopyConfig {
  std::int64_t S = 0, K = 0, A = 0, F = 0, O = 0;
  int H = 1;            // horizon
  int I = 1;            // iterations (always all of them: the published runs have no early stop)
  double lambda = 0.5;  // channel damping (vbp, rm); bp never reads it
  int method = kAifVbp;     // an AifMethod: kAifBp, kAifVbp or kAifRm
  bool theta_goal = false;  // goal is C[S, K] rather than a terminal [S]
  // vbp/rm: include the observation factors O_t(x, θ) = Π_f Σ_y B. With B normalised over O
  // they are inert (baselines doc §4) and the caller may turn them off; same numbers.
  bool obs_factors = true;
  // The §6 fast form: the θ reductions of the reduced kernel and of the dynamics messages to θ
  // as probability-space sums (one exp per support entry instead of one per entry and θ), with
  // the literal log-sum-exp wherever such a sum underflows. false runs §4/§5 literally.
  bool fast = true;
  std::int64_t nnz = 0;  // largest support size in the batch (sizes the workspace)
};

// One problem (host pointers; device pointers once a CUDA twin exists).
struct AifLoopyProblem {
  const float* T = nullptr;        // [S_new, S_old, K, A]
  const float* B = nullptr;        // [F, O, S, K] (read only when cfg.obs_factors)
  const float* pu = nullptr;       // [A], normalised
  const float* goal = nullptr;     // [S] terminal (not renormalised), or [S, K] θ-goal
  const float* q0 = nullptr;       // [S]
  const float* q_theta = nullptr;  // [K]
  // Support of T: entries e of (o, u) are sp_off[o*A+u] .. sp_off[o*A+u+1], with target
  // sp_n[e] and sp_ou[e] = o*A+u; in_e[in_off[n] .. in_off[n+1]] lists the entries whose
  // target is n.
  const std::int32_t* sp_off = nullptr;  // [S*A + 1]
  const std::int32_t* sp_n = nullptr;    // [nnz]
  const std::int32_t* sp_ou = nullptr;   // [nnz]
  const std::int32_t* in_off = nullptr;  // [S + 1]
  const std::int32_t* in_e = nullptr;    // [nnz]
  std::int64_t nnz = 0;
  double* action_dist = nullptr;  // out [A]: bp q_u[0]; vbp/rm q_u[0] / (Σ q_u[0] + 1e-10)
  double* q_u = nullptr;          // out [H, A], softmax per step, from the last sweep
  double* max_change = nullptr;   // out: largest |Δ| in probability in the last iteration of
                                  // the cavities (bp), r_u (vbp) or r_u and r_x (rm)
  double* r_u = nullptr;          // optional out [H, S, A] log r_u (vbp, rm)
  double* r_x = nullptr;          // optional out [H, nnz] log r_x per support entry (rm)
};

// Scratch one problem needs: doubles, and 32-bit integers (2·nnz).
std::int64_t aif_loopy_workspace_doubles(const AifLoopyConfig& cfg);
std::int64_t aif_loopy_workspace_ints(const AifLoopyConfig& cfg);

// Plans every problem on the host, one problem per OpenMP thread.
void aif_loopy_cpu(const AifLoopyConfig& cfg, const AifLoopyProblem* problems, std::int64_t count);

}  // namespace mpe::kernels
