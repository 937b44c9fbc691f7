#pragma once
// The loopy-θ baselines bp, vbp and rm (aif-mp-baselines.md §3–6) written once for host and
// device. `Exec` says how the loops run: for_each(n, f) calls f(i) for every i < n and then
// waits for all of them (a plain loop on the CPU, one problem per OpenMP thread; the threads
// of one block on a GPU). Every reduction is done by one caller of f in a fixed order, so a
// device twin sums the same terms in the same order.
//
// Numerics as in the doc §2 (float64 here): LOG_ZERO = -1e12, anything at or below
// LOG_ZERO / 2 is zero probability, safe_log clamps at 1e-30, norm_ax subtracts the plain
// log-sum-exp of every entry (a row without a live entry becomes uniform).
#include <cmath>
#include <cstdint>

#include "aif_loopy.hpp"
#include "common/hd.hpp"

namespace mpe::kernels {

namespace loopy {

constexpr double kLZ = -1e12;  // LOG_ZERO (logspace.hpp's kLogZero, in double)
constexpr double kLZ2 = kLZ / 2;
// A probability-space sum below this falls back to the literal log-sum-exp (underflow guard of
// the fast form).
constexpr double kTiny = 1e-280;

MPE_HD bool live(double v) { return v > kLZ2; }
// e^x, 0 below -745 (where it underflows anyway) without the slow underflow path of libm's exp
// (exps of LOG_ZERO entries are common here).
MPE_HD double ex(double x) { return x < -745.0 ? 0.0 : exp(x); }
MPE_HD double slog(float p) {
  return p > 0.0f ? log(static_cast<double>(p > 1e-30f ? p : 1e-30f)) : kLZ;
}
// The probability whose slog is taken: p clamped below at 1e-30, 0 for p <= 0.
MPE_HD double sprob(float p) {
  return p > 0.0f ? static_cast<double>(p > 1e-30f ? p : 1e-30f) : 0.0;
}
MPE_HD double sdiv(double a, double b) { return live(a) && live(b) ? a - b : kLZ; }

// Streaming log-sum-exp over live terms; LOG_ZERO when none is live.
struct Lse {
  double m = kLZ, s = 0;
  MPE_HD void push(double v) {
    if (!live(v)) return;
    if (s == 0) {
      m = v;
      s = 1;
    } else if (v > m) {
      s = s * loopy::ex(m - v) + 1;
      m = v;
    } else {
      s += loopy::ex(v - m);
    }
  }
  MPE_HD double get() const { return s > 0 ? m + log(s) : kLZ; }
};

// Plain log-sum-exp over v[k * stride], k < n, zero-probability entries included.
MPE_HD double plain_lse(const double* v, std::int64_t n, std::int64_t stride) {
  double m = v[0];
  for (std::int64_t k = 1; k < n; ++k) m = v[k * stride] > m ? v[k * stride] : m;
  double s = 0;
  for (std::int64_t k = 0; k < n; ++k) s += loopy::ex(v[k * stride] - m);
  return m + log(s);
}

MPE_HD void norm(double* v, std::int64_t n, std::int64_t stride) {
  const double z = plain_lse(v, n, stride);
  for (std::int64_t k = 0; k < n; ++k) v[k * stride] -= z;
}

// The cavity of factor a among n factors with θ-messages M[b * K + θ] (doc §3):
// out = norm_θ(lth + Σ_b M[b] - M[a]).
MPE_HD void cavity(const double* lth, const double* M, std::int64_t n, std::int64_t K,
                   std::int64_t a, double* out) {
  for (std::int64_t th = 0; th < K; ++th) {
    double s = lth[th];
    for (std::int64_t b = 0; b < n; ++b) s += M[b * K + th];
    out[th] = s - M[a * K + th];
  }
  norm(out, K, 1);
}

// dampG (doc §2) of ch[k], k < n, toward raw(k): geometric mixing, renormalised over the n
// entries. Returns the largest |e^new - e^old| when `track`.
template <class Raw>
MPE_HD double damp(double* ch, std::int64_t n, const Raw& raw, double lambda, bool track) {
  auto mixed = [&](std::int64_t k) {
    const double o = ch[k], r = raw(k);
    return live(o) || live(r) ? (1 - lambda) * o + lambda * r : kLZ;
  };
  double m = mixed(0);
  for (std::int64_t k = 1; k < n; ++k) {
    const double d = mixed(k);
    m = d > m ? d : m;
  }
  double s = 0;
  for (std::int64_t k = 0; k < n; ++k) s += loopy::ex(mixed(k) - m);
  const double z = m + log(s);
  double change = 0;
  for (std::int64_t k = 0; k < n; ++k) {
    const double o = ch[k], r = raw(k);
    const bool ok = live(o) || live(r);
    const double v = ok ? (1 - lambda) * o + lambda * r - z : kLZ;
    if (track) {
      const double delta = fabs(loopy::ex(v) - loopy::ex(o));
      change = delta > change ? delta : change;
    }
    ch[k] = v;
  }
  return change;
}

// Offsets (in doubles) of one problem's workspace arrays.
struct Layout {
  std::int64_t lT, pT, pTt, lth, lpu, lq0, lgoal, lC, lB, Md, Mo, Mp, Mdp, cd, co, cp, ecd, tot, ru,
      rx, R, fwd, bwd, loc, ox, px, qu, P, Q, w, qrun, pref, rowchg, scal, PB, total;
  MPE_HD explicit Layout(const AifLoopyConfig& c) {
    const std::int64_t S = c.S, K = c.K, A = c.A, H = c.H, E = c.nnz;
    std::int64_t at = 0;
    auto take = [&at](std::int64_t n) {
      const std::int64_t here = at;
      at += (n + 15) / 16 * 16;  // 128-byte aligned arrays
      return here;
    };
    lT = take(E * K);
    pT = take(E * K);   // [e][θ]
    pTt = take(K * E);  // [θ][e]
    lth = take(K);
    lpu = take(A);
    lq0 = take(S);
    lgoal = take(S);
    lC = take(c.theta_goal ? S * K : 0);
    lB = take(c.obs_factors && c.method != kAifBp ? c.F * c.O * S * K : 0);
    Md = take(H * K);
    Mo = take((H + 1) * K);
    Mp = take((H + 1) * K);
    Mdp = take(H * K);
    cd = take(H * K);  // bp: its cavities cav[t]
    co = take((H + 1) * K);
    cp = take((H + 1) * K);
    ecd = take(H * K);  // exp of cd (fast form)
    tot = take(K);
    ru = take(H * S * A);
    rx = take(H * E);
    R = take(H * E);
    fwd = take((H + 1) * S);
    bwd = take((H + 1) * S);
    loc = take((H + 1) * S);
    ox = take((H + 1) * S);
    px = take((H + 1) * S);
    qu = take(H * A);
    P = take(S * A);
    Q = take(E);
    w = take(E);
    qrun = take(K);
    pref = take(S);
    rowchg = take(S * A + S);  // per-row channel changes of the last iteration
    scal = take(2);            // [0] the largest live weight of a θ reduction, [1] the change
    PB = take(c.fast ? H * S * A : 0);  // fast form: lse_n(R + Bn + lpu) per (t, o, u)
    total = at;
  }
};

}  // namespace loopy

template <class Exec>
class AifLoopyCore {
 public:
  // ws: aif_loopy_workspace_doubles(c) doubles; iws: aif_loopy_workspace_ints(c) ints.
  MPE_HD AifLoopyCore(const AifLoopyConfig& c, const AifLoopyProblem& p, double* ws,
                      std::int32_t* iws, const Exec& exec)
      : c_(c), p_(p), L_(c), w_(ws), iw_(iws), ex_(exec) {}

