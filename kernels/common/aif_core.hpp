#pragma once
// AIF-MP planning (aif-mp.md §4) written once for both backends. `Exec` says how the loops
// run: a plain loop on the CPU (one problem per OpenMP thread), the threads of one block on
// the GPU (one problem per block). Every reduction is done by one thread in a fixed order, so
// both backends sum the same terms in the same order.
#include <cstdint>

#include "aif_plan.hpp"
#include "common/damping.hpp"
#include "common/logspace.hpp"

namespace mpe::kernels {

enum AifMethod : int { kAifBp = 0, kAifVbp = 1, kAifRm = 2, kAifAif = 3 };

// Offsets (in floats) of every array in one problem's workspace.
struct AifLayout {
  std::int64_t lq, lpu, logB, base, lgoal, pref, r_u, r_c, r_m, kobs, loc, kd, fwd, bwd, fwd_prev,
      bwd_prev, msg, P, r_x_sparse, total;

  MPE_HD explicit AifLayout(const AifConfig& c) {
    const std::int64_t S = c.S, A = c.A, H = c.H;
    const std::int64_t obs = c.F * c.O * c.S * c.K, marg = c.F * c.O * c.S;
    const std::int64_t slices = c.dense_obs ? H + 1 : 1;
    std::int64_t at = 0;
    auto take = [&at](std::int64_t n) {
      const std::int64_t here = at;
      at += (n + 31) / 32 * 32;  // 128-byte aligned arrays
      return here;
    };
    lq = take(c.K);
    lpu = take(A);
    logB = take(obs);
    const std::int64_t dyn = c.sparse ? c.nnz : S * S * A;  // dynamics entries per step
    base = take(dyn);
    lgoal = take(S);
    pref = take(S);
    r_u = take(H * S * A);
    r_c = take(slices * obs);
    r_m = take(slices * marg);
    kobs = take(slices * obs);
    loc = take((H + 1) * S);
    kd = take(H * dyn);
    fwd = take((H + 1) * S);
    bwd = take((H + 1) * S);
    fwd_prev = take((H + 1) * S);
    bwd_prev = take((H + 1) * S);
    msg = take(S);
    P = take(H * S * A);
    r_x_sparse = take(c.sparse ? H * c.nnz : 0);
    total = at;
  }
};

// v[k * stride], k < n  ->  v - logsumexp(v); rows without a live entry stay as they are.
MPE_HD void aif_normalize(float* v, std::int64_t n, std::int64_t stride) {
  LseAcc acc;
  for (std::int64_t k = 0; k < n; ++k) acc.push(v[k * stride]);
  const float z = acc.result();
  if (z == kLogZero) return;
  for (std::int64_t k = 0; k < n; ++k) v[k * stride] -= z;
}

// Damps channel entries ch[k * stride] toward raw(k) (§3), renormalises, and returns the
// largest change measured on probabilities (only when `track`: it costs two exps per entry).
// Two passes, so no scratch is needed.
template <class Raw>
MPE_HD float aif_damp(float* ch, std::int64_t n, std::int64_t stride, const Raw& raw, float lambda,
                      DampKind kind, bool track) {
  LseAcc acc;
  for (std::int64_t k = 0; k < n; ++k) acc.push(damp_mix(kind, ch[k * stride], raw(k), lambda));
  const float z = acc.result();
  float change = 0.0f;
  for (std::int64_t k = 0; k < n; ++k) {
    const float old_v = ch[k * stride];
    const float d = damp_mix(kind, old_v, raw(k), lambda);
    const float v = z == kLogZero ? d : d - z;
    if (track) {
      const float delta = fabsf(expf(v) - expf(old_v));
      change = delta > change ? delta : change;
    }
    ch[k * stride] = v;
  }
  return change;
}

template <class Exec>
class AifCore {
 public:
  MPE_HD AifCore(const AifConfig& c, const AifProblem& p, float* ws, const Exec& exec)
      : c_(c), p_(p), L_(c), w_(ws), ex_(exec), track_(true) {}

