#include "support/aif_ref.hpp"

#include <algorithm>
#include <cmath>

namespace mpe::test {

namespace {
constexpr double LZ = -1e12;  // LOG_ZERO
bool live(double v) { return v > LZ / 2; }
double slog(double p) { return p > 0 ? std::log(std::max(p, 1e-30)) : LZ; }
double sdiv(double a, double b) { return live(a) && live(b) ? a - b : LZ; }

// logsumexp of v(k), k < n, skipping zero-probability terms; LZ when none is live.
template <class F>
double lse(int n, const F& v) {
  double m = LZ;
  for (int k = 0; k < n; ++k) {
    if (live(v(k))) m = std::max(m, v(k));
  }
  if (!live(m)) return LZ;
  double s = 0;
  for (int k = 0; k < n; ++k) {
    if (live(v(k))) s += std::exp(v(k) - m);
  }
  return m + std::log(s);
}

// §3 damping of one channel slice (n entries at stride), toward raw; renormalised.
void damp(double* ch, int n, int stride, const std::vector<double>& raw, double lambda,
          bool geometric) {
  std::vector<double> d(static_cast<std::size_t>(n));
  for (int k = 0; k < n; ++k) {
    const double o = ch[k * stride], w = raw[static_cast<std::size_t>(k)];
    if (!live(o) && !live(w)) {
      d[static_cast<std::size_t>(k)] = LZ;
    } else if (geometric) {
      d[static_cast<std::size_t>(k)] = (1 - lambda) * o + lambda * w;
    } else {
      double p = 0;
      if (live(o)) p += (1 - lambda) * std::exp(o);
      if (live(w)) p += lambda * std::exp(w);
      d[static_cast<std::size_t>(k)] = p > 0 ? std::log(p) : LZ;
    }
  }
  const double z = lse(n, [&](int k) { return d[static_cast<std::size_t>(k)]; });
  for (int k = 0; k < n; ++k) {
    ch[k * stride] = live(z) ? d[static_cast<std::size_t>(k)] - z : d[static_cast<std::size_t>(k)];
  }
}

void normalize(std::vector<double>& v) {
  const double z = lse(static_cast<int>(v.size()), [&](int k) { return v[static_cast<std::size_t>(k)]; });
  if (!live(z)) return;
  for (double& x : v) x -= z;
}
}  // namespace

AifRefPlan reference_plan(const aif::Model& model, const aif::PlanRequest& r) {
  const int S = static_cast<int>(model.states()), K = static_cast<int>(model.thetas());
  const int A = static_cast<int>(model.actions()), F = static_cast<int>(model.modalities());
  const int O = static_cast<int>(model.outcomes()), H = r.horizon;
  const auto T = model.T().to_vector<float>();
  const auto B = model.B().to_vector<float>();
  const auto pu_f = model.action_prior().to_vector<float>();
  const auto goal = model.goal().to_vector<float>();
  const bool theta_goal = model.goal_kind() == aif::GoalKind::theta;
  const int method = static_cast<int>(r.method);  // bp, vbp, rm, aif
  const bool dense_obs = r.observation_path == aif::ObservationPath::dense;
  const bool geometric = r.damping_kind == aif::DampingKind::geometric;
  const double lam = r.damping;
  auto sz = [](long i) { return static_cast<std::size_t>(i); };

  std::vector<double> lq(sz(K)), lpu(sz(A)), base(sz(S * S * A)), lgoal(sz(S), 0), pref(sz(S), 0);
  double pu_sum = 0;
  for (float p : pu_f) pu_sum += p;
  for (int k = 0; k < K; ++k) lq[sz(k)] = slog(r.q_theta[sz(k)]);
  for (int u = 0; u < A; ++u) lpu[sz(u)] = slog(pu_f[sz(u)] / pu_sum);
  auto iB = [&](int f, int y, int x, int k) { return sz(((f * O + y) * S + x) * K + k); };
  auto ib = [&](int o, int n, int u) { return sz((o * S + n) * A + u); };  // base, r_x rows
  for (int o = 0; o < S; ++o)
    for (int n = 0; n < S; ++n)
      for (int u = 0; u < A; ++u) {
        double p = 0;
        for (int k = 0; k < K; ++k) p += double(T[sz(((n * S + o) * K + k) * A + u)]) * r.q_theta[sz(k)];
        base[ib(o, n, u)] = slog(p);
      }
  if (theta_goal) {
    for (int x = 0; x < S; ++x) pref[sz(x)] = lse(K, [&](int k) { return slog(goal[sz(x * K + k)]) + lq[sz(k)]; });
    normalize(pref);
  } else {
    for (int x = 0; x < S; ++x) lgoal[sz(x)] = slog(goal[sz(x)]);
  }
  const int slices = dense_obs ? H + 1 : 1;
  const long obs = long(F) * O * S * K, marg = long(F) * O * S;
  std::vector<double> ru(sz(H * S * A), -std::log(double(A))), rx(sz(long(H) * S * S * A), -std::log(double(S)));
  std::vector<double> rc(sz(slices * obs), -std::log(double(O))), rm(sz(slices * marg), -std::log(double(O)));
  std::vector<double> fwd_prev(sz((H + 1) * S), 0), bwd_prev(sz((H + 1) * S), 0), loc(sz((H + 1) * S), 0);
  std::vector<double> qu(sz(H * A), 0), kobs(sz(slices * obs));

  // kobs of slice s and the observation message norm_x(Σ_f lse_{y,θ}(kobs + log qθ)).
  auto observation = [&](int s, std::vector<double>& to_x) {
    for (int f = 0; f < F; ++f)
      for (int y = 0; y < O; ++y)
        for (int x = 0; x < S; ++x)
          for (int k = 0; k < K; ++k) {
            const double c = rc[sz(s * obs) + iB(f, y, x, k)];
            kobs[sz(s * obs) + iB(f, y, x, k)] =
                slog(B[iB(f, y, x, k)]) + c + sdiv(c, rm[sz(s * marg + (f * O + y) * S + x)]);
          }
    to_x.assign(sz(S), 0);
    for (int x = 0; x < S; ++x)
      for (int f = 0; f < F; ++f) {
        to_x[sz(x)] += lse(O, [&](int y) {
          return lse(K, [&](int k) { return kobs[sz(s * obs) + iB(f, y, x, k)] + lq[sz(k)]; });
        });
      }
    normalize(to_x);
  };
  // (f)+(g) for r_c and r_m of slice s.
  auto observation_region = [&](int s) {
    std::vector<double> raw(sz(O));
    for (int f = 0; f < F; ++f)
      for (int x = 0; x < S; ++x) {
        for (int k = 0; k < K; ++k) {
          const double z = lse(O, [&](int y) { return kobs[sz(s * obs) + iB(f, y, x, k)]; });
          for (int y = 0; y < O; ++y) raw[sz(y)] = sdiv(kobs[sz(s * obs) + iB(f, y, x, k)], z);
          damp(&rc[sz(s * obs) + iB(f, 0, x, k)], O, S * K, raw, lam, geometric);
        }
        std::vector<double> v(sz(O));
        for (int y = 0; y < O; ++y) {
          v[sz(y)] = lse(K, [&](int k) { return kobs[sz(s * obs) + iB(f, y, x, k)] + lq[sz(k)]; });
        }
        const double z = lse(O, [&](int y) { return v[sz(y)]; });
        for (int y = 0; y < O; ++y) raw[sz(y)] = sdiv(v[sz(y)], z);
        damp(&rm[sz(s * marg + (f * O) * S + x)], O, S, raw, lam, geometric);
      }
  };

  std::vector<double> to_x;
  if (!dense_obs) {  // precomputed observation path
    if (method == 3) {
      for (int i = 0; i < r.iterations; ++i) {
        observation(0, to_x);
        observation_region(0);
      }
    }
    observation(0, to_x);
    for (int t = 0; t <= H; ++t)
      for (int x = 0; x < S; ++x) loc[sz(t * S + x)] = to_x[sz(x)] + pref[sz(x)];
  }
  std::vector<double> fwd(sz((H + 1) * S)), bwd(sz((H + 1) * S)), P(sz(H * S * A));
  auto Kd = [&](int t, int o, int n, int u) {
    const double x = rx[sz(long(t) * S * S * A) + ib(o, n, u)];
    return live(x) ? base[ib(o, n, u)] - x + ru[sz((t * S + o) * A + u)] : LZ;
  };
  auto finish = [&](std::vector<double>& m, double* out, const double* prev) {
    normalize(m);
    for (int n = 0; n < S; ++n) {
      const double v = m[sz(n)];
      out[n] = method == 3 ? (live(prev[n]) || live(v) ? (1 - lam) * prev[n] + lam * v : LZ) : v;
    }
    if (method == 3) {
      std::vector<double> o(out, out + S);
      normalize(o);
      std::copy(o.begin(), o.end(), out);
    }
  };
  for (int it = 0; it < r.iterations; ++it) {
    if (dense_obs) {  // (a)
      for (int t = 0; t <= H; ++t) {
        observation(t, to_x);
        for (int x = 0; x < S; ++x) loc[sz(t * S + x)] = to_x[sz(x)] + pref[sz(x)];
      }
    }
    for (int x = 0; x < S; ++x) fwd[sz(x)] = slog(r.q0[sz(x)]);  // (c)
    std::vector<double> m(sz(S));
    for (int t = 0; t < H; ++t) {
      for (int n = 0; n < S; ++n) {
        m[sz(n)] = lse(S * A, [&](int ou) {
          const int o = ou / A, u = ou % A;
          return Kd(t, o, n, u) + fwd[sz(t * S + o)] + loc[sz(t * S + o)] + lpu[sz(u)];
        });
      }
      finish(m, &fwd[sz((t + 1) * S)], &fwd_prev[sz((t + 1) * S)]);
    }
    for (int x = 0; x < S; ++x) bwd[sz(H * S + x)] = lgoal[sz(x)];  // (d)
    for (int t = H - 1; t >= 0; --t) {
      auto Bn = [&](int n) { return bwd[sz((t + 1) * S + n)] + loc[sz((t + 1) * S + n)]; };
      auto Fo = [&](int o) { return fwd[sz(t * S + o)] + loc[sz(t * S + o)]; };
      std::vector<double> z(sz(A));
      for (int u = 0; u < A; ++u) {
        z[sz(u)] = lse(S * S, [&](int on) { return Kd(t, on / S, on % S, u) + Fo(on / S) + Bn(on % S); }) + lpu[sz(u)];
      }
      const double zz = lse(A, [&](int u) { return z[sz(u)]; });
      for (int u = 0; u < A; ++u) qu[sz(t * A + u)] = std::exp(z[sz(u)] - zz);
      for (int o = 0; o < S; ++o) {
        m[sz(o)] = lse(S * A, [&](int nu) { return Kd(t, o, nu / A, nu % A) + Bn(nu / A) + lpu[sz(nu % A)]; });
      }
      finish(m, &bwd[sz(t * S)], &bwd_prev[sz(t * S)]);
    }
    // (e) region beliefs with the kernel as it was this iteration, then (g) for r_x and r_u.
    std::vector<double> new_rx = rx;
    for (int t = 0; t < H; ++t)
      for (int o = 0; o < S; ++o)
        for (int u = 0; u < A; ++u) {
          auto J = [&](int n) {
            return Kd(t, o, n, u) + fwd[sz(t * S + o)] + loc[sz(t * S + o)] + bwd[sz((t + 1) * S + n)] +
                   loc[sz((t + 1) * S + n)] + lpu[sz(u)];
          };
          const double p = lse(S, J);
          P[sz((t * S + o) * A + u)] = p;
          if (method >= 2) {
            std::vector<double> raw(sz(S));
            for (int n = 0; n < S; ++n) raw[sz(n)] = sdiv(J(n), p);
            damp(&new_rx[sz(long(t) * S * S * A) + ib(o, 0, u)], S, A, raw, lam, geometric);
          }
        }
    rx = new_rx;
    if (method >= 1) {
      for (int s = 0; s < H * S; ++s) {
        std::vector<double> raw(sz(A));
        const double z = lse(A, [&](int u) { return P[sz(s * A + u)]; });
        for (int u = 0; u < A; ++u) raw[sz(u)] = live(z) ? P[sz(s * A + u)] - z : P[sz(s * A + u)];
        damp(&ru[sz(s * A)], A, 1, raw, lam, geometric);
      }
    }
    if (dense_obs && method == 3) {
      for (int t = 0; t <= H; ++t) observation_region(t);
    }
    fwd_prev = fwd;
    bwd_prev = bwd;
  }
  AifRefPlan out;
  double z = 0;
  for (int u = 0; u < A; ++u) z += qu[sz(u)];
  for (int u = 0; u < A; ++u) out.action_dist.push_back(qu[sz(u)] / z);
  out.q_u = qu;
  out.log_r_x = rx;  // [t][o][n][u]
  if (dense_obs) out.log_r_c = rc;
  return out;
}

}  // namespace mpe::test
