#pragma once
// AIF-MP planning (aif-mp.md §4) written once for both backends. `Exec` says how the loops
// run: a plain loop on the CPU (one problem per OpenMP thread), the threads of one block on
// the GPU (one problem per block). Every reduction is done by one thread in a fixed order, so
// both backends sum the same terms in the same order.
#include <cstdint>
#include <type_traits>

#include "aif_plan.hpp"
#include "common/damping.hpp"
#include "common/logspace.hpp"

namespace mpe::kernels {

// Offsets (in floats) of every array in one problem's workspace. The dynamics arrays (base,
// r_x) are laid out [o][u][n] per step in the dense layout, so that each (x_old, u) row over
// x_new is contiguous (rows are what the backward pass and the r_x update walk), and per
// support entry in the sparse layout.
struct AifLayout {
  std::int64_t lq, lpu, logB, base, lgoal, pref, r_u, r_c, r_m, kobs, loc, kd, fwd, bwd, fwd_prev,
      bwd_prev, msg, bn, q, crow, fx, col, oscr, pol_t, vmix, P, rx, rmax, ek, rsane, jscr, hsv, hseg, total;

  // host: the CPU's extra arrays for its single-pass rows (AifCore with Exec::kHostRows).
  MPE_HD explicit AifLayout(const AifConfig& c, bool host = false) {
    const std::int64_t S = c.S, A = c.A, H = c.H;
    const std::int64_t obs = c.F * c.O * c.S * c.K, marg = c.F * c.O * c.S;
    // The dense path's H+1 observation slices start equal (uniform channels) and their
    // updates read neither t nor the messages, so they stay bit-for-bit equal: one is kept.
    const std::int64_t slices = 1;
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
    kd = take(c.sparse ? H * c.nnz : 0);  // sparse only: the dense kernel is formed on the fly
    fwd = take((H + 1) * S);
    bwd = take((H + 1) * S);
    fwd_prev = take((H + 1) * S);
    bwd_prev = take((H + 1) * S);
    msg = take(S);
    bn = take(S);          // bwd[t+1] + loc[t+1] of the current backward step
    q = take(S * A);       // logsumexp over x_new of one step's rows (+ log p(u))
    crow = take(S * A);    // forward: the constant part of each row's terms
    fx = take(c.F * S);    // per-modality observation messages of one slice
    col = take(2 * S);     // column log-sum-exp scratch (host)
    // damp_slices scratch: observation slices (n = S·K along O), and on the host also r_u
    // (n = H·S along A).
    const std::int64_t obs_scr = (3 + c.O) * S * c.K, pol_scr = host ? (3 + A) * H * S : 0;
    oscr = take(obs_scr > pol_scr ? obs_scr : pol_scr);
    pol_t = take(host ? 2 * H * S * A : 0);  // host: P and r_u transposed to [u][t, x_old]
    vmix = take(slices * marg);  // θ-mixtures of kobs
    P = take(H * S * A);   // region log-weights per (t, x_old, u)
    rx = take(H * dyn);    // r_x, the predictive dynamics channel
    const bool rows = host && !c.sparse;  // the host's dense rows
    hsv = take(host && c.sparse ? 2 * c.nnz : 0);      // host sparse: per-entry values, exps
    hseg = take(host && c.sparse ? 3 * S * A : 0);     // host sparse: per-(x_old, u) sums
    rmax = take(rows ? H * S * A : 0);  // max_n (base - r_x) of each row
    ek = take(rows ? H * dyn : 0);      // exp(base - r_x - rmax), per entry
    rsane = take(rows ? H * S * A : 0); // 1 where a row's r_x and base - r_x are all ordinary
    jscr = take(rows ? 2 * S : 0);      // a row's damped values; exps of the backward message
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
      const float delta = fabsf(lse_exp(v) - lse_exp(old_v));
      change = delta > change ? delta : change;
    }
    ch[k * stride] = v;
  }
  return change;
}

// log(sum) after a max-shifted sum: kLogZero when no term was live.
MPE_HD float aif_lse_finish(float m, float sum) {
  const float l = m + lse_log(sum);  // computed unconditionally: selects vectorise, branches not
  return ((m > kLogZeroHalf) & (sum > 0.0f)) ? l : kLogZero;
}

