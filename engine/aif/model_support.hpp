#pragma once
// What the planner derives from a model's T once and shares between every copy of the model
// (Model::with_goal included): T's support as CSR over (x_old, u) -> x_new and its transpose.
#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

#include <mpe/aif.hpp>
#include <mpe/tensor.hpp>

namespace mpe::aif {

// A model's dynamics on one CUDA device: uploaded on first use, kept while any copy of the model
// lives (so planning calls and the scheduler's batches reuse them).
struct DeviceDynamics {
  Tensor T, B, pu;
  Tensor sp_off, sp_n, sp_ou, in_off, in_e;  // the support, once a sparse call needs it
};

struct ModelSupport {
  // Entries e of (o, u) are off[o*A+u] .. off[o*A+u+1], with target n[e] and ou[e] = o*A+u;
  // in_e[in_off[x] .. in_off[x+1]] lists the entries whose target is x, in increasing e.
  std::vector<std::int32_t> off, n, ou, in_off, in_e;
  double density = 1.0;  // nnz / (S·S·A)
  std::int64_t nnz() const { return static_cast<std::int64_t>(n.size()); }

  std::once_flag computed;

  std::mutex device_mu;
  std::map<Device, DeviceDynamics> on_device;  // by device (kind and index)
};

// The support of m's T, computed on first use (thread-safe).
const ModelSupport& model_support(const Model& m);

// The sizes every planner config shares (kernels::AifConfig, kernels::AifLoopyConfig).
template <class Config>
void fill_shape(const Model& m, const PlanRequest& r, Config& c) {
  c.S = m.states();
  c.K = m.thetas();
  c.A = m.actions();
  c.F = m.modalities();
  c.O = m.outcomes();
  c.H = r.horizon;
  c.I = r.iterations;
  c.lambda = r.damping;
  c.theta_goal = m.goal_kind() == GoalKind::theta;
}

// The host inputs every planner problem reads (kernels::AifProblem, kernels::AifLoopyProblem):
// the model's tensors and the request's beliefs.
template <class Problem>
void fill_host_inputs(const Model& m, const PlanRequest& r, Problem& p) {
  p.T = m.T().data<float>();
  p.B = m.B().data<float>();
  p.pu = m.action_prior().data<float>();
  p.goal = m.goal().data<float>();
  p.q0 = r.q0.data();
  p.q_theta = r.q_theta.data();
}

// T's support as the planner problems take it.
template <class Problem>
void fill_support(const ModelSupport& sp, Problem& p) {
  p.sp_off = sp.off.data();
  p.sp_n = sp.n.data();
  p.sp_ou = sp.ou.data();
  p.in_off = sp.in_off.data();
  p.in_e = sp.in_e.data();
}

// m's T, B and action prior (and the support when `sparse`) on `dev`, uploaded on first use
// (thread-safe; the reference stays valid while m or a copy of it lives).
const DeviceDynamics& device_dynamics(const Model& m, Device dev, bool sparse);

}  // namespace mpe::aif