  MPE_HD_FN void run() {
    prepare();
    for (int it = 0; it < c_.I; ++it) {
      const bool last = it == c_.I - 1;
      if (bp()) {
        bp_kernel();
      } else {
        cavities();
        channel_kernel();
        local_messages();
      }
      forward();
      backward();
      if (bp()) {
        bp_theta_messages(last);
      } else {
        theta_messages();
        channels(last);
      }
    }
    finish();
  }

 private:
  using I64 = std::int64_t;
  MPE_HD bool bp() const { return c_.method == kAifBp; }
  MPE_HD bool rm() const { return c_.method == kAifRm; }
  MPE_HD bool obs() const { return c_.obs_factors && !bp(); }
  MPE_HD double* at(I64 off) const { return w_ + off; }
  MPE_HD I64 E() const { return p_.nnz; }
  // x_old and u of support entry e (split once in prepare(): no division in the hot loops)
  MPE_HD I64 eo(I64 e) const { return iw_[e]; }
  MPE_HD I64 eu(I64 e) const { return iw_[c_.nnz + e]; }
  MPE_HD I64 en(I64 e) const { return p_.sp_n[e]; }
  // The old-side and new-side messages of step t: Fo = fwd[t] + loc[t], Bn = bwd[t+1] + loc[t+1].
  MPE_HD double Fo(int t, I64 o) const {
    return at(L_.fwd)[t * c_.S + o] + at(L_.loc)[t * c_.S + o];
  }
  MPE_HD double Bn(int t, I64 n) const {
    return at(L_.bwd)[(t + 1) * c_.S + n] + at(L_.loc)[(t + 1) * c_.S + n];
  }

