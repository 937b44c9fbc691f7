// CPU reference of AIF-MP planning (aif-mp.md §4): one problem per OpenMP iteration, every
// step written out as in the spec so that the golden fixtures (§7) check it line by line.
#include <cmath>
#include <vector>

#include "aif_plan.hpp"
#include "common/damping.hpp"
#include "common/logspace.hpp"

namespace mpe::kernels {

namespace {

enum Method { kBp = 0, kVbp = 1, kRm = 2, kAif = 3 };

// v[k * stride] for k < n  ->  v - logsumexp(v); rows with no live entry are left as they are.
void log_normalize(float* v, std::int64_t n, std::int64_t stride = 1) {
  LseAcc acc;
  for (std::int64_t k = 0; k < n; ++k) acc.push(v[k * stride]);
  const float z = acc.result();
  if (z == kLogZero) return;
  for (std::int64_t k = 0; k < n; ++k) v[k * stride] -= z;
}

// Damps a channel slice (n entries `stride` apart) toward `raw` (n entries `raw_stride`
// apart, §3) and renormalises it; returns the largest change.
float damp_slice(float* ch, const float* raw, std::int64_t n, std::int64_t stride,
                 std::int64_t raw_stride, float lambda, DampKind kind) {
  float change = 0.0f;
  std::vector<float> old(static_cast<std::size_t>(n));
  for (std::int64_t k = 0; k < n; ++k) {
    old[static_cast<std::size_t>(k)] = ch[k * stride];
    ch[k * stride] = damp_mix(kind, ch[k * stride], raw[k * raw_stride], lambda);
  }
  log_normalize(ch, n, stride);
  // Change measured on probabilities: log-values of vanishing entries keep moving while the
  // distribution has long converged.
  for (std::int64_t k = 0; k < n; ++k) {
    const float d =
        std::fabs(std::exp(ch[k * stride]) - std::exp(old[static_cast<std::size_t>(k)]));
    change = d > change ? d : change;
  }
  return change;
}

// All per-problem state of one planning call.
class Planner {
 public:
  Planner(const AifConfig& c, const AifProblem& p) : c_(c), p_(p) {}
  void run();

 private:
  std::int64_t ix_T(std::int64_t n, std::int64_t o, std::int64_t th, std::int64_t u) const {
    return ((n * c_.S + o) * c_.K + th) * c_.A + u;
  }
  std::int64_t ix_x(int t, std::int64_t o, std::int64_t n, std::int64_t u) const {  // r_x, Kd
    return ((t * c_.S + o) * c_.S + n) * c_.A + u;
  }
  std::int64_t ix_B(std::int64_t f, std::int64_t y, std::int64_t x, std::int64_t th) const {
    return ((f * c_.O + y) * c_.S + x) * c_.K + th;
  }
  std::int64_t obs_slice() const { return c_.F * c_.O * c_.S * c_.K; }  // r_c per t
  std::int64_t marg_slice() const { return c_.F * c_.O * c_.S; }        // r_m per t

  void prepare();
  void observation_kernel(const float* rc, const float* rm, float* k) const;
  void observation_to_x(const float* k, float* out) const;
  float observation_region(const float* k, float* rc, float* rm) const;
  void dynamics_kernel();
  void forward();
  void backward();
  float dynamics_region();