  MPE_HD_FN void run() {
    prepare();
    const std::int64_t S = c_.S;
    const int H = c_.H;
    if (!c_.dense_obs) {  // precomputed observation path: iterate the observation channels alone
      float* rc = at(L_.r_c);
      float* rm = at(L_.r_m);
      float* k = at(L_.kobs);
      if (c_.method == kAifAif) {
        for (int i = 0; i < c_.I; ++i) {
          observation_kernel(rc, rm, k);
          float unused = 0.0f;
          observation_region(k, rc, rm, unused);
        }
      }
      observation_kernel(rc, rm, k);
      observation_to_x(k, at(L_.msg));
      ex_.for_each((H + 1) * S,
                   [&](std::int64_t i) { at(L_.loc)[i] = at(L_.msg)[i % S] + at(L_.pref)[i % S]; });
    }
    int it = 0;
    float change = 0.0f;
    for (; it < c_.I; ++it) {
      float mine = 0.0f;   // this thread's largest channel change
      if (c_.dense_obs) {  // (a)
        for (int t = 0; t <= H; ++t) {
          observation_kernel(at(L_.r_c) + t * obs(), at(L_.r_m) + t * marg(),
                             at(L_.kobs) + t * obs());
          observation_to_x(at(L_.kobs) + t * obs(), at(L_.loc) + t * S);
        }
        ex_.for_each((H + 1) * S, [&](std::int64_t i) { at(L_.loc)[i] += at(L_.pref)[i % S]; });
      }
      if (c_.sparse) {
        dynamics_kernel_sparse();
        forward_sparse();
        backward_sparse();
        dynamics_region_sparse(mine);
      } else {
        dynamics_kernel();      // (b)
        forward();              // (c)
        backward();             // (d)
        dynamics_region(mine);  // (e) + (g) for r_u, r_x
      }
      if (c_.dense_obs && c_.method == kAifAif) {  // (f) + (g) for r_c, r_m
        for (int t = 0; t <= H; ++t) {
          observation_region(at(L_.kobs) + t * obs(), at(L_.r_c) + t * obs(),
                             at(L_.r_m) + t * marg(), mine);
        }
      }
      change = ex_.max_all(mine);
      ex_.for_each((H + 1) * S, [&](std::int64_t i) {
        at(L_.fwd_prev)[i] = at(L_.fwd)[i];
        at(L_.bwd_prev)[i] = at(L_.bwd)[i];
      });
      if (c_.tolerance > 0.0f && it >= 1 && change < c_.tolerance) {
        ++it;
        break;
      }
    }
    if (c_.sparse) {  // r_x out: the support's values, LOG_ZERO elsewhere
      ex_.for_each(H * S * S * c_.A, [&](std::int64_t i) { p_.r_x[i] = kLogZero; });
      ex_.for_each(H * nnz(), [&](std::int64_t i) {
        const std::int64_t t = i / nnz(), e = i % nnz();
        const std::int64_t ou = p_.sp_ou[e];
        p_.r_x[ix_x(t, ou / c_.A, p_.sp_n[e], ou % c_.A)] = at(L_.r_x_sparse)[i];
      });
    }
    if (p_.r_c && c_.dense_obs) {
      ex_.for_each((H + 1) * obs(), [&](std::int64_t i) { p_.r_c[i] = at(L_.r_c)[i]; });
    }
    ex_.for_each(1, [&](std::int64_t) {
      if (p_.iterations_run) *p_.iterations_run = it;
      if (p_.max_change) *p_.max_change = change;
    });
  }