  MPE_HD_FN void prepare() {
    const I64 S = c_.S, K = c_.K, A = c_.A, H = c_.H;
    ex_.for_each(E(), [&](I64 e) {
      iw_[e] = p_.sp_ou[e] / static_cast<std::int32_t>(A);
      iw_[c_.nnz + e] = p_.sp_ou[e] % static_cast<std::int32_t>(A);
    });
    ex_.for_each(E() * K, [&](I64 i) {
      const I64 e = i / K, th = i % K;
      const float v = p_.T[((en(e) * S + eo(e)) * K + th) * A + eu(e)];
      at(L_.lT)[i] = loopy::slog(v);
      at(L_.pT)[i] = loopy::sprob(v);
      at(L_.pTt)[th * E() + e] = loopy::sprob(v);
    });
    ex_.for_each(K, [&](I64 th) { at(L_.lth)[th] = loopy::slog(p_.q_theta[th]); });
    ex_.for_each(A, [&](I64 u) { at(L_.lpu)[u] = loopy::slog(p_.pu[u]); });
    ex_.for_each(S, [&](I64 x) {
      at(L_.lq0)[x] = loopy::slog(p_.q0[x]);
      at(L_.lgoal)[x] = c_.theta_goal ? 0.0 : loopy::slog(p_.goal[x]);  // not renormalised
    });
    if (c_.theta_goal) ex_.for_each(S * K, [&](I64 i) { at(L_.lC)[i] = loopy::slog(p_.goal[i]); });
    if (obs()) {
      ex_.for_each(c_.F * c_.O * S * K, [&](I64 i) { at(L_.lB)[i] = loopy::slog(p_.B[i]); });
    }
    ex_.for_each(H * K, [&](I64 i) {
      at(L_.Md)[i] = 0;
      at(L_.Mdp)[i] = 0;
      at(L_.cd)[i] = at(L_.lth)[i % K];  // bp: exactly the log prior, tiled over t
    });
    ex_.for_each(2, [&](I64 i) { at(L_.scal)[i] = 0; });
    ex_.for_each((H + 1) * K, [&](I64 i) {
      at(L_.Mo)[i] = 0;
      at(L_.Mp)[i] = 0;
    });
    const double lu = -log(static_cast<double>(A));
    const double lx = rm() ? -log(static_cast<double>(S)) : 0.0;  // vbp: r_x absent
    ex_.for_each(H * S * A, [&](I64 i) { at(L_.ru)[i] = lu; });
    ex_.for_each(H * E(), [&](I64 i) { at(L_.rx)[i] = lx; });
    ex_.for_each((H + 1) * S, [&](I64 i) {
      at(L_.loc)[i] = 0;
      at(L_.ox)[i] = 0;
      at(L_.px)[i] = 0;
    });
  }