// Exec supplies the loops (see kernels/cpu/aif_plan.cpp and kernels/cuda/aif_plan.cu):
//   for_each(n, f)             f(i) for i < n, then a barrier;
//   max_all(v)                 the largest v over the problem's threads;
//   for_each_row(rows, len, body)   body(row, r) for every row r; `row` offers max(f) and
//                              sum(f) over f(k), k < len (same result on every lane of a row),
//                              each(f) and once(f) for side effects;
//   column_lse(rows, cols, rowc, term, out, scratch)
//                              out[n] = logsumexp_r term(r, n, rowc(r)), n < cols.
template <class Exec>
class AifCore {
 public:
  MPE_HD AifCore(const AifConfig& c, const AifProblem& p, float* ws, const Exec& exec)
      : c_(c), p_(p), L_(c, Exec::kHostRows), w_(ws), ex_(exec), track_(false) {}

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
          observation_kernel(rc, rm, k, at(L_.vmix));
          float unused = 0.0f;
          observation_region(k, at(L_.vmix), rc, rm, unused);
        }
      }
      observation_kernel(rc, rm, k, at(L_.vmix));
      observation_to_x(at(L_.vmix), at(L_.msg));
      ex_.for_each((H + 1) * S,
                   [&](std::int64_t i) { at(L_.loc)[i] = at(L_.msg)[i % S] + at(L_.pref)[i % S]; });
    }
    int it = 0;
    float change = 0.0f;
    for (; it < c_.I; ++it) {
      // Channel changes cost two exps per entry: measured only where they are used.
      track_ = c_.tolerance > 0.0f || it == c_.I - 1;
      float mine = 0.0f;   // this thread's largest channel change
      if (c_.dense_obs) {  // (a), on the one slice that stands for all H+1 (see AifLayout)
        observation_kernel(at(L_.r_c), at(L_.r_m), at(L_.kobs), at(L_.vmix));
        observation_to_x(at(L_.vmix), at(L_.msg));
        ex_.for_each((H + 1) * S,
                     [&](std::int64_t i) { at(L_.loc)[i] = at(L_.msg)[i % S] + at(L_.pref)[i % S]; });
      }
      if (c_.sparse) {
        dynamics_kernel_sparse();
        forward_sparse();
        if constexpr (Exec::kHostRows) {
          backward_region_sparse_host(mine);  // (d) fused with (e) + (g) for r_x
        } else {
          backward_sparse();
          dynamics_region_sparse(mine);
        }
      } else {
        forward();           // (b) + (c): the kernel is formed on the fly from base, r_x, r_u
        backward(mine);      // (d) fused with (e) + (g) for r_x
      }
      if (c_.method >= kAifVbp) update_policy(mine);  // (g) for r_u
      if (c_.dense_obs && c_.method == kAifAif) {  // (f) + (g) for r_c, r_m
        observation_region(at(L_.kobs), at(L_.vmix), at(L_.r_c), at(L_.r_m), mine);
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
    write_outputs(it, change);
  }

 private:
  MPE_HD float* at(std::int64_t offset) const { return w_ + offset; }
  MPE_HD std::int64_t obs() const { return c_.F * c_.O * c_.S * c_.K; }
  MPE_HD std::int64_t marg() const { return c_.F * c_.O * c_.S; }
  MPE_HD std::int64_t nnz() const { return p_.sp_off[c_.S * c_.A]; }  // this problem's support
  // r_x as reported: [t, o, n, u]
  MPE_HD std::int64_t ix_x(std::int64_t t, std::int64_t o, std::int64_t n, std::int64_t u) const {
    return ((t * c_.S + o) * c_.S + n) * c_.A + u;
  }
  MPE_HD DampKind kind() const { return c_.geometric ? DampKind::geometric : DampKind::arithmetic; }

  MPE_HD_FN void prepare() {
    const std::int64_t S = c_.S, K = c_.K, A = c_.A, O = c_.O, H = c_.H;
    ex_.for_each(K, [&](std::int64_t th) { at(L_.lq)[th] = safe_log(p_.q_theta[th]); });
    ex_.for_each(A, [&](std::int64_t u) { at(L_.lpu)[u] = safe_log(p_.pu[u]); });
    ex_.for_each(obs(), [&](std::int64_t i) { at(L_.logB)[i] = safe_log(p_.B[i]); });
    // base = log Σ_θ T[n,o,θ,u] qθ[θ] (a mixture of probabilities: no log-space sum needed),
    // dense [o][u][n] (one (o, n) pair per work item, reading T's K·A block once) or on the
    // support.
    auto mix = [&](std::int64_t n, std::int64_t o, std::int64_t u) {
      const float* Tk = p_.T + (n * S + o) * K * A + u;
      float sum = 0.0f;
      for (std::int64_t th = 0; th < K; ++th) sum += Tk[th * A] * p_.q_theta[th];
      return safe_log(sum);
    };
    if (c_.sparse) {
      ex_.for_each(nnz(), [&](std::int64_t e) {
        at(L_.base)[e] = mix(p_.sp_n[e], p_.sp_ou[e] / A, p_.sp_ou[e] % A);
      });
    } else {
      bool done = false;
      if constexpr (Exec::kHostRows) done = mix_blocks_host();
      if (!done) {
        ex_.for_each(S * S, [&](std::int64_t i) {
          const std::int64_t o = i / S, n = i % S;
          for (std::int64_t u = 0; u < A; ++u) at(L_.base)[(o * A + u) * S + n] = mix(n, o, u);
        });
      }
    }
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
    ex_.for_each(H * (c_.sparse ? nnz() : S * S * A), [&](std::int64_t i) { at(L_.rx)[i] = lx; });
    ex_.for_each(obs(), [&](std::int64_t i) { at(L_.r_c)[i] = lo; });
    ex_.for_each(marg(), [&](std::int64_t i) { at(L_.r_m)[i] = lo; });
    ex_.for_each((H + 1) * S, [&](std::int64_t i) {
      at(L_.loc)[i] = 0.0f;
      at(L_.fwd_prev)[i] = 0.0f;
      at(L_.bwd_prev)[i] = 0.0f;
    });
    if constexpr (Exec::kHostRows) {
      if (!c_.sparse) {
        for (int t = 0; t < c_.H; ++t) refresh_rows(t);
      }
    }
  }

  // Dense base on the host for A <= 8: each (x_new, x_old) block of T, [θ][u], read in order
  // with one 8-wide multiply-add per θ (lanes past A read the next θ's entries and are
  // dropped; the θ rows whose 8 floats would leave the block are read element by element),
  // then a vectorisable log. The same sums as mix(), in the same order. False when A > 8.
  MPE_HD_FN bool mix_blocks_host();

  // Results: r_x in the reported layout (LOG_ZERO off the support when sparse), r_c, counts.
  MPE_HD_FN void write_outputs(int it, float change) {
    const std::int64_t S = c_.S, A = c_.A, H = c_.H;
    if (p_.r_x && c_.sparse) {
      ex_.for_each(H * S * S * A, [&](std::int64_t i) { p_.r_x[i] = kLogZero; });
      ex_.for_each(H * nnz(), [&](std::int64_t i) {
        const std::int64_t t = i / nnz(), e = i % nnz();
        const std::int64_t ou = p_.sp_ou[e];
        p_.r_x[ix_x(t, ou / A, p_.sp_n[e], ou % A)] = at(L_.rx)[i];
      });
    } else if (p_.r_x) {  // [t][o][u][n] -> [t][o][n][u]
      ex_.for_each(H * S * S * A, [&](std::int64_t i) {
        const std::int64_t u = i % A, n = (i / A) % S, to = i / (A * S);
        p_.r_x[i] = at(L_.rx)[(to * A + u) * S + n];
      });
    }
    if (p_.r_c && c_.dense_obs) {
      ex_.for_each((H + 1) * obs(), [&](std::int64_t i) { p_.r_c[i] = at(L_.r_c)[i % obs()]; });
    }
    ex_.for_each(1, [&](std::int64_t) {
      if (p_.iterations_run) *p_.iterations_run = it;
      if (p_.max_change) *p_.max_change = change;
    });
  }

  // kobs = log B + r_c + safe_div(r_c, r_m), one time slice, and its θ-mixture
  // vm[f,y,x] = logsumexp_θ(kobs[f,y,x,θ] + log qθ), which both the observation message and
  // the r_m update use.
  MPE_HD_FN void observation_kernel(const float* rc, const float* rm, float* k, float* vm) {
    const std::int64_t K = c_.K;
    const float* logB = at(L_.logB);
    const float* lq = at(L_.lq);
    auto kernel_row = [&](std::int64_t r) {  // r = (f, y, x); θ contiguous
      const float m = rm[r];
      const std::int64_t first = r * K;
      MPE_SIMD
      for (std::int64_t th = 0; th < K; ++th) {
        const float c = rc[first + th];
        k[first + th] = logB[first + th] + c + safe_div(c, m);
      }
    };
    if constexpr (Exec::kHostRows) {  // the kernel row by row, then the mixtures across rows
      const std::int64_t R = marg();
      for (std::int64_t r = 0; r < R; ++r) kernel_row(r);
      // One lane per row (θ strided): K is often below the vector width (Frozen Lake: 15).
      MPE_SIMD
      for (std::int64_t r = 0; r < R; ++r) {
        const float* kr = k + r * K;
        float mx = kLogZero;
        for (std::int64_t th = 0; th < K; ++th) {
          const float e = kr[th] + lq[th];
          mx = e > mx ? e : mx;
        }
        float sum = 0.0f;
        for (std::int64_t th = 0; th < K; ++th) {
          const float e = kr[th] + lq[th];
          const float ex = lse_exp(e - mx);
          sum += e > kLogZeroHalf ? ex : 0.0f;
        }
        vm[r] = aif_lse_finish(mx, sum);
      }
      return;
    }
    ex_.for_each(marg(), [&](std::int64_t r) {
      kernel_row(r);
      vm[r] = theta_mixture_lse(k + r * K, lq);
    });
  }

  // out[x] = norm_x(Σ_f logsumexp_y vm[f,y,x]).
  MPE_HD_FN void observation_to_x(const float* vm, float* out) {
    const std::int64_t S = c_.S, O = c_.O, F = c_.F;
    float* fx = at(L_.fx);
    if constexpr (Exec::kHostRows) {  // passes over x (contiguous for each (f, y))
      float* m = at(L_.oscr);
      float* sum = m + S;
      for (std::int64_t f = 0; f < F; ++f) {
        const float* v = vm + f * O * S;
        for (std::int64_t x = 0; x < S; ++x) {
          m[x] = kLogZero;
          sum[x] = 0.0f;
        }
        for (std::int64_t y = 0; y < O; ++y) {
          MPE_SIMD
          for (std::int64_t x = 0; x < S; ++x) m[x] = v[y * S + x] > m[x] ? v[y * S + x] : m[x];
        }
        for (std::int64_t y = 0; y < O; ++y) {
          MPE_SIMD
          for (std::int64_t x = 0; x < S; ++x) {
            const float e = lse_exp(v[y * S + x] - m[x]);
            sum[x] += v[y * S + x] > kLogZeroHalf ? e : 0.0f;
          }
        }
        MPE_SIMD
        for (std::int64_t x = 0; x < S; ++x) fx[f * S + x] = aif_lse_finish(m[x], sum[x]);
      }
    } else {
      ex_.for_each(F * S, [&](std::int64_t r) {
        const std::int64_t f = r / S, x = r % S;
        LseAcc acc;
        for (std::int64_t y = 0; y < O; ++y) acc.push(vm[(f * O + y) * S + x]);
        fx[r] = acc.result();
      });
    }
    ex_.for_each(S, [&](std::int64_t x) {
      float total = 0.0f;
      for (std::int64_t f = 0; f < F; ++f) total += fx[f * S + x];
      out[x] = total;
    });
    normalize_states(out);
  }

  // logsumexp over θ < K of k[θ] + lq[θ], two passes (max, then sum).
  MPE_HD float theta_mixture_lse(const float* k, const float* lq) const {
    const std::int64_t K = c_.K;
    float m = kLogZero;
    MPE_SIMD_MAX(m)
    for (std::int64_t th = 0; th < K; ++th) {
      const float e = k[th] + lq[th];
      m = e > m ? e : m;
    }
    float sum = 0.0f;
    MPE_SIMD_SUM(sum)
    for (std::int64_t th = 0; th < K; ++th) {
      const float e = k[th] + lq[th];
      const float ex = lse_exp(e - m);
      sum += e > kLogZeroHalf ? ex : 0.0f;
    }
    return aif_lse_finish(m, sum);
  }

  // Damps r_c toward norm_y(k) and r_m toward norm_y(logsumexp_θ(k + log qθ)), one slice.
  MPE_HD_FN void observation_region(const float* k, const float* vm, float* rc, float* rm,
                                    float& mine) {
    const std::int64_t S = c_.S, K = c_.K, O = c_.O, F = c_.F, SK = S * K;
    for (std::int64_t f = 0; f < F; ++f) {
      const float d = damp_slices(rc + f * O * SK, k + f * O * SK, SK, O);
      mine = d > mine ? d : mine;
    }
    // r_m slices (f, x) along y: for each f, S slices laid out [y][x] as damp_slices wants.
    for (std::int64_t f = 0; f < F; ++f) {
      const float d = damp_slices(rm + f * O * S, vm + f * O * S, S, O);
      mine = d > mine ? d : mine;
    }
  }

  // Whether every entry of n two-outcome slices (ch and k) is a live probability.
  MPE_HD_FN bool all_live_pairs(const float* ch, const float* k, std::int64_t n) {
    auto live = [&](std::int64_t i) {
      return (ch[i] > kLogZeroHalf) & (ch[n + i] > kLogZeroHalf) & (k[i] > kLogZeroHalf) &
             (k[n + i] > kLogZeroHalf);
    };
    if constexpr (Exec::kHostRows) {
      int dead = 0;
      MPE_SIMD_SUM(dead)
      for (std::int64_t i = 0; i < n; ++i) dead += live(i) ? 0 : 1;
      return dead == 0;
    } else {
      float* flag = at(L_.oscr);
      ex_.for_each(1, [&](std::int64_t) { flag[0] = 0.0f; });
      ex_.for_each(n, [&](std::int64_t i) {
        if (!live(i)) flag[0] = 1.0f;  // every writer stores the same value
      });
      const bool all = flag[0] == 0.0f;
      ex_.for_each(1, [&](std::int64_t) {});  // a barrier: everyone has read the flag
      return all;
    }
  }

  // damp_slices for two outcomes, geometric damping and live entries: normalising, mixing and
  // renormalising act on the log-odds alone, l' = (1-λ)(a - b) + λ(k_a - k_b) (the
  // normalisers cancel), and the pair becomes (log σ(l'), log σ(-l')): one exp and one log
  // per slice instead of four exps and two logs. Equal to the general path up to rounding.
  MPE_HD_FN float damp_pairs(float* ch, const float* k, std::int64_t n) {
    const float lambda = c_.lambda;
    auto pair = [&](std::int64_t i, float& na, float& nb) {
      const float l = (1.0f - lambda) * (ch[i] - ch[n + i]) + lambda * (k[i] - k[n + i]);
      const float abs_l = l < 0.0f ? -l : l;
      const float soft = lse_log(1.0f + lse_exp(-abs_l));  // log(1 + e^-|l|)
      na = (l < 0.0f ? l : 0.0f) - soft;
      nb = (l > 0.0f ? -l : 0.0f) - soft;
    };
    float change = 0.0f;
    if constexpr (Exec::kHostRows) {
      if (track_) {
        MPE_SIMD_MAX(change)
        for (std::int64_t i = 0; i < n; ++i) {
          float na, nb;
          pair(i, na, nb);
          const float d = fabsf(lse_exp(na) - lse_exp(ch[i]));
          change = d > change ? d : change;
        }
      }
      MPE_SIMD
      for (std::int64_t i = 0; i < n; ++i) {
        float na, nb;
        pair(i, na, nb);
        ch[i] = na;
        ch[n + i] = nb;
      }
    } else {
      const bool track = track_;
      ex_.for_each(n, [&](std::int64_t i) {
        float na, nb;
        pair(i, na, nb);
        if (track) {
          const float d = fabsf(lse_exp(na) - lse_exp(ch[i]));
          change = d > change ? d : change;
        }
        ch[i] = na;
        ch[n + i] = nb;
      });
    }
    return change;
  }

  // Channel slices ch[y * n + i], i < n, y < O (O outcomes, or A actions for r_u): each damped
  // toward norm_y(k[y * n + i]) and renormalised (aif-mp.md §3), as passes over
  // contiguous arrays that the host compiler vectorises. Returns this thread's largest change
  // when tracking (measured from a copy, so tracked and untracked passes give equal values).
  MPE_HD_FN float damp_slices(float* ch, const float* k, std::int64_t n, std::int64_t O) {
    const float lambda = c_.lambda;
    const bool geometric = c_.geometric;
    if (O == 2 && geometric && all_live_pairs(ch, k, n)) return damp_pairs(ch, k, n);
    float* m = at(L_.oscr);
    float* sum = m + n;
    float* z = sum + n;
    float* old = z + n;  // O·n, tracking only
    if (track_) ex_.for_each_simd(O * n, [&](std::int64_t i) { old[i] = ch[i]; });
    ex_.for_each_simd(n, [&](std::int64_t i) {
      m[i] = kLogZero;
      sum[i] = 0.0f;
    });
    for (std::int64_t y = 0; y < O; ++y) {
      const float* ky = k + y * n;
      ex_.for_each_simd(n, [&](std::int64_t i) { m[i] = ky[i] > m[i] ? ky[i] : m[i]; });
    }
    for (std::int64_t y = 0; y < O; ++y) {
      const float* ky = k + y * n;
      ex_.for_each_simd(n, [&](std::int64_t i) {
        const float ex = lse_exp(ky[i] - m[i]);
        sum[i] += ky[i] > kLogZeroHalf ? ex : 0.0f;
      });
    }
    ex_.for_each_simd(n, [&](std::int64_t i) {
      z[i] = aif_lse_finish(m[i], sum[i]);
      m[i] = kLogZero;
      sum[i] = 0.0f;
    });
    // ch <- damped (not yet renormalised); m <- its max along y
    for (std::int64_t y = 0; y < O; ++y) {
      const float* ky = k + y * n;
      float* cy = ch + y * n;
      auto mix = [&](std::int64_t i) {
        const float raw = z[i] == kLogZero ? ky[i] : ky[i] - z[i];
        const float old_v = cy[i];
        const bool live = (old_v > kLogZeroHalf) | (raw > kLogZeroHalf);
        const float geo = live ? (1.0f - lambda) * old_v + lambda * raw : kLogZero;
        cy[i] = geo;
        m[i] = geo > m[i] ? geo : m[i];
      };
      if (geometric) {
        ex_.for_each_simd(n, mix);
      } else {
        ex_.for_each(n, [&](std::int64_t i) {
          const float raw = z[i] == kLogZero ? ky[i] : ky[i] - z[i];
          const float d = damp_mix(DampKind::arithmetic, cy[i], raw, lambda);
          cy[i] = d;
          m[i] = d > m[i] ? d : m[i];
        });
      }
    }
    for (std::int64_t y = 0; y < O; ++y) {
      const float* cy = ch + y * n;
      ex_.for_each_simd(n, [&](std::int64_t i) {
        const float ex = lse_exp(cy[i] - m[i]);
        sum[i] += cy[i] > kLogZeroHalf ? ex : 0.0f;
      });
    }
    ex_.for_each_simd(n, [&](std::int64_t i) { z[i] = aif_lse_finish(m[i], sum[i]); });
    for (std::int64_t y = 0; y < O; ++y) {
      float* cy = ch + y * n;
      ex_.for_each_simd(n, [&](std::int64_t i) { cy[i] = z[i] == kLogZero ? cy[i] : cy[i] - z[i]; });
    }
    float change = 0.0f;
    if (track_) {
      if constexpr (Exec::kHostRows) {
        MPE_SIMD_MAX(change)
        for (std::int64_t i = 0; i < O * n; ++i) {
          const float delta = fabsf(lse_exp(ch[i]) - lse_exp(old[i]));
          change = delta > change ? delta : change;
        }
      } else {
        ex_.for_each(O * n, [&](std::int64_t i) {
          const float delta = fabsf(lse_exp(ch[i]) - lse_exp(old[i]));
          change = delta > change ? delta : change;
        });
      }
    }
    return change;
  }

  // ---- dense dynamics. Kd[t,o,u,n] = r_x live ? base[o,u,n] - r_x + r_u[t,o,u] : LOG_ZERO is
  // formed where it is used, so r_x is read once by the forward pass and read and written once
  // by the fused backward pass (aif-mp.md §5).

  // fwd[t+1][n] = norm(logsumexp_{o,u}(Kd[t,o,u,n] + fwd[t,o] + loc[t,o] + log pu[u]))
  MPE_HD_FN void forward() {
    if constexpr (Exec::kHostRows) {
      forward_host();
      return;
    }
    const std::int64_t S = c_.S, A = c_.A;
    float* fwd = at(L_.fwd);
    const float* loc = at(L_.loc);
    const float* lpu = at(L_.lpu);
    const float* base = at(L_.base);
    ex_.for_each(S, [&](std::int64_t x) { fwd[x] = safe_log(p_.q0[x]); });
    for (int t = 0; t < c_.H; ++t) {
      const float* rx = at(L_.rx) + t * S * A * S;
      const float* ru = at(L_.r_u) + t * S * A;
      float* crow = at(L_.crow);  // per-row constants, so the column pass does no division
      ex_.for_each(S * A, [&](std::int64_t r) {  // r = o * A + u
        const std::int64_t o = r / A;
        crow[r] = ru[r] + fwd[t * S + o] + loc[t * S + o] + lpu[r % A];
      });
      auto rowc = [crow](std::int64_t r) { return crow[r]; };
      auto term = [&](std::int64_t r, std::int64_t n, float c) {
        const float x = rx[r * S + n];
        const float v = base[r * S + n] - x + c;
        return x > kLogZeroHalf ? v : kLogZero;
      };
      ex_.column_lse(S * A, S, rowc, term, at(L_.msg), at(L_.col));
      finish_message(fwd + (t + 1) * S, at(L_.fwd_prev) + (t + 1) * S);
    }
  }

  // For t = H-1..0, one pass over the rows (o, u) of step t: the row's logsumexp over n of
  // J = Kd + bwd[t+1] + loc[t+1] gives the backward message, the action marginal and the
  // region weight P; for rm and aif the same pass damps r_x toward J - logsumexp_n J.
  MPE_HD_FN void backward(float& mine) {
    if constexpr (Exec::kHostRows) {
      backward_host(mine);
      return;
    }
    const std::int64_t S = c_.S, A = c_.A;
    float* bwd = at(L_.bwd);
    float* bn = at(L_.bn);
    float* q = at(L_.q);
    float* P = at(L_.P);
    const float* fwd = at(L_.fwd);
    const float* loc = at(L_.loc);
    const float* lpu = at(L_.lpu);
    const float* base = at(L_.base);
    const bool update_rx = c_.method >= kAifRm;
    const bool track = track_;
    const float lambda = c_.lambda;
    const DampKind dk = kind();
    ex_.for_each(S, [&](std::int64_t x) { bwd[c_.H * S + x] = at(L_.lgoal)[x]; });
    for (int t = c_.H - 1; t >= 0; --t) {
      float* rx = at(L_.rx) + t * S * A * S;
      const float* ru = at(L_.r_u) + t * S * A;
      ex_.for_each(S, [&](std::int64_t n) { bn[n] = bwd[(t + 1) * S + n] + loc[(t + 1) * S + n]; });
      // geo: std::true_type for geometric damping (branch-free, vectorised on the host)
      auto rows = [&](auto geo) {
      ex_.for_each_row(S * A, S, [&](auto& row, std::int64_t r) {
        const std::int64_t o = r / A, u = r % A;
        float* x_row = rx + r * S;
        const float* b_row = base + r * S;
        const float c = ru[r];
        auto J = [&](std::int64_t n) {  // loads outside the select, so the host vectorises it
          const float x = x_row[n];
          const float v = b_row[n] - x + c + bn[n];
          return x > kLogZeroHalf ? v : kLogZero;
        };
        const float mj = row.max(J);
        const float sj = row.sum([&](std::int64_t n) {
          const float v = J(n);
          const float ex = lse_exp(v - mj);  // unconditional: a select vectorises, a branch not
          return v > kLogZeroHalf ? ex : 0.0f;
        });
        const float lse_j = aif_lse_finish(mj, sj);
        const float fo = fwd[t * S + o] + loc[t * S + o];
        const float p_raw = lse_j + fo + lpu[u];
        const float p = log_is_zero(p_raw) ? kLogZero : p_raw;
        row.once([&] {
          q[r] = lse_j + lpu[u];
          P[t * S * A + r] = p;
        });
        if (!update_rx) return;
        // raw r_x = J + fo + log pu - P = J - lse_j; damped and renormalised over n.
        auto d = [&](std::int64_t n) {
          const float v = J(n);
          const float raw = ((v > kLogZeroHalf) & (p > kLogZeroHalf)) ? v - lse_j : kLogZero;
          const float old_v = x_row[n];
          if constexpr (decltype(geo)::value) {
            const bool live = (old_v > kLogZeroHalf) | (raw > kLogZeroHalf);
            const float mixed = (1.0f - lambda) * old_v + lambda * raw;
            return live ? mixed : kLogZero;
          } else {
            return damp_mix(dk, old_v, raw, lambda);
          }
        };
        const float md = row.max(d);
        const float sd = row.sum([&](std::int64_t n) {
          const float v = d(n);
          const float ex = lse_exp(v - md);
          return v > kLogZeroHalf ? ex : 0.0f;
        });
        const float z = aif_lse_finish(md, sd);
        if (track) {
          row.each([&](std::int64_t n) {
            const float old_v = x_row[n];
            const float dv = d(n);
            const float v = z == kLogZero ? dv : dv - z;
            const float delta = fabsf(expf(v) - expf(old_v));
            mine = delta > mine ? delta : mine;
            x_row[n] = v;
          });
        } else {
          row.each([&](std::int64_t n) {
            const float dv = d(n);
            x_row[n] = z == kLogZero ? dv : dv - z;
          });
        }
      });
      };
      if (c_.geometric) {
        rows(std::true_type{});
      } else {
        rows(std::false_type{});
      }
      finish_backward_step_rows(t);
    }
  }

  // After a dense backward step's rows: the message m[o] = logsumexp_u q[o,u] and the action
  // marginal q_u[t,u] = logsumexp_o P[t,o,u], then finish_backward_step.
  MPE_HD_FN void finish_backward_step_rows(int t) {
    const std::int64_t S = c_.S, A = c_.A;
    const float* q = at(L_.q);
    const float* P = at(L_.P);
    float* msg = at(L_.msg);
    ex_.for_each(S + A, [&](std::int64_t i) {
      LseAcc acc;
      if (i < S) {
        for (std::int64_t u = 0; u < A; ++u) acc.push(q[i * A + u]);
        msg[i] = acc.result();
      } else {
        const std::int64_t u = i - S;
        for (std::int64_t o = 0; o < S; ++o) acc.push(P[(t * S + o) * A + u]);
        p_.q_u[t * A + u] = acc.result();
      }
    });
    finish_backward_step(t);
  }

  // ---- host-only paths, run when Exec::kHostRows and defined in kernels/cpu/aif_host_paths.hpp.
  // Dense dynamics on the host: the same sums, each in one vectorised pass, with two
  // exps per entry and iteration instead of three. Each row r = (x_old, u) of step t keeps
  // rmax[r] = max_n (base - r_x) over its live entries and ek[r][n] = e^(base - r_x - rmax),
  // refreshed wherever r_x changes. The forward sum over rows is then Σ_r w_r·ek[r][n] and the
  // backward row sum Σ_n ek[r][n]·e^(bn[n] - max bn): products, no exps; every term is at most
  // 1 after its shift. The damped r_x values are log-probabilities (Hölder: their exps sum to
  // at most 1), so 0 is their shift. A sum whose terms all fell far below its shift
  // (< kLseFloor) is redone from the log-values with its true maximum, so no term is lost;
  // otherwise the result equals the max-shifted sum to float rounding.

  static constexpr float kLseFloor = 1e-20f;
  // A row whose r_x and base - r_x all exceed -kSane (and whose constants do) has every term
  // live, so its passes need none of the zero-probability selects: the fast rows.
  static constexpr float kSane = 1e6f;

  // Refreshes rmax[r] and ek[r][·] of one row from its r_x (x) and base (b).
  static MPE_HD void refresh_row(const float* b, const float* x, std::int64_t len, float* e,
                                 float* rmax, float* sane);

  MPE_HD_FN void refresh_rows(int t);

  // logsumexp_k term(k), k < len, with its true maximum (two passes; also the fallback).
  template <class Term>
  static MPE_HD float exact_lse(std::int64_t len, const Term& term);

  MPE_HD_FN void forward_host();

  MPE_HD_FN void backward_host(float& mine);

  template <class Geo>
  MPE_HD_FN void backward_host_rows(float& mine, Geo);

  // ---- sparse dynamics: the same steps over the support of T only. Every term left out is a
  // structural zero, which the dense path skips as zero probability, so both give the same
  // numbers.

  MPE_HD_FN void dynamics_kernel_sparse() {
    const std::int64_t S = c_.S, A = c_.A, E = nnz();
    for (std::int64_t t = 0; t < c_.H; ++t) {  // per step: no division per entry
      const float* rx = at(L_.rx) + t * E;
      const float* ru = at(L_.r_u) + t * S * A;
      float* kd = at(L_.kd) + t * E;
      ex_.for_each(E, [&](std::int64_t e) {
        const float x = rx[e];
        kd[e] = log_is_zero(x) ? kLogZero : at(L_.base)[e] - x + ru[p_.sp_ou[e]];
      });
    }
  }

  MPE_HD_FN void forward_sparse() {
    if constexpr (Exec::kHostRows) {
      forward_sparse_host();
      return;
    }
    const std::int64_t S = c_.S, A = c_.A, E = nnz();
    float* fwd = at(L_.fwd);
    float* msg = at(L_.msg);
    ex_.for_each(S, [&](std::int64_t x) { fwd[x] = safe_log(p_.q0[x]); });
    float* crow = at(L_.crow);
    for (int t = 0; t < c_.H; ++t) {
      ex_.for_each(S * A, [&](std::int64_t r) {  // r = o * A + u: no division per entry below
        const std::int64_t o = r / A;
        crow[r] = fwd[t * S + o] + at(L_.loc)[t * S + o] + at(L_.lpu)[r % A];
      });
      const float* kd = at(L_.kd) + t * E;
      ex_.for_each(S, [&](std::int64_t n) {
        LseAcc acc;
        for (std::int32_t k = p_.in_off[n]; k < p_.in_off[n + 1]; ++k) {
          const std::int32_t e = p_.in_e[k];
          acc.push(kd[e] + crow[p_.sp_ou[e]]);
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
    const bool track = track_;
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
            aif_damp(at(L_.rx) + t * E + first, last - first, 1, raw, lambda, dk, track);
        mine = d > mine ? d : mine;
      }
    });
  }

  // ---- sparse dynamics on the host (kernels/cpu/aif_host_paths.hpp): each log-sum-exp over
  // the support as flat vectorised passes (values, a max per segment, exps, a sum per segment)
  // instead of one streaming
  // accumulator per segment, and the backward step fused with the region update as in the
  // dense rows: one log-sum-exp per (x_old, u) segment gives the backward message, the action
  // marginal and P. Same terms as the generic path; sums in another order.

  // out[g] = logsumexp over the entries e of segment g (seg(e)) of v[e], for g < groups;
  // mx and sum are scratch of `groups` floats; ex of E floats.
  template <class Seg>
  static MPE_HD void segment_lse(const float* v, std::int64_t E, const Seg& seg, std::int64_t groups,
                                 float* mx, float* sum, float* ex, float* out);

  MPE_HD_FN void forward_sparse_host();

  MPE_HD_FN void backward_region_sparse_host(float& mine);

  // r_u toward norm_u(P), shared by both dynamics layouts.
  MPE_HD_FN void update_policy(float& mine) {
    if constexpr (Exec::kHostRows) {  // transposed to [u][t, x_old]: vectorised damp_slices
      const std::int64_t A = c_.A, n = c_.H * c_.S;
      const float* P = at(L_.P);
      float* ru = at(L_.r_u);
      float* pt = at(L_.pol_t);
      float* rt = pt + n * A;
      for (std::int64_t s = 0; s < n; ++s)
        for (std::int64_t u = 0; u < A; ++u) {
          pt[u * n + s] = P[s * A + u];
          rt[u * n + s] = ru[s * A + u];
        }
      const float d = damp_slices(rt, pt, n, A);
      mine = d > mine ? d : mine;
      for (std::int64_t s = 0; s < n; ++s)
        for (std::int64_t u = 0; u < A; ++u) ru[s * A + u] = rt[u * n + s];
      return;
    }
    const std::int64_t A = c_.A;
    const float* P = at(L_.P);
    const float lambda = c_.lambda;
    const DampKind dk = kind();
    const bool track = track_;
    ex_.for_each(c_.H * c_.S, [&](std::int64_t s) {
      const float* Ps = P + s * A;
      LseAcc acc;
      for (std::int64_t u = 0; u < A; ++u) acc.push(Ps[u]);
      const float z = acc.result();
      auto raw = [&](std::int64_t u) { return z == kLogZero ? Ps[u] : Ps[u] - z; };
      const float d = aif_damp(at(L_.r_u) + s * A, A, 1, raw, lambda, dk, track);
      mine = d > mine ? d : mine;
    });
  }

  // v - logsumexp(v) over S entries (rows without a live entry stay): aif_normalize, on the
  // host as two vectorised passes.
  MPE_HD_FN void normalize_states(float* v) {
    const std::int64_t S = c_.S;
    if constexpr (Exec::kHostRows) {
      const float z = exact_lse(S, [v](std::int64_t n) { return v[n]; });
      if (z == kLogZero) return;
      MPE_SIMD
      for (std::int64_t n = 0; n < S; ++n) v[n] -= z;
    } else {
      ex_.for_each(1, [&](std::int64_t) { aif_normalize(v, S, 1); });
    }
  }

  // Normalises the fresh message in msg and stores it (damped toward prev for aif) in out.
  MPE_HD_FN void finish_message(float* out, const float* prev) {
    const std::int64_t S = c_.S;
    float* msg = at(L_.msg);
    const bool damped = c_.method == kAifAif;
    normalize_states(msg);
    ex_.for_each(S, [&](std::int64_t n) {
      out[n] = damped ? damp_mix(DampKind::geometric, prev[n], msg[n], c_.lambda) : msg[n];
    });
    if (damped) normalize_states(out);
  }

  // After a backward step's sums: softmax of the action marginal q_u[t], then the message.
  MPE_HD_FN void finish_backward_step(int t) {
    const std::int64_t A = c_.A, S = c_.S;
    ex_.for_each(1, [&](std::int64_t) {
      float* qu = p_.q_u + t * A;
      LseAcc z;
      for (std::int64_t u = 0; u < A; ++u) z.push(qu[u]);
      const float lz = z.result();
      for (std::int64_t u = 0; u < A; ++u) qu[u] = expf(qu[u] - lz);
    });
    finish_message(at(L_.bwd) + t * S, at(L_.bwd_prev) + t * S);
  }

  const AifConfig& c_;
  const AifProblem& p_;
  AifLayout L_;
  float* w_;
  const Exec& ex_;
  bool track_;  // measure channel changes (early stopping, and the last iteration's report)
};

}  // namespace mpe::kernels