 private:
  MPE_HD float* at(std::int64_t offset) const { return w_ + offset; }
  MPE_HD std::int64_t obs() const { return c_.F * c_.O * c_.S * c_.K; }
  MPE_HD std::int64_t marg() const { return c_.F * c_.O * c_.S; }
  MPE_HD std::int64_t nnz() const { return p_.sp_off[c_.S * c_.A]; }  // this problem's support
  MPE_HD std::int64_t ix_x(std::int64_t t, std::int64_t o, std::int64_t n, std::int64_t u) const {
    return ((t * c_.S + o) * c_.S + n) * c_.A + u;
  }
  MPE_HD std::int64_t ix_B(std::int64_t f, std::int64_t y, std::int64_t x, std::int64_t th) const {
    return ((f * c_.O + y) * c_.S + x) * c_.K + th;
  }
  MPE_HD DampKind kind() const { return c_.geometric ? DampKind::geometric : DampKind::arithmetic; }

  MPE_HD_FN void prepare() {
    const std::int64_t S = c_.S, K = c_.K, A = c_.A, O = c_.O, H = c_.H;
    const std::int64_t slices = c_.dense_obs ? H + 1 : 1;
    ex_.for_each(K, [&](std::int64_t th) { at(L_.lq)[th] = safe_log(p_.q_theta[th]); });
    ex_.for_each(A, [&](std::int64_t u) { at(L_.lpu)[u] = safe_log(p_.pu[u]); });
    ex_.for_each(obs(), [&](std::int64_t i) { at(L_.logB)[i] = safe_log(p_.B[i]); });
    // base[o,n,u] = logsumexp_θ(log T[n,o,θ,u] + log qθ[θ]), dense or on the support
    ex_.for_each(c_.sparse ? nnz() : S * S * A, [&](std::int64_t i) {
      std::int64_t u = i % A, n = (i / A) % S, o = i / (A * S);
      if (c_.sparse) {
        u = p_.sp_ou[i] % A;
        o = p_.sp_ou[i] / A;
        n = p_.sp_n[i];
      }
      LseAcc acc;
      for (std::int64_t th = 0; th < K; ++th) {
        acc.push(safe_log(p_.T[((n * S + o) * K + th) * A + u]) + at(L_.lq)[th]);
      }
      at(L_.base)[i] = acc.result();
    });
    ex_.for_each(S, [&](std::int64_t x) {
      if (c_.theta_goal) {
        LseAcc acc;
        for (std::int64_t th = 0; th < K; ++th)
          acc.push(safe_log(p_.goal[x * K + th]) + at(L_.lq)[th]);
        at(L_.pref)[x] = acc.result();
        at(L_.lgoal)[x] = 0.0f;
      } else {
        at(L_.pref)[x] = 0.0f;
        at(L_.lgoal)[x] = safe_log(p_.goal[x]);
      }
    });
    if (c_.theta_goal) ex_.for_each(1, [&](std::int64_t) { aif_normalize(at(L_.pref), S, 1); });
    // Uniform channels; messages start at 1 (log 0).
    const float lu = -logf(static_cast<float>(A)), lx = -logf(static_cast<float>(S));
    const float lo = -logf(static_cast<float>(O));
    ex_.for_each(H * S * A, [&](std::int64_t i) { at(L_.r_u)[i] = lu; });
    if (c_.sparse) {
      ex_.for_each(H * nnz(), [&](std::int64_t i) { at(L_.r_x_sparse)[i] = lx; });
    } else {
      ex_.for_each(H * S * S * A, [&](std::int64_t i) { p_.r_x[i] = lx; });
    }
    ex_.for_each(slices * obs(), [&](std::int64_t i) { at(L_.r_c)[i] = lo; });
    ex_.for_each(slices * marg(), [&](std::int64_t i) { at(L_.r_m)[i] = lo; });
    ex_.for_each((H + 1) * S, [&](std::int64_t i) {
      at(L_.loc)[i] = 0.0f;
      at(L_.fwd_prev)[i] = 0.0f;
      at(L_.bwd_prev)[i] = 0.0f;
    });
  }