  // log Σ_θ T[e, θ] e^{cav[θ]} for normalised cavities: the fast form's θ reduction, with the
  // literal log-sum-exp when the sum underflows (or no θ is live).
  MPE_HD double theta_reduce(I64 e, const double* cav, const double* ecav) const {
    const I64 K = c_.K;
    if (c_.fast) {
      double s = 0;
      for (I64 th = 0; th < K; ++th) s += at(L_.pT)[e * K + th] * ecav[th];
      if (s > loopy::kTiny) return log(s);
    }
    loopy::Lse a;
    for (I64 th = 0; th < K; ++th) a.push(at(L_.lT)[e * K + th] + cav[th]);
    return a.get();
  }

  // e^{cav} of the H step cavities in cd (fast form).
  MPE_HD_FN void exp_cavities() {
    if (!c_.fast) return;
    ex_.for_each(c_.H * c_.K, [&](I64 i) { at(L_.ecd)[i] = loopy::ex(at(L_.cd)[i]); });
  }

  // bp §5 steps 1-2: R from the cavities, and the preference from the running θ belief.
  MPE_HD_FN void bp_kernel() {
    const I64 S = c_.S, K = c_.K, H = c_.H;
    // cav is exactly the log prior in iteration 1 (not renormalised): e^{cav} <= 1 still.
    exp_cavities();
    for (I64 t = 0; t < H; ++t) {
      ex_.for_each(E(), [&](I64 e) {
        at(L_.R)[t * E() + e] = theta_reduce(e, at(L_.cd) + t * K, at(L_.ecd) + t * K);
      });
    }
    if (!c_.theta_goal) return;  // loc stays 0
    ex_.for_each(K, [&](I64 th) {
      double s = at(L_.lth)[th];
      for (I64 t = 0; t < H; ++t) s += at(L_.Mdp)[t * K + th];
      at(L_.qrun)[th] = s;
    });
    ex_.for_each(1, [&](I64) { loopy::norm(at(L_.qrun), K, 1); });
    ex_.for_each(S, [&](I64 x) {
      loopy::Lse a;
      for (I64 th = 0; th < K; ++th) a.push(at(L_.lC)[x * K + th] + at(L_.qrun)[th]);
      at(L_.pref)[x] = a.get();
    });
    ex_.for_each(1, [&](I64) { loopy::norm(at(L_.pref), S, 1); });
    ex_.for_each((H + 1) * S, [&](I64 i) { at(L_.loc)[i] = at(L_.pref)[i % S]; });
  }

  // vbp/rm §4 step 1: the cavities of every dynamics, observation and preference factor.
  MPE_HD_FN void cavities() {
    const I64 K = c_.K, H = c_.H;
    ex_.for_each(K, [&](I64 th) {
      double s = at(L_.lth)[th];
      for (I64 t = 0; t < H; ++t) s += at(L_.Md)[t * K + th];
      for (I64 t = 0; t <= H; ++t) s += at(L_.Mo)[t * K + th];
      if (c_.theta_goal) {
        for (I64 t = 0; t <= H; ++t) s += at(L_.Mp)[t * K + th];
      }
      at(L_.tot)[th] = s;
    });
    ex_.for_each(H + 1, [&](I64 t) {
      double* cd = at(L_.cd) + t * K;
      double* co = at(L_.co) + t * K;
      double* cp = at(L_.cp) + t * K;
      for (I64 th = 0; th < K; ++th) {
        if (t < H) cd[th] = at(L_.tot)[th] - at(L_.Md)[t * K + th];
        co[th] = at(L_.tot)[th] - at(L_.Mo)[t * K + th];
        cp[th] = at(L_.tot)[th] - at(L_.Mp)[t * K + th];
      }
      if (t < H) loopy::norm(cd, K, 1);
      loopy::norm(co, K, 1);
      loopy::norm(cp, K, 1);
    });
  }

