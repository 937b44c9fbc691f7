// AIF-MP planning calls: check requests, lay out the batch, run it on the chosen backend.
#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>
#include <mpe/aif.hpp>

#include "aif/loopy_planner.hpp"
#include "aif/model_support.hpp"
#include "aif_plan.hpp"
#include "backend.hpp"
#include "kernel_enums.hpp"

namespace mpe::aif {

namespace {
constexpr std::size_t kNoIndex = static_cast<std::size_t>(-1);  // a request checked on its own

[[noreturn]] void bad_request(std::size_t i, const std::string& what) {
  if (i == kNoIndex) throw Error(ErrorCode::invalid_argument, "plan request: " + what);
  throw Error(ErrorCode::invalid_argument, fmt::format("plan request {}: {}", i, what));
}

void check_distribution(const std::vector<float>& v, std::int64_t n, std::size_t i,
                        const char* name) {
  if (static_cast<std::int64_t>(v.size()) != n) {
    bad_request(i, fmt::format("{} has {} entries, the model needs {}", name, v.size(), n));
  }
  double sum = 0;
  for (std::size_t k = 0; k < v.size(); ++k) {
    if (!std::isfinite(v[k]) || v[k] < 0) {
      bad_request(i, fmt::format("{}[{}] = {} is not a probability", name, k, v[k]));
    }
    sum += v[k];
  }
  if (std::fabs(sum - 1.0) > 1e-4) {
    bad_request(i, fmt::format("{} sums to {:.6g}, expected 1 (within 1e-4)", name, sum));
  }
}

void check_request(const Model& m, const PlanRequest& r, std::size_t i) {
  check_distribution(r.q0, m.states(), i, "q0");
  check_distribution(r.q_theta, m.thetas(), i, "q_theta");
  if (r.horizon < 1 || r.horizon > 10000)
    bad_request(i, fmt::format("horizon {} is not in [1, 10000]", r.horizon));
  if (r.iterations < 1) bad_request(i, fmt::format("iterations {} is not >= 1", r.iterations));
  if (!(r.damping > 0.0f && r.damping <= 1.0f)) {
    bad_request(i, fmt::format("damping {} is not in (0, 1]", r.damping));
  }
  if (!(r.tolerance >= 0.0f)) bad_request(i, fmt::format("tolerance {} is negative", r.tolerance));
  if (r.dynamics == DynamicsLayout::sparse && r.damping_kind == DampingKind::arithmetic &&
      (r.method == Method::rm || r.method == Method::aif) && r.theta == ThetaMode::fixed) {
    bad_request(i, "the sparse dynamics layout cannot damp r_x arithmetically (r_x keeps "
                   "probability on T's zeros, which the support leaves out); use dense or "
                   "automatic dynamics, or geometric damping");
  }
  if (r.theta == ThetaMode::loopy && r.method == Method::aif) {
    bad_request(i, "theta 'loopy' is for the baselines bp, vbp and rm; aif holds theta fixed");
  }
}

}  // namespace

bool same_options(const PlanRequest& a, const PlanRequest& b) {
  return a.horizon == b.horizon && a.iterations == b.iterations && a.damping == b.damping &&
         a.method == b.method && a.observation_path == b.observation_path &&
         a.damping_kind == b.damping_kind && a.tolerance == b.tolerance && a.dynamics == b.dynamics &&
         a.theta == b.theta && a.return_channels == b.return_channels;
}

void validate_request(const Model& model, const PlanRequest& request) {
  check_request(model, request, kNoIndex);
}

namespace {

constexpr double kSparseDensity = 0.25;  // automatic layout: sparse at or below this density

// Whether a group runs on T's support, and the largest support among its models.
struct Layout {
  bool sparse = false;
  std::int64_t max_nnz = 0;
};

Layout choose_layout(const std::vector<const Model*>& models, const PlanRequest& r,
                     std::size_t begin, std::size_t end) {
  Layout l;
  if (r.dynamics == DynamicsLayout::dense) return l;
  // Arithmetic damping keeps probability on T's zeros in r_x (rm, aif): only dense has them.
  if (r.dynamics == DynamicsLayout::automatic && r.damping_kind == DampingKind::arithmetic &&
      r.method >= Method::rm) {
    return l;
  }
  bool all_sparse_enough = true;
  const ModelSupport* last = nullptr;
  for (std::size_t i = begin; i < end; ++i) {
    const ModelSupport& sp = model_support(*models[i]);
    if (&sp == last) continue;  // models made with with_goal share one support
    last = &sp;
    all_sparse_enough = all_sparse_enough && sp.density <= kSparseDensity;
    l.max_nnz = std::max(l.max_nnz, sp.nnz());
  }
  l.sparse = r.dynamics == DynamicsLayout::sparse || all_sparse_enough;
  return l;
}

kernels::AifConfig config_of(const Model& m, const PlanRequest& r) {
  kernels::AifConfig c;
  fill_shape(m, r, c);
  c.method = mpe::detail::to_kernel(r.method, "aif::plan");
  c.dense_obs = r.observation_path == ObservationPath::dense;
  c.geometric = r.damping_kind == DampingKind::geometric;
  c.tolerance = r.tolerance;
  return c;
}

// Normalises q_u[0] into the action distribution of each plan.
void fill_action_dists(std::vector<Plan>& out, std::size_t begin, std::size_t end, std::int64_t A) {
  for (std::size_t i = begin; i < end; ++i) {
    const auto qu = out[i].q_u.to_vector<float>();
    double z = 0;
    for (std::int64_t u = 0; u < A; ++u) z += qu[static_cast<std::size_t>(u)];
    out[i].action_dist.resize(static_cast<std::size_t>(A));
    for (std::int64_t u = 0; u < A; ++u) {
      out[i].action_dist[static_cast<std::size_t>(u)] =
          static_cast<float>(qu[static_cast<std::size_t>(u)] / z);
    }
  }
}

// Runs requests [begin, end) that share options on the CPU: outputs written in place.
void run_group_cpu(const std::vector<const Model*>& models, const std::vector<PlanRequest>& reqs,
                   std::size_t begin, std::size_t end, std::vector<Plan>& out) {
  kernels::AifConfig cfg = config_of(*models[begin], reqs[begin]);
  const Layout layout = choose_layout(models, reqs[begin], begin, end);
  cfg.sparse = layout.sparse;
  cfg.nnz = layout.max_nnz;
  const std::int64_t S = cfg.S, A = cfg.A, H = cfg.H;
  std::vector<kernels::AifProblem> problems(end - begin);
  for (std::size_t i = begin; i < end; ++i) {
    Plan& p = out[i];
    const bool channels = reqs[i].return_channels;
    p.q_u = Tensor::empty({H, A}, DType::f32);
    if (channels) p.log_r_x = Tensor::empty({H, S, S, A}, DType::f32);
    if (channels && cfg.dense_obs) {
      p.log_r_c = Tensor::empty({H + 1, cfg.F, cfg.O, S, cfg.K}, DType::f32);
    }
    kernels::AifProblem& pr = problems[i - begin];
    const Model& m = *models[i];
    fill_host_inputs(m, reqs[i], pr);
    pr.q_u = p.q_u.data<float>();
    pr.r_x = channels ? p.log_r_x.data<float>() : nullptr;
    pr.r_c = channels && cfg.dense_obs ? p.log_r_c.data<float>() : nullptr;
    pr.iterations_run = &p.iterations_run;
    pr.max_change = &p.max_change;
    p.sparse_dynamics = cfg.sparse;
    if (cfg.sparse) {
      fill_support(model_support(m), pr);
    }
  }
  detail::cpu_backend().aif_plan(0, cfg, problems.data(),
                                 static_cast<std::int64_t>(problems.size()));
  fill_action_dists(out, begin, end, A);
}

// The same on a CUDA device: the models' tensors from their device caches; beliefs in and
// outputs out through one page-locked staging buffer (one queued copy in, queued copies out,
// one wait), results split per plan.
void run_group_device(const std::vector<const Model*>& models, const std::vector<PlanRequest>& reqs,
                      std::size_t begin, std::size_t end, std::vector<Plan>& out, Device dev) {
  kernels::AifConfig cfg = config_of(*models[begin], reqs[begin]);
  const Layout layout = choose_layout(models, reqs[begin], begin, end);
  cfg.sparse = layout.sparse;
  cfg.nnz = layout.max_nnz;
  const std::int64_t S = cfg.S, A = cfg.A, H = cfg.H, K = cfg.K;
  const std::int64_t n = static_cast<std::int64_t>(end - begin);
  const std::int64_t rc_size = (H + 1) * cfg.F * cfg.O * S * K;
  const bool channels = reqs[begin].return_channels;  // same for the whole group
  const std::int64_t rx_n = channels ? n * H * S * S * A : 0;
  const std::int64_t rc_n = channels && cfg.dense_obs ? n * rc_size : 0;
  // Staging layout, 4-byte elements: q0 [n,S] | q_theta [n,K] (in); q_u [n,H,A] | iterations
  // [n] (int32) | max change [n] | r_x | r_c (out).
  const std::int64_t in_n = n * (S + K);
  const std::int64_t out_n = n * H * A + 2 * n + rx_n + rc_n;
  static_assert(sizeof(float) == sizeof(std::int32_t), "staging mixes float and int32 slots");
  detail::Backend& backend = detail::backend_for(dev);
  const auto staging =
      backend.host_staging(dev.index, sizeof(float) * static_cast<std::size_t>(in_n + out_n));
  float* const in_h = static_cast<float*>(staging->data());
  float* const qu_h = in_h + in_n;
  auto* const it_h = reinterpret_cast<std::int32_t*>(qu_h + n * H * A);
  float* const ch_h = qu_h + n * H * A + n;
  float* const rx_h = ch_h + n;
  float* const rc_h = rx_h + rx_n;
  // T, B, the action prior and T's support come from the model's per-device cache (uploaded
  // once for the model and all its with_goal copies); goals are uploaded per call.
  std::map<const float*, Tensor> goals;  // by the goal's host storage
  for (std::int64_t i = 0; i < n; ++i) {
    const Model* m = models[begin + static_cast<std::size_t>(i)];
    const float* g_key = m->goal().data<float>();
    if (!goals.count(g_key)) goals.emplace(g_key, m->goal().to(dev));
    const PlanRequest& r = reqs[begin + static_cast<std::size_t>(i)];
    std::copy(r.q0.begin(), r.q0.end(), in_h + i * S);
    std::copy(r.q_theta.begin(), r.q_theta.end(), in_h + n * S + i * K);
  }
  Tensor in_dev = Tensor::empty({in_n}, DType::f32, dev);
  backend.copy_from_host_async(dev.index, in_dev.raw(), in_h,
                               sizeof(float) * static_cast<std::size_t>(in_n));
  Tensor q_u = Tensor::empty({n, H, A}, DType::f32, dev);
  Tensor r_x = Tensor::empty({rx_n}, DType::f32, dev);
  Tensor r_c = Tensor::empty({rc_n}, DType::f32, dev);
  Tensor iters = Tensor::empty({n}, DType::i32, dev);
  Tensor change = Tensor::empty({n}, DType::f32, dev);
  std::vector<kernels::AifProblem> problems(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    const Model* model = models[begin + static_cast<std::size_t>(i)];
    const DeviceDynamics& m = device_dynamics(*model, dev, cfg.sparse);
    kernels::AifProblem& pr = problems[static_cast<std::size_t>(i)];
    pr.T = m.T.data<float>();
    pr.B = m.B.data<float>();
    pr.pu = m.pu.data<float>();
    pr.goal = goals.at(model->goal().data<float>()).data<float>();
    pr.q0 = in_dev.data<float>() + i * S;
    pr.q_theta = in_dev.data<float>() + n * S + i * K;
    pr.q_u = q_u.data<float>() + i * H * A;
    pr.r_x = channels ? r_x.data<float>() + i * H * S * S * A : nullptr;
    pr.r_c = channels && cfg.dense_obs ? r_c.data<float>() + i * rc_size : nullptr;
    pr.iterations_run = iters.data<std::int32_t>() + i;
    pr.max_change = change.data<float>() + i;
    if (cfg.sparse) {
      pr.sp_off = m.sp_off.data<std::int32_t>();
      pr.sp_n = m.sp_n.data<std::int32_t>();
      pr.sp_ou = m.sp_ou.data<std::int32_t>();
      pr.in_off = m.in_off.data<std::int32_t>();
      pr.in_e = m.in_e.data<std::int32_t>();
    }
  }
  backend.aif_plan(dev.index, cfg, problems.data(), n);
  backend.copy_to_host_async(dev.index, qu_h, q_u.raw(), q_u.nbytes());
  backend.copy_to_host_async(dev.index, it_h, iters.raw(), iters.nbytes());
  backend.copy_to_host_async(dev.index, ch_h, change.raw(), change.nbytes());
  backend.copy_to_host_async(dev.index, rx_h, r_x.raw(), r_x.nbytes());
  backend.copy_to_host_async(dev.index, rc_h, r_c.raw(), r_c.nbytes());
  backend.synchronize(dev.index);
  auto slice = [](const float* all, std::int64_t i, std::int64_t size, const Shape& shape) {
    return Tensor::from_host(all + i * size, static_cast<std::size_t>(size), DType::f32, shape);
  };
  for (std::int64_t i = 0; i < n; ++i) {
    Plan& p = out[begin + static_cast<std::size_t>(i)];
    p.q_u = slice(qu_h, i, H * A, {H, A});
    if (channels) {
      p.log_r_x = slice(rx_h, i, H * S * S * A, {H, S, S, A});
      if (cfg.dense_obs) p.log_r_c = slice(rc_h, i, rc_size, {H + 1, cfg.F, cfg.O, S, K});
    }
    p.iterations_run = it_h[i];
    p.sparse_dynamics = cfg.sparse;
    p.max_change = ch_h[i];
  }
  fill_action_dists(out, begin, end, A);
}

std::vector<Plan> plan_all(const std::vector<const Model*>& models,
                           const std::vector<PlanRequest>& requests, Device device) {
  for (std::size_t i = 0; i < requests.size(); ++i) {
    if (!models[i]->same_shape(*models[0])) {
      throw Error(ErrorCode::shape_mismatch,
                  fmt::format("plan: model {} differs in shape from model 0", i));
    }
    check_request(*models[i], requests[i], i);
  }
  (void)detail::backend_for(device);  // an unavailable device fails before any work
  std::vector<Plan> out(requests.size());
  std::size_t begin = 0;
  while (begin < requests.size()) {
    std::size_t end = begin + 1;
    while (end < requests.size() && same_options(requests[begin], requests[end])) ++end;
    if (requests[begin].theta == ThetaMode::loopy) {
      loopy::plan_group(models, requests, begin, end, out, device);
    } else if (device.kind == DeviceKind::cpu) {
      run_group_cpu(models, requests, begin, end, out);
    } else {
      run_group_device(models, requests, begin, end, out, device);
    }
    begin = end;
  }
  return out;
}
}  // namespace

std::size_t working_bytes(const Model& model, const PlanRequest& request) {
  const kernels::AifConfig cfg = config_of(model, request);  // dense layout: the larger one
  const std::int64_t S = cfg.S, A = cfg.A, H = cfg.H, K = cfg.K;
  std::int64_t floats = kernels::aif_workspace_floats(cfg) + S + K + H * A + 2;
  if (request.return_channels) {
    floats += H * S * S * A;
    if (cfg.dense_obs) floats += (H + 1) * cfg.F * cfg.O * S * K;
  }
  return sizeof(float) * static_cast<std::size_t>(floats) + sizeof(kernels::AifProblem);
}

std::vector<Plan> plan(const Model& model, const std::vector<PlanRequest>& requests) {
  return plan(model, requests, default_device());
}

std::vector<Plan> plan(const Model& model, const std::vector<PlanRequest>& requests,
                       Device device) {
  return plan_all(std::vector<const Model*>(requests.size(), &model), requests, device);
}

std::vector<Plan> plan(const std::vector<Model>& models, const std::vector<PlanRequest>& requests,
                       Device device) {
  if (models.size() != requests.size()) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("plan: {} models for {} requests", models.size(), requests.size()));
  }
  std::vector<const Model*> ptrs;
  for (const auto& m : models) ptrs.push_back(&m);
  return plan_all(ptrs, requests, device);
}

}  // namespace mpe::aif