  // kobs = log B + r_c + safe_div(r_c, r_m), one time slice.
  MPE_HD_FN void observation_kernel(const float* rc, const float* rm, float* k) {
    const std::int64_t S = c_.S, K = c_.K;
    ex_.for_each(obs(), [&](std::int64_t i) {
      const float m = rm[i / K];  // r_m[f,y,x] for r_c[f,y,x,θ]
      (void)S;
      k[i] = at(L_.logB)[i] + rc[i] + safe_div(rc[i], m);
    });
  }

  // out[x] = norm_x(Σ_f logsumexp_{y,θ}(k + log qθ))
  MPE_HD_FN void observation_to_x(const float* k, float* out) {
    ex_.for_each(c_.S, [&](std::int64_t x) {
      float total = 0.0f;
      for (std::int64_t f = 0; f < c_.F; ++f) {
        LseAcc acc;
        for (std::int64_t y = 0; y < c_.O; ++y)
          for (std::int64_t th = 0; th < c_.K; ++th) acc.push(k[ix_B(f, y, x, th)] + at(L_.lq)[th]);
        total += acc.result();
      }
      out[x] = total;
    });
    ex_.for_each(1, [&](std::int64_t) { aif_normalize(out, c_.S, 1); });
  }

  // Damps r_c toward norm_y(k) and r_m toward norm_y(logsumexp_θ(k + log qθ)), one slice.
  MPE_HD_FN void observation_region(const float* k, float* rc, float* rm, float& mine) {
    const std::int64_t S = c_.S, K = c_.K, O = c_.O, F = c_.F;
    const float lambda = c_.lambda;
    const DampKind dk = kind();
    const float* lq = at(L_.lq);
    // r_c slices (f, x, θ) along y, then r_m slices (f, x) along y.
    ex_.for_each(F * S * K + F * S, [&](std::int64_t s) {
      if (s < F * S * K) {
        const std::int64_t th = s % K, x = (s / K) % S, f = s / (K * S);
        const std::int64_t first = ix_B(f, 0, x, th);
        LseAcc acc;
        for (std::int64_t y = 0; y < O; ++y) acc.push(k[first + y * S * K]);
        const float z = acc.result();
        auto raw = [&](std::int64_t y) {
          const float v = k[first + y * S * K];
          return z == kLogZero ? v : v - z;
        };
        const float d = aif_damp(rc + first, O, S * K, raw, lambda, dk, track_);
        mine = d > mine ? d : mine;
      } else {
        const std::int64_t r = s - F * S * K;
        const std::int64_t x = r % S, f = r / S;
        auto mix_theta = [&](std::int64_t y) {
          LseAcc acc;
          for (std::int64_t th = 0; th < K; ++th) acc.push(k[ix_B(f, y, x, th)] + lq[th]);
          return acc.result();
        };
        // Up to kCached outcomes keep their θ-mixture in registers; more are recomputed.
        constexpr int kCached = 8;
        float cached[kCached];
        LseAcc acc;
        for (std::int64_t y = 0; y < O; ++y) {
          const float v = mix_theta(y);
          if (y < kCached) cached[y] = v;
          acc.push(v);
        }
        const float z = acc.result();
        auto raw = [&](std::int64_t y) {
          const float v = y < kCached ? cached[y] : mix_theta(y);
          return z == kLogZero ? v : v - z;
        };
        const float d = aif_damp(rm + f * O * S + x, O, S, raw, lambda, dk, track_);
        mine = d > mine ? d : mine;
      }
    });
  }

  // Kd[t,o,n,u] = r_x live ? base[o,n,u] - r_x + r_u[t,o,u] : LOG_ZERO
  MPE_HD_FN void dynamics_kernel() {
    const std::int64_t S = c_.S, A = c_.A;
    ex_.for_each(c_.H * S * S * A, [&](std::int64_t i) {
      const std::int64_t u = i % A, o = (i / (A * S)) % S, t = i / (A * S * S);
      const std::int64_t on_u = i % (S * S * A);  // [o,n,u] within the step
      const float rx = p_.r_x[i];
      at(L_.kd)[i] =
          log_is_zero(rx) ? kLogZero : at(L_.base)[on_u] - rx + at(L_.r_u)[(t * S + o) * A + u];
    });
  }