  // vbp/rm §4 step 2 (§6 for the fast form): R = lse_θ(safe_div(lT, r_x) + r_u + cd[t]).
  MPE_HD_FN void channel_kernel() {
    const I64 S = c_.S, K = c_.K, A = c_.A, H = c_.H;
    exp_cavities();
    for (I64 t = 0; t < H; ++t)
      ex_.for_each(E(), [&](I64 e) {
        const I64 i = t * E() + e;
        const double rx = at(L_.rx)[i];
        const double ru = at(L_.ru)[(t * S + eo(e)) * A + eu(e)];
        if (c_.fast) {
          const double b = theta_reduce(e, at(L_.cd) + t * K, at(L_.ecd) + t * K);
          const double v = loopy::live(b) && loopy::live(rx) ? b - rx + ru : loopy::kLZ;
          at(L_.R)[i] = loopy::live(v) ? v : loopy::kLZ;
        } else {
          loopy::Lse a;
          for (I64 th = 0; th < K; ++th) {
            a.push(loopy::sdiv(at(L_.lT)[e * K + th], rx) + ru + at(L_.cd)[t * K + th]);
          }
          at(L_.R)[i] = a.get();
        }
      });
  }

  // vbp/rm §4 step 3: observation and preference messages to x at every slice.
  MPE_HD_FN void local_messages() {
    const I64 S = c_.S, K = c_.K, F = c_.F, O = c_.O, H = c_.H;
    ex_.for_each((H + 1) * S, [&](I64 i) {
      const I64 t = i / S, x = i % S;
      double sum = 0;
      if (obs()) {
        for (I64 f = 0; f < F; ++f) {
          loopy::Lse a;
          for (I64 y = 0; y < O; ++y)
            for (I64 th = 0; th < K; ++th)
              a.push(at(L_.lB)[((f * O + y) * S + x) * K + th] + at(L_.co)[t * K + th]);
          sum += a.get();
        }
      }
      at(L_.ox)[i] = sum;  // skipped factors: uniform after the norm below
      if (c_.theta_goal) {
        loopy::Lse a;
        for (I64 th = 0; th < K; ++th) a.push(at(L_.lC)[x * K + th] + at(L_.cp)[t * K + th]);
        at(L_.px)[i] = a.get();
      }
    });
    ex_.for_each(H + 1, [&](I64 t) {
      loopy::norm(at(L_.ox) + t * S, S, 1);
      if (c_.theta_goal) loopy::norm(at(L_.px) + t * S, S, 1);
    });
    ex_.for_each((H + 1) * S, [&](I64 i) { at(L_.loc)[i] = at(L_.ox)[i] + at(L_.px)[i]; });
  }

  // §4 step 4: fwd[t+1] = norm_n(lse_{o,u}(R + fwd[t] + loc[t] + lpu)).
  MPE_HD_FN void forward() {
    const I64 S = c_.S, H = c_.H;
    ex_.for_each(S, [&](I64 x) { at(L_.fwd)[x] = at(L_.lq0)[x]; });
    for (int t = 0; t < H; ++t) {
      ex_.for_each(S, [&](I64 n) {
        loopy::Lse a;
        for (I64 k = p_.in_off[n]; k < p_.in_off[n + 1]; ++k) {
          const I64 e = p_.in_e[k];
          a.push(at(L_.R)[t * E() + e] + Fo(t, eo(e)) + at(L_.lpu)[eu(e)]);
        }
        at(L_.fwd)[(t + 1) * S + n] = a.get();
      });
      ex_.for_each(1, [&](I64) { loopy::norm(at(L_.fwd) + (t + 1) * S, S, 1); });
    }
  }

