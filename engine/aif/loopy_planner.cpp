// Loopy-θ baselines bp, vbp and rm (aif-mp-baselines.md §3–6): θ is a variable node with cavity
// messages from the dynamics (and, for vbp/rm, observation and preference) factors. The math is
// kernels/common/aif_loopy_core.hpp, float64 over the support of T, one problem per OpenMP
// thread (kernels/cpu/aif_loopy.cpp).
//
// Device requests: there is no CUDA twin yet, so a group planned for a CUDA device runs on the
// host here, deliberately (same numbers; the plans say nothing about where they ran). The core
// is written over an Exec policy so that a one-block-per-problem kernel can reuse it.
#include "aif/loopy_planner.hpp"

#include <algorithm>
#include <cmath>

#include <mpe/error.hpp>

#include "aif/model_support.hpp"
#include "aif_loopy.hpp"
#include "kernel_enums.hpp"

namespace mpe::aif::loopy {

namespace {

// Whether every B[f, ·, x, θ] sums to 1 within 1e-6: the observation factors are then inert
// (baselines doc §4) and skipping them changes nothing.
bool observations_inert(const Model& m) {
  const std::int64_t F = m.modalities(), O = m.outcomes(), S = m.states(), K = m.thetas();
  const float* B = m.B().data<float>();
  for (std::int64_t f = 0; f < F; ++f)
    for (std::int64_t x = 0; x < S; ++x)
      for (std::int64_t th = 0; th < K; ++th) {
        double sum = 0;
        for (std::int64_t y = 0; y < O; ++y) sum += B[((f * O + y) * S + x) * K + th];
        if (std::fabs(sum - 1.0) >= 1e-6) return false;
      }
  return true;
}

int method_index(Method m) {
  if (m == Method::aif) {
    throw Error(ErrorCode::invalid_argument,
                "loopy theta: method 'aif' holds theta fixed (theta 'loopy' is for bp, vbp, rm)");
  }
  return mpe::detail::to_kernel(m, "aif::plan");
}

}  // namespace

void plan_group(const std::vector<const Model*>& models, const std::vector<PlanRequest>& requests,
                std::size_t begin, std::size_t end, std::vector<Plan>& out, Device /*device*/) {
  if (begin >= end) return;
  const Model& m0 = *models[begin];
  const PlanRequest& r0 = requests[begin];
  kernels::AifLoopyConfig cfg;
  fill_shape(m0, r0, cfg);
  cfg.method = method_index(r0.method);
  cfg.obs_factors = false;
  cfg.fast = true;
  const std::size_t n = end - begin;
  const std::int64_t S = cfg.S, A = cfg.A, H = cfg.H;
  // Per problem: its support (shared by with_goal copies) and float64 outputs.
  std::vector<const ModelSupport*> sup(n);
  std::vector<std::int64_t> out_off(n + 1, 0);
  const bool want_rx = r0.return_channels && r0.method == Method::rm;
  for (std::size_t k = 0; k < n; ++k) {
    const Model& m = *models[begin + k];
    sup[k] = &model_support(m);
    cfg.nnz = std::max(cfg.nnz, sup[k]->nnz());
    // the observation factors matter only when some model's B is not normalised within 1e-6
    if (r0.method != Method::bp && !cfg.obs_factors && !observations_inert(m))
      cfg.obs_factors = true;
    out_off[k + 1] = out_off[k] + A + H * A + 1 + (want_rx ? H * sup[k]->nnz() : 0);
  }
  std::vector<double> outs(static_cast<std::size_t>(out_off[n]));
  std::vector<kernels::AifLoopyProblem> probs(n);
  for (std::size_t k = 0; k < n; ++k) {
    const Model& m = *models[begin + k];
    const PlanRequest& r = requests[begin + k];
    const ModelSupport& sp = *sup[k];
    kernels::AifLoopyProblem& p = probs[k];
    fill_host_inputs(m, r, p);
    fill_support(sp, p);
    p.nnz = sp.nnz();
    double* o = outs.data() + out_off[k];
    p.action_dist = o;
    p.q_u = o + A;
    p.max_change = o + A + H * A;
    p.r_x = want_rx ? o + A + H * A + 1 : nullptr;
  }
  kernels::aif_loopy_cpu(cfg, probs.data(), static_cast<std::int64_t>(n));
  for (std::size_t k = 0; k < n; ++k) {
    const kernels::AifLoopyProblem& p = probs[k];
    const ModelSupport& sp = *sup[k];
    Plan& plan = out[begin + k];
    plan.action_dist.assign(p.action_dist, p.action_dist + A);
    plan.q_u = Tensor::from_vector(std::vector<float>(p.q_u, p.q_u + H * A), {H, A});
    plan.iterations_run = cfg.I;
    plan.sparse_dynamics = true;
    plan.max_change = static_cast<float>(*p.max_change);
    plan.log_r_x = Tensor();
    plan.log_r_c = Tensor();
    if (want_rx) {  // rm's r_x, LOG_ZERO off the support
      std::vector<float> rx(static_cast<std::size_t>(H * S * S * A), -1e12f);
      const std::int64_t E = sp.nnz();
      for (std::int64_t t = 0; t < H; ++t)
        for (std::int64_t e = 0; e < E; ++e) {
          const std::int64_t ou = sp.ou[static_cast<std::size_t>(e)];
          const std::int64_t o = ou / A, u = ou % A, x = sp.n[static_cast<std::size_t>(e)];
          rx[static_cast<std::size_t>(((t * S + o) * S + x) * A + u)] =
              static_cast<float>(p.r_x[t * E + e]);
        }
      plan.log_r_x = Tensor::from_vector(rx, {H, S, S, A});
    }
  }
}

}  // namespace mpe::aif::loopy