  MPE_HD_FN void forward() {
    const std::int64_t S = c_.S, A = c_.A;
    float* fwd = at(L_.fwd);
    float* msg = at(L_.msg);
    ex_.for_each(S, [&](std::int64_t x) { fwd[x] = safe_log(p_.q0[x]); });
    for (int t = 0; t < c_.H; ++t) {
      ex_.for_each(S, [&](std::int64_t n) {
        LseAcc acc;
        for (std::int64_t o = 0; o < S; ++o) {
          const float f = fwd[t * S + o] + at(L_.loc)[t * S + o];
          for (std::int64_t u = 0; u < A; ++u)
            acc.push(at(L_.kd)[ix_x(t, o, n, u)] + f + at(L_.lpu)[u]);
        }
        msg[n] = acc.result();
      });
      finish_message(fwd + (t + 1) * S, at(L_.fwd_prev) + (t + 1) * S);
    }
  }

  MPE_HD_FN void backward() {
    const std::int64_t S = c_.S, A = c_.A;
    float* bwd = at(L_.bwd);
    float* msg = at(L_.msg);
    const float* loc = at(L_.loc);
    const float* kd = at(L_.kd);
    const float* lpu = at(L_.lpu);
    ex_.for_each(S, [&](std::int64_t x) { bwd[c_.H * S + x] = at(L_.lgoal)[x]; });
    for (int t = c_.H - 1; t >= 0; --t) {
      const float* Bn = bwd + (t + 1) * S;
      const float* Ln = loc + (t + 1) * S;
      // m[o] over (n, u) and the action marginal's log-weights over (o, n).
      ex_.for_each(S + A, [&](std::int64_t i) {
        LseAcc acc;
        if (i < S) {
          const std::int64_t o = i;
          for (std::int64_t n = 0; n < S; ++n)
            for (std::int64_t u = 0; u < A; ++u)
              acc.push(kd[ix_x(t, o, n, u)] + Bn[n] + Ln[n] + lpu[u]);
          msg[o] = acc.result();
        } else {
          const std::int64_t u = i - S;
          for (std::int64_t o = 0; o < S; ++o) {
            const float fo = at(L_.fwd)[t * S + o] + loc[t * S + o];
            for (std::int64_t n = 0; n < S; ++n)
              acc.push(kd[ix_x(t, o, n, u)] + Bn[n] + Ln[n] + fo);
          }
          p_.q_u[t * A + u] = acc.result() + lpu[u];
        }
      });
      finish_backward_step(t);
    }
  }

  // Region beliefs J = Kd + Fo + Bn + log pu: raw r_x = J - logsumexp_n J, raw r_u = norm_u(P).
  MPE_HD_FN void dynamics_region(float& mine) {
    const std::int64_t S = c_.S, A = c_.A, H = c_.H;
    const float lambda = c_.lambda;
    const DampKind dk = kind();
    const float* fwd = at(L_.fwd);
    const float* bwd = at(L_.bwd);
    const float* loc = at(L_.loc);
    const float* kd = at(L_.kd);
    const float* lpu = at(L_.lpu);
    float* P = at(L_.P);
    ex_.for_each(H * S * A, [&](std::int64_t s) {
      const std::int64_t u = s % A, o = (s / A) % S, t = s / (A * S);
      const float fo = fwd[t * S + o] + loc[t * S + o];
      auto J = [&](std::int64_t n) {
        return kd[ix_x(t, o, n, u)] + fo + bwd[(t + 1) * S + n] + loc[(t + 1) * S + n] + lpu[u];
      };
      LseAcc acc;
      for (std::int64_t n = 0; n < S; ++n) acc.push(J(n));
      const float p = acc.result();
      P[s] = p;
      if (c_.method >= kAifRm) {
        auto raw = [&](std::int64_t n) { return safe_div(J(n), p); };
        const float d = aif_damp(p_.r_x + ix_x(t, o, 0, u), S, A, raw, lambda, dk, track_);
        mine = d > mine ? d : mine;
      }
    });
    if (c_.method >= kAifVbp) update_policy(mine);
  }