  // §4 step 5: q_u[t] and bwd[t] from bwd[t+1].
  MPE_HD_FN void backward() {
    const I64 S = c_.S, A = c_.A, H = c_.H;
    ex_.for_each(S, [&](I64 x) { at(L_.bwd)[H * S + x] = at(L_.lgoal)[x]; });
    for (int t = static_cast<int>(H) - 1; t >= 0; --t) {
      if (c_.fast) {
        backward_rows(t);
      } else {
        ex_.for_each(S + A, [&](I64 i) {
          loopy::Lse a;
          if (i < S) {  // bwd[t, o] over the rows (o, u)
            const I64 o = i;
            for (I64 u = 0; u < A; ++u)
              for (I64 e = p_.sp_off[o * A + u]; e < p_.sp_off[o * A + u + 1]; ++e)
                a.push(at(L_.R)[t * E() + e] + Bn(t, en(e)) + at(L_.lpu)[u]);
            at(L_.bwd)[t * S + o] = a.get();
          } else {  // q_u[t, u] before the softmax
            const I64 u = i - S;
            for (I64 o = 0; o < S; ++o) {
              const double fo = Fo(t, o);
              for (I64 e = p_.sp_off[o * A + u]; e < p_.sp_off[o * A + u + 1]; ++e)
                a.push(at(L_.R)[t * E() + e] + fo + Bn(t, en(e)));
            }
            const double v = a.get();
            at(L_.qu)[t * A + u] = loopy::live(v) ? v + at(L_.lpu)[u] : loopy::kLZ;
          }
        });
      }
      ex_.for_each(2, [&](I64 j) {
        if (j == 0) {
          loopy::norm(at(L_.bwd) + t * S, S, 1);
          return;
        }
        double* q = at(L_.qu) + t * A;
        loopy::Lse z;
        for (I64 u = 0; u < A; ++u) z.push(q[u]);
        const double zz = z.get();
        if (!loopy::live(zz)) {  // no action reaches the goal: every value is LOG_ZERO, and the
          // reference's softmax of equal values is uniform (over the actions the prior allows)
          double n = 0;
          for (I64 u = 0; u < A; ++u) n += loopy::live(at(L_.lpu)[u]) ? 1.0 : 0.0;
          for (I64 u = 0; u < A; ++u) q[u] = loopy::live(at(L_.lpu)[u]) ? 1.0 / n : 0.0;
          return;
        }
        for (I64 u = 0; u < A; ++u) q[u] = loopy::live(q[u]) ? loopy::ex(q[u] - zz) : 0.0;
      });
    }
  }

  // Fast form of one backward step: the row sums PB[t, o, u] = lse_n(R + Bn + lpu) once (one
  // exp per entry), then bwd[t, o] = lse_u PB and q_u[t, u] = lse_o(Fo + PB - lpu) + lpu; the
  // region step reuses PB (P = Fo + PB). The literal form sums the entries twice.
  MPE_HD_FN void backward_rows(int t) {
    const I64 S = c_.S, A = c_.A;
    double* PB = at(L_.PB) + t * S * A;
    ex_.for_each(S * A, [&](I64 ou) {
      const double lpu = at(L_.lpu)[ou % A];
      loopy::Lse a;
      for (I64 e = p_.sp_off[ou]; e < p_.sp_off[ou + 1]; ++e)
        a.push(at(L_.R)[t * E() + e] + Bn(t, en(e)) + lpu);
      PB[ou] = a.get();
    });
    ex_.for_each(S + A, [&](I64 i) {
      loopy::Lse a;
      if (i < S) {
        for (I64 u = 0; u < A; ++u) a.push(PB[i * A + u]);
        at(L_.bwd)[t * S + i] = a.get();
        return;
      }
      const I64 u = i - S;
      const double lpu = at(L_.lpu)[u];
      for (I64 o = 0; o < S; ++o) {
        const double pb = PB[o * A + u];
        if (loopy::live(pb)) a.push(Fo(t, o) + pb - lpu);
      }
      const double v = a.get();
      at(L_.qu)[t * A + u] = loopy::live(v) ? v + lpu : loopy::kLZ;
    });
  }