  const AifConfig& c_;
  const AifProblem& p_;
  DampKind kind_ = DampKind::geometric;
  std::vector<float> lq_, lpu_, lgoal_, pref_, logB_, base_;
  std::vector<float> r_u_, r_x_, r_c_, r_m_, kobs_, loc_, kd_;
  std::vector<float> fwd_, bwd_, fwd_prev_, bwd_prev_, q_u_;
};

void Planner::prepare() {
  const std::int64_t S = c_.S, K = c_.K, A = c_.A, O = c_.O, H = c_.H;
  kind_ = c_.geometric ? DampKind::geometric : DampKind::arithmetic;
  lq_.resize(static_cast<std::size_t>(K));
  for (std::int64_t th = 0; th < K; ++th) lq_[th] = safe_log(p_.q_theta[th]);
  lpu_.resize(static_cast<std::size_t>(A));
  for (std::int64_t u = 0; u < A; ++u) lpu_[u] = safe_log(p_.pu[u]);
  logB_.resize(static_cast<std::size_t>(obs_slice()));
  for (std::size_t k = 0; k < logB_.size(); ++k) logB_[k] = safe_log(p_.B[k]);
  // base[o,n,u] = logsumexp_θ(log T[n,o,θ,u] + log qθ[θ])
  base_.resize(static_cast<std::size_t>(S * S * A));
  for (std::int64_t o = 0; o < S; ++o)
    for (std::int64_t n = 0; n < S; ++n)
      for (std::int64_t u = 0; u < A; ++u) {
        LseAcc acc;
        for (std::int64_t th = 0; th < K; ++th)
          acc.push(safe_log(p_.T[ix_T(n, o, th, u)]) + lq_[th]);
        base_[static_cast<std::size_t>((o * S + n) * A + u)] = acc.result();
      }
  lgoal_.assign(static_cast<std::size_t>(S), 0.0f);
  pref_.assign(static_cast<std::size_t>(S), 0.0f);
  if (c_.theta_goal) {
    for (std::int64_t x = 0; x < S; ++x) {
      LseAcc acc;
      for (std::int64_t th = 0; th < K; ++th) acc.push(safe_log(p_.goal[x * K + th]) + lq_[th]);
      pref_[x] = acc.result();
    }
    log_normalize(pref_.data(), S);
  } else {
    for (std::int64_t x = 0; x < S; ++x) lgoal_[x] = safe_log(p_.goal[x]);
  }
  // Uniform channels; messages start at 1 (log 0).
  r_u_.assign(static_cast<std::size_t>(H * S * A), -std::log(static_cast<float>(A)));
  r_x_.assign(static_cast<std::size_t>(H * S * S * A), -std::log(static_cast<float>(S)));
  const std::int64_t slices = c_.dense_obs ? H + 1 : 1;
  r_c_.assign(static_cast<std::size_t>(slices * obs_slice()), -std::log(static_cast<float>(O)));
  r_m_.assign(static_cast<std::size_t>(slices * marg_slice()), -std::log(static_cast<float>(O)));
  kobs_.resize(r_c_.size());
  loc_.assign(static_cast<std::size_t>((H + 1) * S), 0.0f);
  kd_.resize(r_x_.size());
  fwd_.assign(static_cast<std::size_t>((H + 1) * S), 0.0f);
  bwd_ = fwd_prev_ = bwd_prev_ = fwd_;
  q_u_.assign(static_cast<std::size_t>(H * A), 0.0f);
}

// kobs = log B + r_c + safe_div(r_c, r_m), one time slice.
void Planner::observation_kernel(const float* rc, const float* rm, float* k) const {
  for (std::int64_t f = 0; f < c_.F; ++f)
    for (std::int64_t y = 0; y < c_.O; ++y)
      for (std::int64_t x = 0; x < c_.S; ++x)
        for (std::int64_t th = 0; th < c_.K; ++th) {
          const std::int64_t i = ix_B(f, y, x, th);
          const float m = rm[(f * c_.O + y) * c_.S + x];
          k[i] = logB_[static_cast<std::size_t>(i)] + rc[i] + safe_div(rc[i], m);
        }
}

// out[x] = norm_x(Σ_f logsumexp_{y,θ}(k + log qθ))
void Planner::observation_to_x(const float* k, float* out) const {
  for (std::int64_t x = 0; x < c_.S; ++x) {
    float total = 0.0f;
    for (std::int64_t f = 0; f < c_.F; ++f) {
      LseAcc acc;
      for (std::int64_t y = 0; y < c_.O; ++y)
        for (std::int64_t th = 0; th < c_.K; ++th) acc.push(k[ix_B(f, y, x, th)] + lq_[th]);
      total += acc.result();
    }
    out[x] = total;
  }
  log_normalize(out, c_.S);
}

// Damps r_c toward norm_y(k) and r_m toward norm_y(logsumexp_θ(k + log qθ)), one slice.
float Planner::observation_region(const float* k, float* rc, float* rm) const {
  const auto O = c_.O, S = c_.S, K = c_.K;
  std::vector<float> raw_c(k, k + obs_slice());
  std::vector<float> raw_m(static_cast<std::size_t>(marg_slice()));
  float change = 0.0f;
  for (std::int64_t f = 0; f < c_.F; ++f)
    for (std::int64_t x = 0; x < S; ++x) {
      for (std::int64_t th = 0; th < K; ++th) log_normalize(&raw_c[ix_B(f, 0, x, th)], O, S * K);
      for (std::int64_t y = 0; y < O; ++y) {
        LseAcc acc;
        for (std::int64_t th = 0; th < K; ++th) acc.push(k[ix_B(f, y, x, th)] + lq_[th]);
        raw_m[static_cast<std::size_t>((f * O + y) * S + x)] = acc.result();
      }
      log_normalize(&raw_m[static_cast<std::size_t>(f * O * S + x)], O, S);
    }
  for (std::int64_t f = 0; f < c_.F; ++f)
    for (std::int64_t x = 0; x < S; ++x) {
      for (std::int64_t th = 0; th < K; ++th) {
        const std::int64_t i = ix_B(f, 0, x, th);
        const float d = damp_slice(rc + i, raw_c.data() + i, O, S * K, S * K, c_.lambda, kind_);
        change = d > change ? d : change;
      }
      const std::int64_t i = f * O * S + x;
      const float d = damp_slice(rm + i, raw_m.data() + i, O, S, S, c_.lambda, kind_);
      change = d > change ? d : change;
    }
  return change;
}

// Kd[t,o,n,u] = r_x live ? base[o,n,u] - r_x + r_u[t,o,u] : LOG_ZERO
void Planner::dynamics_kernel() {
  const auto S = c_.S, A = c_.A;
  for (int t = 0; t < c_.H; ++t)
    for (std::int64_t o = 0; o < S; ++o)
      for (std::int64_t n = 0; n < S; ++n)
        for (std::int64_t u = 0; u < A; ++u) {
          const std::int64_t i = ix_x(t, o, n, u);
          const float rx = r_x_[static_cast<std::size_t>(i)];
          kd_[static_cast<std::size_t>(i)] =
              log_is_zero(rx) ? kLogZero
                              : base_[static_cast<std::size_t>((o * S + n) * A + u)] - rx +
                                    r_u_[static_cast<std::size_t>((t * S + o) * A + u)];
        }
}

void Planner::forward() {
  const auto S = c_.S, A = c_.A;
  for (std::int64_t x = 0; x < S; ++x) fwd_[x] = safe_log(p_.q0[x]);
  std::vector<float> m(static_cast<std::size_t>(S));
  for (int t = 0; t < c_.H; ++t) {
    for (std::int64_t n = 0; n < S; ++n) {
      LseAcc acc;
      for (std::int64_t o = 0; o < S; ++o) {
        const float f = fwd_[t * S + o] + loc_[t * S + o];
        for (std::int64_t u = 0; u < A; ++u) acc.push(kd_[ix_x(t, o, n, u)] + f + lpu_[u]);
      }
      m[n] = acc.result();
    }
    log_normalize(m.data(), S);
    float* out = &fwd_[(t + 1) * S];
    for (std::int64_t n = 0; n < S; ++n) {
      out[n] = c_.method == kAif
                   ? damp_mix(DampKind::geometric, fwd_prev_[(t + 1) * S + n], m[n], c_.lambda)
                   : m[n];
    }
    if (c_.method == kAif) log_normalize(out, S);
  }
}

void Planner::backward() {
  const auto S = c_.S, A = c_.A;
  for (std::int64_t x = 0; x < S; ++x) bwd_[c_.H * S + x] = lgoal_[x];
  std::vector<float> m(static_cast<std::size_t>(S));
  for (int t = c_.H - 1; t >= 0; --t) {
    const float* Bn = &bwd_[(t + 1) * S];
    const float* Ln = &loc_[(t + 1) * S];
    std::vector<LseAcc> qu(static_cast<std::size_t>(A));
    for (std::int64_t o = 0; o < S; ++o) {
      const float fo = fwd_[t * S + o] + loc_[t * S + o];
      LseAcc acc_m;
      for (std::int64_t n = 0; n < S; ++n)
        for (std::int64_t u = 0; u < A; ++u) {
          const float v = kd_[ix_x(t, o, n, u)] + Bn[n] + Ln[n];
          qu[u].push(v + fo);
          acc_m.push(v + lpu_[u]);
        }
      m[o] = acc_m.result();
    }
    LseAcc z;
    std::vector<float> lq(static_cast<std::size_t>(A));
    for (std::int64_t u = 0; u < A; ++u) {
      lq[u] = qu[u].result() + lpu_[u];
      z.push(lq[u]);
    }
    for (std::int64_t u = 0; u < A; ++u) q_u_[t * A + u] = std::exp(lq[u] - z.result());
    log_normalize(m.data(), S);
    float* out = &bwd_[t * S];
    for (std::int64_t o = 0; o < S; ++o) {
      out[o] = c_.method == kAif
                   ? damp_mix(DampKind::geometric, bwd_prev_[t * S + o], m[o], c_.lambda)
                   : m[o];
    }
    if (c_.method == kAif) log_normalize(out, S);
  }
}

// Region beliefs J = Kd + Fo + Bn + log pu: raw r_x = J - logsumexp_n J, raw r_u = norm_u(P);
// damps the channels the method updates and returns the largest change.
float Planner::dynamics_region() {
  const auto S = c_.S, A = c_.A;
  std::vector<float> raw_x(static_cast<std::size_t>(S));
  std::vector<float> raw_u(static_cast<std::size_t>(S * A));
  float change = 0.0f;
  for (int t = 0; t < c_.H; ++t) {
    for (std::int64_t o = 0; o < S; ++o) {
      const float fo = fwd_[t * S + o] + loc_[t * S + o];
      for (std::int64_t u = 0; u < A; ++u) {
        LseAcc acc;
        for (std::int64_t n = 0; n < S; ++n) {
          raw_x[n] =
              kd_[ix_x(t, o, n, u)] + fo + bwd_[(t + 1) * S + n] + loc_[(t + 1) * S + n] + lpu_[u];
          acc.push(raw_x[n]);
        }
        const float P = acc.result();
        raw_u[o * A + u] = P;
        if (c_.method >= kRm) {
          for (std::int64_t n = 0; n < S; ++n) raw_x[n] = safe_div(raw_x[n], P);
          const float d =
              damp_slice(&r_x_[ix_x(t, o, 0, u)], raw_x.data(), S, A, 1, c_.lambda, kind_);
          change = d > change ? d : change;
        }
      }
      log_normalize(&raw_u[o * A], A);
    }
    if (c_.method >= kVbp) {
      for (std::int64_t o = 0; o < S; ++o) {
        const float d =
            damp_slice(&r_u_[(t * S + o) * A], &raw_u[o * A], A, 1, 1, c_.lambda, kind_);
        change = d > change ? d : change;
      }
    }
  }
  return change;
}

void Planner::run() {
  prepare();
  const std::int64_t S = c_.S;
  const int H = c_.H;
  if (!c_.dense_obs) {  // precomputed observation path: iterate the observation channels alone
    if (c_.method == kAif) {
      for (int i = 0; i < c_.I; ++i) {
        observation_kernel(r_c_.data(), r_m_.data(), kobs_.data());
        observation_region(kobs_.data(), r_c_.data(), r_m_.data());
      }
    }
    observation_kernel(r_c_.data(), r_m_.data(), kobs_.data());
    std::vector<float> local(static_cast<std::size_t>(S));
    observation_to_x(kobs_.data(), local.data());
    for (int t = 0; t <= H; ++t)
      for (std::int64_t x = 0; x < S; ++x) loc_[t * S + x] = local[x] + pref_[x];
  }
  int it = 0;
  float change = 0.0f;
  for (; it < c_.I; ++it) {
    if (c_.dense_obs) {  // (a)
      for (int t = 0; t <= H; ++t) {
        const float* rc = &r_c_[t * obs_slice()];
        float* k = &kobs_[t * obs_slice()];
        observation_kernel(rc, &r_m_[t * marg_slice()], k);
        observation_to_x(k, &loc_[t * S]);
        for (std::int64_t x = 0; x < S; ++x) loc_[t * S + x] += pref_[x];
      }
    }
    dynamics_kernel();                        // (b)
    forward();                                // (c)
    backward();                               // (d)
    change = dynamics_region();               // (e) + (g) for r_u, r_x
    if (c_.dense_obs && c_.method == kAif) {  // (f) + (g) for r_c, r_m
      for (int t = 0; t <= H; ++t) {
        const float d = observation_region(&kobs_[t * obs_slice()], &r_c_[t * obs_slice()],
                                           &r_m_[t * marg_slice()]);
        change = d > change ? d : change;
      }
    }
    fwd_prev_ = fwd_;
    bwd_prev_ = bwd_;
    if (c_.tolerance > 0.0f && it >= 1 && change < c_.tolerance) {
      ++it;
      break;
    }
  }
  for (std::size_t k = 0; k < q_u_.size(); ++k) p_.q_u[k] = q_u_[k];
  for (std::size_t k = 0; k < r_x_.size(); ++k) p_.r_x[k] = r_x_[k];
  if (p_.r_c && c_.dense_obs) {
    for (std::size_t k = 0; k < r_c_.size(); ++k) p_.r_c[k] = r_c_[k];
  }
  if (p_.iterations_run) *p_.iterations_run = it;
  if (p_.max_change) *p_.max_change = change;
}

}  // namespace

void aif_plan_cpu(const AifConfig& cfg, const AifProblem* problems, std::int64_t count) {
#pragma omp parallel for schedule(dynamic, 1) if (count > 1)
  for (std::int64_t i = 0; i < count; ++i) Planner(cfg, problems[i]).run();
}

}  // namespace mpe::kernels