  // ---- sparse dynamics: the same steps over the support of T only. Every term left out is a
  // structural zero, which the dense path skips as zero probability, so both give the same
  // numbers (forward and the action marginals even sum in the same order).

  MPE_HD_FN void dynamics_kernel_sparse() {
    const std::int64_t S = c_.S, A = c_.A, E = nnz();
    ex_.for_each(c_.H * E, [&](std::int64_t i) {
      const std::int64_t t = i / E, e = i % E;
      const std::int64_t ou = p_.sp_ou[e];
      const float rx = at(L_.r_x_sparse)[i];
      at(L_.kd)[i] =
          log_is_zero(rx) ? kLogZero : at(L_.base)[e] - rx + at(L_.r_u)[(t * S) * A + ou];
    });
  }

  MPE_HD_FN void forward_sparse() {
    const std::int64_t S = c_.S, A = c_.A, E = nnz();
    float* fwd = at(L_.fwd);
    float* msg = at(L_.msg);
    ex_.for_each(S, [&](std::int64_t x) { fwd[x] = safe_log(p_.q0[x]); });
    for (int t = 0; t < c_.H; ++t) {
      ex_.for_each(S, [&](std::int64_t n) {
        LseAcc acc;
        for (std::int32_t k = p_.in_off[n]; k < p_.in_off[n + 1]; ++k) {
          const std::int64_t e = p_.in_e[k];
          const std::int64_t o = p_.sp_ou[e] / A, u = p_.sp_ou[e] % A;
          acc.push(at(L_.kd)[t * E + e] + fwd[t * S + o] + at(L_.loc)[t * S + o] + at(L_.lpu)[u]);
        }
        msg[n] = acc.result();
      });
      finish_message(fwd + (t + 1) * S, at(L_.fwd_prev) + (t + 1) * S);
    }
  }

  MPE_HD_FN void backward_sparse() {
    const std::int64_t S = c_.S, A = c_.A, E = nnz();
    float* bwd = at(L_.bwd);
    float* msg = at(L_.msg);
    const float* loc = at(L_.loc);
    const float* kd = at(L_.kd);
    const float* lpu = at(L_.lpu);
    ex_.for_each(S, [&](std::int64_t x) { bwd[c_.H * S + x] = at(L_.lgoal)[x]; });
    for (int t = c_.H - 1; t >= 0; --t) {
      const float* Bn = bwd + (t + 1) * S;
      const float* Ln = loc + (t + 1) * S;
      const float* kdt = kd + t * E;
      ex_.for_each(S + A, [&](std::int64_t i) {
        LseAcc acc;
        if (i < S) {  // m[o] over (u, n in support)
          const std::int64_t o = i;
          for (std::int64_t u = 0; u < A; ++u)
            for (std::int32_t e = p_.sp_off[o * A + u]; e < p_.sp_off[o * A + u + 1]; ++e) {
              acc.push(kdt[e] + Bn[p_.sp_n[e]] + Ln[p_.sp_n[e]] + lpu[u]);
            }
          msg[o] = acc.result();
        } else {  // action marginal over (o, n in support)
          const std::int64_t u = i - S;
          for (std::int64_t o = 0; o < S; ++o) {
            const float fo = at(L_.fwd)[t * S + o] + loc[t * S + o];
            for (std::int32_t e = p_.sp_off[o * A + u]; e < p_.sp_off[o * A + u + 1]; ++e) {
              acc.push(kdt[e] + Bn[p_.sp_n[e]] + Ln[p_.sp_n[e]] + fo);
            }
          }
          p_.q_u[t * A + u] = acc.result() + lpu[u];
        }
      });
      finish_backward_step(t);
    }
  }