  // lse_e(lT[e, θ] + wlog(e)) for every θ, into out[θ]: §5 step 4 / §4 step 6's Md. The fast
  // form takes one exp per entry (θ-independent weights) and sums T in probability space.
  template <class WLog>
  MPE_HD_FN void dynamics_messages(int t, double* out, const WLog& wlog) {
    const I64 K = c_.K;
    if (c_.fast) {
      ex_.for_each(E(), [&](I64 e) { at(L_.w)[e] = wlog(e); });
      ex_.for_each(1, [&](I64) {
        double m = loopy::kLZ;
        for (I64 e = 0; e < E(); ++e) m = at(L_.w)[e] > m ? at(L_.w)[e] : m;
        at(L_.scal)[0] = m;
      });
      const double m = at(L_.scal)[0];
      ex_.for_each(E(), [&](I64 e) {
        const double v = at(L_.w)[e];
        at(L_.w)[e] = loopy::live(v) ? loopy::ex(v - m) : 0.0;
      });
    }
    ex_.for_each(K, [&](I64 th) {
      if (c_.fast && loopy::live(at(L_.scal)[0])) {
        double s = 0;
        const double* pt = at(L_.pTt) + th * E();
        for (I64 e = 0; e < E(); ++e) s += pt[e] * at(L_.w)[e];
        if (s > loopy::kTiny) {
          out[th] = at(L_.scal)[0] + log(s);
          return;
        }
      }
      loopy::Lse a;
      for (I64 e = 0; e < E(); ++e) a.push(at(L_.lT)[e * K + th] + wlog(e));
      out[th] = a.get();
    });
    (void)t;
  }

  // bp §5 steps 4-5: dynamics messages to θ and the new cavities.
  MPE_HD_FN void bp_theta_messages(bool last) {
    const I64 K = c_.K, H = c_.H;
    for (int t = 0; t < H; ++t) {
      dynamics_messages(t, at(L_.Md) + t * K,
                        [&](I64 e) { return Fo(t, eo(e)) + Bn(t, en(e)) + at(L_.lpu)[eu(e)]; });
    }
    ex_.for_each(H, [&](I64 t) {
      double* cav = at(L_.cd) + t * K;
      double* nw = at(L_.ecd) + t * K;  // scratch for the new cavity
      loopy::cavity(at(L_.lth), at(L_.Md), H, K, t, nw);
      for (I64 th = 0; th < K; ++th) {
        if (last) {
          const double d = fabs(loopy::ex(nw[th]) - loopy::ex(cav[th]));
          at(L_.Mdp)[t * K + th] = d;  // the change, read by finish() (Md_prev is unused now)
        }
        cav[th] = nw[th];
      }
    });
    if (last) {
      ex_.for_each(1, [&](I64) {
        double ch = 0;
        for (I64 i = 0; i < H * K; ++i) ch = at(L_.Mdp)[i] > ch ? at(L_.Mdp)[i] : ch;
        at(L_.scal)[1] = ch;
      });
      return;
    }
    ex_.for_each(H * K, [&](I64 i) { at(L_.Mdp)[i] = at(L_.Md)[i]; });
  }

  // vbp/rm §4 step 6: messages to θ from this sweep, for the next iteration's cavities.
  MPE_HD_FN void theta_messages() {
    const I64 S = c_.S, K = c_.K, A = c_.A, F = c_.F, O = c_.O, H = c_.H;
    for (int t = 0; t < H; ++t) {
      dynamics_messages(t, at(L_.Md) + t * K, [&](I64 e) {
        const double rx = at(L_.rx)[t * E() + e];
        if (!loopy::live(rx)) return loopy::kLZ;  // safe_div of every θ is LOG_ZERO
        return -rx + at(L_.ru)[(t * S + eo(e)) * A + eu(e)] + Fo(t, eo(e)) + Bn(t, en(e)) +
               at(L_.lpu)[eu(e)];
      });
    }
    ex_.for_each((H + 1) * K, [&](I64 i) {
      const I64 t = i / K, th = i % K;
      const double* fwd = at(L_.fwd) + t * S;
      const double* bwd = at(L_.bwd) + t * S;
      double sum = 0;  // skipped observation factors: a θ-constant, 0
      if (obs()) {
        for (I64 f = 0; f < F; ++f) {
          loopy::Lse a;
          for (I64 y = 0; y < O; ++y)
            for (I64 x = 0; x < S; ++x)
              a.push(at(L_.lB)[((f * O + y) * S + x) * K + th] + fwd[x] + bwd[x] +
                     at(L_.px)[t * S + x]);
          sum += a.get();
        }
      }
      at(L_.Mo)[i] = sum;
      if (c_.theta_goal) {
        loopy::Lse a;
        for (I64 x = 0; x < S; ++x)
          a.push(at(L_.lC)[x * K + th] + fwd[x] + bwd[x] + at(L_.ox)[t * S + x]);
        at(L_.Mp)[i] = a.get();
      }
    });
  }

