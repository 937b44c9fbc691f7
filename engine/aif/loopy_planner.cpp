// Loopy-θ baselines bp, vbp and rm (aif-mp-baselines.md §3–5): θ is a variable node with cavity
// messages from the dynamics (and, for vbp/rm, observation and preference) factors. Host code
// in float64 over the support of T (entries (x_old, u) -> x_new that are non-zero for some θ;
// every other term is a structural zero), one problem per OpenMP thread. A CUDA device request
// runs here too: this planner has no GPU kernel yet.
#include "aif/loopy_planner.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <mpe/error.hpp>

#include "aif/model_support.hpp"

namespace mpe::aif::loopy {

namespace {
constexpr double LZ = -1e12;  // LOG_ZERO
constexpr double LZ2 = LZ / 2;

double slog(double p) { return p > 0 ? std::log(std::max(p, 1e-30)) : LZ; }
bool live(double v) { return v > LZ2; }
double sdiv(double a, double b) { return live(a) && live(b) ? a - b : LZ; }

// Streaming log-sum-exp skipping zero-probability terms; LZ when none is live.
struct Lse {
  double m = -std::numeric_limits<double>::infinity(), s = 0;
  void push(double v) {
    if (!live(v)) return;
    if (v > m) {
      s = s * std::exp(m - v) + 1;
      m = v;
    } else {
      s += std::exp(v - m);
    }
  }
  double get() const { return s > 0 ? m + std::log(s) : LZ; }
};

// Plain log-sum-exp over every entry (zero-probability ones included), as the reference's
// norm_ax and dampG take it: a row with no live entry normalises to uniform, never blows up.
double plain_lse(const double* v, std::int64_t n, std::int64_t stride = 1) {
  double m = -std::numeric_limits<double>::infinity();
  for (std::int64_t k = 0; k < n; ++k) m = std::max(m, v[k * stride]);
  double s = 0;
  for (std::int64_t k = 0; k < n; ++k) s += std::exp(v[k * stride] - m);
  return m + std::log(s);
}

void norm(double* v, std::int64_t n, std::int64_t stride = 1) {
  const double z = plain_lse(v, n, stride);
  for (std::int64_t k = 0; k < n; ++k) v[k * stride] -= z;
}

// dampG over one axis: geometric mix of old and new, renormalised (aif-mp-baselines.md §2).
void damp(double* old, const double* fresh, std::int64_t n, double lambda) {
  std::vector<double> d(static_cast<std::size_t>(n));
  for (std::int64_t k = 0; k < n; ++k) {
    const bool ok = live(old[k]) || live(fresh[k]);
    d[static_cast<std::size_t>(k)] = ok ? (1 - lambda) * old[k] + lambda * fresh[k] : LZ;
  }
  const double z = plain_lse(d.data(), n);
  for (std::int64_t k = 0; k < n; ++k) {
    const bool ok = live(old[k]) || live(fresh[k]);
    old[k] = ok ? d[static_cast<std::size_t>(k)] - z : LZ;
  }
}

struct Problem {
  const Model& m;
  const ModelSupport& sp;
  const PlanRequest& r;
};

// One planning call; fills q_u [H, A] (softmax per step), the action distribution and, for rm,
// r_x over the support [H][e].
struct Result {
  std::vector<double> qu, rx;
  std::vector<float> action_dist;
};

Result run(const Problem& p) {
  const Model& m = p.m;
  const ModelSupport& sp = p.sp;
  const PlanRequest& r = p.r;
  const std::int64_t S = m.states(), K = m.thetas(), A = m.actions(), F = m.modalities(),
                     O = m.outcomes();
  const int H = r.horizon, I = r.iterations;
  const double lambda = r.damping;
  const bool theta_goal = m.goal_kind() == GoalKind::theta;
  const std::int64_t E = sp.nnz();
  const float* T = m.T().data<float>();
  const float* B = m.B().data<float>();
  const float* G = m.goal().data<float>();
  const float* PU = m.action_prior().data<float>();
  // Log inputs, taken once. lT over the support: lT[e * K + θ].
  std::vector<double> lT(static_cast<std::size_t>(E * K));
  std::vector<std::int32_t> eo(static_cast<std::size_t>(E)), eu(static_cast<std::size_t>(E));
  for (std::int64_t e = 0; e < E; ++e) {
    const std::int64_t o = sp.ou[static_cast<std::size_t>(e)] / A, u = sp.ou[static_cast<std::size_t>(e)] % A,
                       n = sp.n[static_cast<std::size_t>(e)];
    eo[static_cast<std::size_t>(e)] = static_cast<std::int32_t>(o);
    eu[static_cast<std::size_t>(e)] = static_cast<std::int32_t>(u);
    for (std::int64_t th = 0; th < K; ++th) {
      lT[static_cast<std::size_t>(e * K + th)] = slog(T[((n * S + o) * K + th) * A + u]);
    }
  }
  auto lB = [&](std::int64_t f, std::int64_t y, std::int64_t x, std::int64_t th) {
    return slog(B[((f * O + y) * S + x) * K + th]);
  };
  std::vector<double> lth(static_cast<std::size_t>(K)), lpu(static_cast<std::size_t>(A)),
      lq0(static_cast<std::size_t>(S)), lgoal(static_cast<std::size_t>(S), 0.0);
  for (std::int64_t th = 0; th < K; ++th) lth[static_cast<std::size_t>(th)] = slog(r.q_theta[static_cast<std::size_t>(th)]);
  for (std::int64_t u = 0; u < A; ++u) lpu[static_cast<std::size_t>(u)] = slog(PU[u]);
  for (std::int64_t x = 0; x < S; ++x) lq0[static_cast<std::size_t>(x)] = slog(r.q0[static_cast<std::size_t>(x)]);
  if (!theta_goal) {
    for (std::int64_t x = 0; x < S; ++x) lgoal[static_cast<std::size_t>(x)] = slog(G[x]);  // not renormalised
  }
  auto lC = [&](std::int64_t x, std::int64_t th) { return slog(G[x * K + th]); };

  const bool is_bp = r.method == Method::bp, is_rm = r.method == Method::rm;
  // With B normalised over O the observation factors are inert (baselines doc §4): ox is
  // uniform and Mo does not depend on θ, so both can be skipped exactly.
  bool inert_obs = true;
  for (std::int64_t f = 0; f < F && inert_obs; ++f)
    for (std::int64_t x = 0; x < S && inert_obs; ++x)
      for (std::int64_t th = 0; th < K && inert_obs; ++th) {
        double sum = 0;
        for (std::int64_t y = 0; y < O; ++y) sum += B[((f * O + y) * S + x) * K + th];
        inert_obs = std::fabs(sum - 1.0) < 1e-6;
      }
  const auto sz = [](std::int64_t n) { return static_cast<std::size_t>(n); };
  std::vector<double> Md(sz(H * K), 0.0), Mo(sz((H + 1) * K), 0.0), Mp(sz((H + 1) * K), 0.0);
  std::vector<double> cav(sz(H * K)), Md_prev(sz(H * K), 0.0);  // bp
  for (int t = 0; t < H; ++t)
    for (std::int64_t th = 0; th < K; ++th) cav[sz(t * K + th)] = lth[sz(th)];
  std::vector<double> ru(sz(H * S * A), -std::log(static_cast<double>(A)));
  std::vector<double> rx(sz(H * E), is_rm ? -std::log(static_cast<double>(S)) : 0.0);
  std::vector<double> R(sz(H * E)), fwd(sz((H + 1) * S)), bwd(sz((H + 1) * S)),
      loc(sz((H + 1) * S), 0.0), ox(sz((H + 1) * S), 0.0), px(sz((H + 1) * S), 0.0),
      qu(sz(H * A)), cd(sz(H * K)), co(sz((H + 1) * K)), cp(sz((H + 1) * K));
  auto kappa = [&](int t, std::int64_t e, std::int64_t th) {  // safe_div(lT, rx) + ru
    return sdiv(lT[sz(e * K + th)], rx[sz(t * E + e)]) + ru[sz((t * S + eo[sz(e)]) * A + eu[sz(e)])];
  };
  for (int it = 0; it < I; ++it) {
    // 1-3: cavities, the reduced kernel R, local messages
    if (is_bp) {
      for (int t = 0; t < H; ++t)
        for (std::int64_t e = 0; e < E; ++e) {
          Lse a;
          for (std::int64_t th = 0; th < K; ++th) a.push(lT[sz(e * K + th)] + cav[sz(t * K + th)]);
          R[sz(t * E + e)] = a.get();
        }
      std::fill(loc.begin(), loc.end(), 0.0);
      if (theta_goal) {
        std::vector<double> qrun(sz(K));
        for (std::int64_t th = 0; th < K; ++th) {
          double s = lth[sz(th)];
          for (int t = 0; t < H; ++t) s += Md_prev[sz(t * K + th)];
          qrun[sz(th)] = s;
        }
        norm(qrun.data(), K);
        std::vector<double> pref(sz(S));
        for (std::int64_t x = 0; x < S; ++x) {
          Lse a;
          for (std::int64_t th = 0; th < K; ++th) a.push(lC(x, th) + qrun[sz(th)]);
          pref[sz(x)] = a.get();
        }
        norm(pref.data(), S);
        for (int t = 0; t <= H; ++t)
          for (std::int64_t x = 0; x < S; ++x) loc[sz(t * S + x)] = pref[sz(x)];
      }
    } else {
      std::vector<double> tot(lth);
      for (std::int64_t th = 0; th < K; ++th) {
        for (int t = 0; t < H; ++t) tot[sz(th)] += Md[sz(t * K + th)];
        for (int t = 0; t <= H; ++t) {
          tot[sz(th)] += Mo[sz(t * K + th)];
          if (theta_goal) tot[sz(th)] += Mp[sz(t * K + th)];
        }
      }
      for (int t = 0; t <= H; ++t)
        for (std::int64_t th = 0; th < K; ++th) {
          if (t < H) cd[sz(t * K + th)] = tot[sz(th)] - Md[sz(t * K + th)];
          co[sz(t * K + th)] = tot[sz(th)] - Mo[sz(t * K + th)];
          cp[sz(t * K + th)] = tot[sz(th)] - Mp[sz(t * K + th)];
        }
      for (int t = 0; t <= H; ++t) {
        if (t < H) norm(&cd[sz(t * K)], K);
        norm(&co[sz(t * K)], K);
        norm(&cp[sz(t * K)], K);
      }
      for (int t = 0; t < H; ++t)
        for (std::int64_t e = 0; e < E; ++e) {
          Lse a;
          for (std::int64_t th = 0; th < K; ++th) a.push(kappa(t, e, th) + cd[sz(t * K + th)]);
          R[sz(t * E + e)] = a.get();
        }
      for (int t = 0; t <= H; ++t) {
        for (std::int64_t x = 0; x < S; ++x) {
          double sum = 0;
          for (std::int64_t f = 0; f < F && !inert_obs; ++f) {
            Lse a;
            for (std::int64_t y = 0; y < O; ++y)
              for (std::int64_t th = 0; th < K; ++th) a.push(lB(f, y, x, th) + co[sz(t * K + th)]);
            sum += a.get();
          }
          ox[sz(t * S + x)] = sum;
          if (theta_goal) {
            Lse a;
            for (std::int64_t th = 0; th < K; ++th) a.push(lC(x, th) + cp[sz(t * K + th)]);
            px[sz(t * S + x)] = a.get();
          }
        }
        norm(&ox[sz(t * S)], S);
        if (theta_goal) norm(&px[sz(t * S)], S);
        for (std::int64_t x = 0; x < S; ++x) loc[sz(t * S + x)] = ox[sz(t * S + x)] + px[sz(t * S + x)];
      }
    }
    // 4-5: plain sum-product forward and backward with R and loc
    for (std::int64_t x = 0; x < S; ++x) fwd[sz(x)] = lq0[sz(x)];
    for (int t = 0; t < H; ++t) {
      std::vector<Lse> acc(sz(S));
      for (std::int64_t e = 0; e < E; ++e) {
        const std::int64_t o = eo[sz(e)];
        acc[sz(sp.n[sz(e)])].push(R[sz(t * E + e)] + fwd[sz(t * S + o)] + loc[sz(t * S + o)] + lpu[sz(eu[sz(e)])]);
      }
      for (std::int64_t n = 0; n < S; ++n) fwd[sz((t + 1) * S + n)] = acc[sz(n)].get();
      norm(&fwd[sz((t + 1) * S)], S);
    }
    for (std::int64_t x = 0; x < S; ++x) bwd[sz(H * S + x)] = lgoal[sz(x)];
    for (int t = H - 1; t >= 0; --t) {
      std::vector<Lse> q(sz(A)), b(sz(S));
      for (std::int64_t e = 0; e < E; ++e) {
        const std::int64_t o = eo[sz(e)], u = eu[sz(e)], n = sp.n[sz(e)];
        const double Bn = bwd[sz((t + 1) * S + n)] + loc[sz((t + 1) * S + n)];
        const double Fo = fwd[sz(t * S + o)] + loc[sz(t * S + o)];
        q[sz(u)].push(R[sz(t * E + e)] + Fo + Bn);
        b[sz(o)].push(R[sz(t * E + e)] + Bn + lpu[sz(u)]);
      }
      Lse z;
      for (std::int64_t u = 0; u < A; ++u) {
        const double v = q[sz(u)].get();
        qu[sz(t * A + u)] = live(v) ? v + lpu[sz(u)] : LZ;
        z.push(qu[sz(t * A + u)]);
      }
      for (std::int64_t u = 0; u < A; ++u) {
        qu[sz(t * A + u)] = live(qu[sz(t * A + u)]) ? std::exp(qu[sz(t * A + u)] - z.get()) : 0.0;
      }
      for (std::int64_t o = 0; o < S; ++o) bwd[sz(t * S + o)] = b[sz(o)].get();
      norm(&bwd[sz(t * S)], S);
    }
    if (is_bp) {
      // 4-5 of §5: dynamics messages to θ and the new cavities
      for (int t = 0; t < H; ++t)
        for (std::int64_t th = 0; th < K; ++th) {
          Lse a;
          for (std::int64_t e = 0; e < E; ++e) {
            const std::int64_t o = eo[sz(e)], n = sp.n[sz(e)];
            a.push(lT[sz(e * K + th)] + fwd[sz(t * S + o)] + loc[sz(t * S + o)] +
                   bwd[sz((t + 1) * S + n)] + loc[sz((t + 1) * S + n)] + lpu[sz(eu[sz(e)])]);
          }
          Md[sz(t * K + th)] = a.get();
        }
      for (int t = 0; t < H; ++t) {
        for (std::int64_t th = 0; th < K; ++th) {
          double s = lth[sz(th)];
          for (int t2 = 0; t2 < H; ++t2) s += Md[sz(t2 * K + th)];
          cav[sz(t * K + th)] = s - Md[sz(t * K + th)];
        }
        norm(&cav[sz(t * K)], K);
      }
      Md_prev = Md;
      continue;
    }
    // 6: θ-messages for the next iteration
    for (int t = 0; t < H; ++t)
      for (std::int64_t th = 0; th < K; ++th) {
        Lse a;
        for (std::int64_t e = 0; e < E; ++e) {
          const std::int64_t o = eo[sz(e)], n = sp.n[sz(e)];
          a.push(kappa(t, e, th) + fwd[sz(t * S + o)] + loc[sz(t * S + o)] +
                 bwd[sz((t + 1) * S + n)] + loc[sz((t + 1) * S + n)] + lpu[sz(eu[sz(e)])]);
        }
        Md[sz(t * K + th)] = a.get();
      }
    for (int t = 0; t <= H; ++t)
      for (std::int64_t th = 0; th < K; ++th) {
        double sum = 0;
        for (std::int64_t f = 0; f < F && !inert_obs; ++f) {
          Lse a;
          for (std::int64_t y = 0; y < O; ++y)
            for (std::int64_t x = 0; x < S; ++x) {
              a.push(lB(f, y, x, th) + fwd[sz(t * S + x)] + bwd[sz(t * S + x)] + px[sz(t * S + x)]);
            }
          sum += a.get();
        }
        Mo[sz(t * K + th)] = sum;
        if (theta_goal) {
          Lse a;
          for (std::int64_t x = 0; x < S; ++x) {
            a.push(lC(x, th) + fwd[sz(t * S + x)] + bwd[sz(t * S + x)] + ox[sz(t * S + x)]);
          }
          Mp[sz(t * K + th)] = a.get();
        }
      }
    // 7-8: region beliefs and the channels
    for (int t = 0; t < H; ++t) {
      std::vector<double> Q(sz(E)), P(sz(S * A), LZ);
      std::vector<Lse> pacc(sz(S * A));
      for (std::int64_t e = 0; e < E; ++e) {
        const std::int64_t o = eo[sz(e)], u = eu[sz(e)], n = sp.n[sz(e)];
        const double v = R[sz(t * E + e)] + fwd[sz(t * S + o)] + loc[sz(t * S + o)] +
                         bwd[sz((t + 1) * S + n)] + loc[sz((t + 1) * S + n)] + lpu[sz(u)];
        Q[sz(e)] = live(v) ? v : LZ;
        pacc[sz(o * A + u)].push(Q[sz(e)]);
      }
      for (std::int64_t ou = 0; ou < S * A; ++ou) P[sz(ou)] = pacc[sz(ou)].get();
      if (is_rm) {
        for (std::int64_t ou = 0; ou < S * A; ++ou) {
          const std::int64_t first = sp.off[sz(ou)], last = sp.off[sz(ou + 1)];
          if (last == first) continue;
          std::vector<double> raw(sz(last - first));
          for (std::int64_t e = first; e < last; ++e) raw[sz(e - first)] = sdiv(Q[sz(e)], P[sz(ou)]);
          damp(&rx[sz(t * E + first)], raw.data(), last - first, lambda);
        }
      }
      for (std::int64_t o = 0; o < S; ++o) {
        std::vector<double> raw(&P[sz(o * A)], &P[sz(o * A)] + A);
        norm(raw.data(), A);
        damp(&ru[sz((t * S + o) * A)], raw.data(), A, lambda);
      }
    }
  }
  Result out;
  out.qu = qu;
  out.rx = rx;
  double z = 1e-10;
  for (std::int64_t u = 0; u < A; ++u) z += qu[sz(u)];
  out.action_dist.resize(sz(A));
  for (std::int64_t u = 0; u < A; ++u) {
    out.action_dist[sz(u)] = static_cast<float>(is_bp ? qu[sz(u)] : qu[sz(u)] / z);
  }
  return out;
}
}  // namespace

void plan_group(const std::vector<const Model*>& models, const std::vector<PlanRequest>& requests,
                std::size_t begin, std::size_t end, std::vector<Plan>& out, Device) {
  const auto n = static_cast<std::int64_t>(end - begin);
  for (std::size_t i = begin; i < end; ++i) (void)model_support(*models[i]);  // before threads
#pragma omp parallel for schedule(dynamic, 1) if (n > 1)
  for (std::int64_t k = 0; k < n; ++k) {
    const std::size_t i = begin + static_cast<std::size_t>(k);
    const Model& m = *models[i];
    const PlanRequest& r = requests[i];
    const ModelSupport& sp = model_support(m);
    const Result res = run(Problem{m, sp, r});
    const std::int64_t S = m.states(), A = m.actions(), H = r.horizon, E = sp.nnz();
    Plan& p = out[i];
    p.action_dist = res.action_dist;
    std::vector<float> qu(res.qu.begin(), res.qu.end());
    p.q_u = Tensor::from_vector(qu, {H, A});
    p.iterations_run = r.iterations;
    p.sparse_dynamics = true;
    p.max_change = 0;
    if (r.return_channels && r.method == Method::rm) {  // rm's r_x, LOG_ZERO off the support
      std::vector<float> rx(static_cast<std::size_t>(H * S * S * A), static_cast<float>(LZ));
      for (std::int64_t t = 0; t < H; ++t)
        for (std::int64_t e = 0; e < E; ++e) {
          const std::int64_t ou = sp.ou[static_cast<std::size_t>(e)];
          const std::int64_t o = ou / A, u = ou % A, nn = sp.n[static_cast<std::size_t>(e)];
          rx[static_cast<std::size_t>(((t * S + o) * S + nn) * A + u)] =
              static_cast<float>(res.rx[static_cast<std::size_t>(t * E + e)]);
        }
      p.log_r_x = Tensor::from_vector(rx, {H, S, S, A});
    }
  }
}

}  // namespace mpe::aif::loopy