  MPE_HD_FN void dynamics_region_sparse(float& mine) {
    const std::int64_t S = c_.S, A = c_.A, H = c_.H, E = nnz();
    const float lambda = c_.lambda;
    const DampKind dk = kind();
    const float* fwd = at(L_.fwd);
    const float* bwd = at(L_.bwd);
    const float* loc = at(L_.loc);
    const float* kd = at(L_.kd);
    const float* lpu = at(L_.lpu);
    float* P = at(L_.P);
    ex_.for_each(H * S * A, [&](std::int64_t s) {
      const std::int64_t u = s % A, o = (s / A) % S, t = s / (A * S);
      const float fo = fwd[t * S + o] + loc[t * S + o];
      const std::int32_t first = p_.sp_off[o * A + u], last = p_.sp_off[o * A + u + 1];
      auto J = [&](std::int64_t k) {
        const std::int64_t e = first + k, n = p_.sp_n[e];
        return kd[t * E + e] + fo + bwd[(t + 1) * S + n] + loc[(t + 1) * S + n] + lpu[u];
      };
      LseAcc acc;
      for (std::int64_t k = 0; k < last - first; ++k) acc.push(J(k));
      const float p = acc.result();
      P[s] = p;
      if (c_.method >= kAifRm && last > first) {
        auto raw = [&](std::int64_t k) { return safe_div(J(k), p); };
        const float d =
            aif_damp(at(L_.r_x_sparse) + t * E + first, last - first, 1, raw, lambda, dk, track_);
        mine = d > mine ? d : mine;
      }
    });
    if (c_.method >= kAifVbp) update_policy(mine);
  }

  // r_u toward norm_u(P), shared by both dynamics layouts.
  MPE_HD_FN void update_policy(float& mine) {
    const std::int64_t A = c_.A;
    const float* P = at(L_.P);
    const float lambda = c_.lambda;
    const DampKind dk = kind();
    ex_.for_each(c_.H * c_.S, [&](std::int64_t s) {
      const float* Ps = P + s * A;
      LseAcc acc;
      for (std::int64_t u = 0; u < A; ++u) acc.push(Ps[u]);
      const float z = acc.result();
      auto raw = [&](std::int64_t u) { return z == kLogZero ? Ps[u] : Ps[u] - z; };
      const float d = aif_damp(at(L_.r_u) + s * A, A, 1, raw, lambda, dk, track_);
      mine = d > mine ? d : mine;
    });
  }

  // Normalises the fresh message in msg and stores it (damped toward prev for aif) in out.
  MPE_HD_FN void finish_message(float* out, const float* prev) {
    const std::int64_t S = c_.S;
    float* msg = at(L_.msg);
    const bool damped = c_.method == kAifAif;
    ex_.for_each(1, [&](std::int64_t) { aif_normalize(msg, S, 1); });
    ex_.for_each(S, [&](std::int64_t n) {
      out[n] = damped ? damp_mix(DampKind::geometric, prev[n], msg[n], c_.lambda) : msg[n];
    });
    if (damped) ex_.for_each(1, [&](std::int64_t) { aif_normalize(out, S, 1); });
  }

  // After a backward step's sums: softmax of the action marginal q_u[t], then the message.
  MPE_HD_FN void finish_backward_step(int t) {
    const std::int64_t A = c_.A, S = c_.S;
    ex_.for_each(1, [&](std::int64_t) {
      float* q = p_.q_u + t * A;
      LseAcc z;
      for (std::int64_t u = 0; u < A; ++u) z.push(q[u]);
      const float lz = z.result();
      for (std::int64_t u = 0; u < A; ++u) q[u] = expf(q[u] - lz);
    });
    finish_message(at(L_.bwd) + t * S, at(L_.bwd_prev) + t * S);
  }

  const AifConfig& c_;
  const AifProblem& p_;
  AifLayout L_;
  float* w_;
  const Exec& ex_;
  bool track_;  // measure channel changes (needed for early stopping and the last iteration)
};

}  // namespace mpe::kernels