  // vbp/rm §4 steps 7-8: region beliefs and the damped channels.
  MPE_HD_FN void channels(bool last) {
    const I64 S = c_.S, A = c_.A, H = c_.H;
    const double lambda = c_.lambda;
    if (last) ex_.for_each(1, [&](I64) { at(L_.scal)[1] = 0; });
    for (int t = 0; t < H; ++t) {
      double* Q = at(L_.Q);
      double* P = at(L_.P);
      if (rm() || !c_.fast) {
        ex_.for_each(E(), [&](I64 e) {
          const double v = at(L_.R)[t * E() + e] + Fo(t, eo(e)) + Bn(t, en(e)) + at(L_.lpu)[eu(e)];
          Q[e] = loopy::live(v) ? v : loopy::kLZ;
        });
      }
      ex_.for_each(S * A, [&](I64 ou) {
        if (c_.fast) {  // P = lse_n Q = Fo + PB
          const double fo = Fo(t, ou / A), pb = at(L_.PB)[t * S * A + ou];
          const double v = loopy::live(fo) && loopy::live(pb) ? fo + pb : loopy::kLZ;
          P[ou] = loopy::live(v) ? v : loopy::kLZ;
          return;
        }
        loopy::Lse a;
        for (I64 e = p_.sp_off[ou]; e < p_.sp_off[ou + 1]; ++e) a.push(Q[e]);
        P[ou] = a.get();
      });
      // r_x rows (o, u) over their support entries, and r_u rows o over u: independent rows.
      ex_.for_each(rm() ? S * A + S : S, [&](I64 i) {
        double ch;
        if (i < S) {
          const double z = loopy::plain_lse(P + i * A, A, 1);
          ch = loopy::damp(
              at(L_.ru) + (t * S + i) * A, A, [&](I64 u) { return P[i * A + u] - z; }, lambda,
              last);
        } else {
          const I64 ou = i - S, first = p_.sp_off[ou], len = p_.sp_off[ou + 1] - first;
          if (len == 0) return;
          ch = loopy::damp(
              at(L_.rx) + t * E() + first, len,
              [&](I64 k) { return loopy::sdiv(Q[first + k], P[ou]); }, lambda, last);
        }
        if (last) at(L_.rowchg)[i] = ch;
      });
      if (last) {
        ex_.for_each(1, [&](I64) {
          double& ch = at(L_.scal)[1];
          for (I64 i = 0; i < (rm() ? S * A + S : S); ++i)
            ch = at(L_.rowchg)[i] > ch ? at(L_.rowchg)[i] : ch;
        });
      }
    }
  }

  MPE_HD_FN void finish() {
    const I64 S = c_.S, A = c_.A, H = c_.H;
    ex_.for_each(1, [&](I64) {
      double z = 1e-10;
      for (I64 u = 0; u < A; ++u) z += at(L_.qu)[u];
      for (I64 u = 0; u < A; ++u) p_.action_dist[u] = bp() ? at(L_.qu)[u] : at(L_.qu)[u] / z;
      *p_.max_change = at(L_.scal)[1];
    });
    ex_.for_each(H * A, [&](I64 i) { p_.q_u[i] = at(L_.qu)[i]; });
    if (p_.r_u) ex_.for_each(H * S * A, [&](I64 i) { p_.r_u[i] = at(L_.ru)[i]; });
    if (p_.r_x) ex_.for_each(H * E(), [&](I64 i) { p_.r_x[i] = at(L_.rx)[i]; });
  }

  const AifLoopyConfig& c_;
  const AifLoopyProblem& p_;
  loopy::Layout L_;
  double* w_;
  std::int32_t* iw_;
  const Exec& ex_;
};

}  // namespace mpe::kernels
