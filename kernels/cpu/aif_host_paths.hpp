#pragma once
// The host's paths of AifCore (kernels/common/aif_core.hpp), the member functions it runs only
// when Exec::kHostRows (kernels/cpu/aif_plan_body.hpp): dense rows in single vectorised passes
// with shifts known in advance, the kept exps of base - r_x, the sparse path as flat segment
// passes, and the blocked θ-mixture of T. The same sums as the shared paths, to float rounding
// (tests/unit/test_aif_reference.cpp). Only the CPU's translation units include this file.
#include <type_traits>

#include "common/aif_core.hpp"

namespace mpe::kernels {

template <class Exec>
MPE_HD_FN bool AifCore<Exec>::mix_blocks_host() {
  const std::int64_t S = c_.S, K = c_.K, A = c_.A;
  if (A > 8) return false;
  const float* q = p_.q_theta;
  float* base = at(L_.base);
  for (std::int64_t n = 0; n < S; ++n)
    for (std::int64_t o = 0; o < S; ++o) {
      const float* blk = p_.T + (n * S + o) * K * A;
      float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      std::int64_t th = 0;
      for (; th * A + 8 <= K * A; ++th) {  // 8 floats from θ's row stay inside the block
        const float w = q[th];
        MPE_UNROLL
        for (int j = 0; j < 8; ++j) acc[j] += blk[th * A + j] * w;
      }
      for (; th < K; ++th) {
        for (std::int64_t u = 0; u < A; ++u) acc[u] += blk[th * A + u] * q[th];
      }
      for (std::int64_t u = 0; u < A; ++u) {
        const float p = acc[u];
        const float l = lse_log(p > 1e-30f ? p : 1e-30f);
        base[(o * A + u) * S + n] = p > 0.0f ? l : kLogZero;
      }
    }
  return true;
}

template <class Exec>
MPE_HD void AifCore<Exec>::refresh_row(const float* b, const float* x, std::int64_t len, float* e,
                                       float* rmax, float* sane) {
  float m = kLogZero, low = 0.0f;
  MPE_SIMD_REDUCE2(max : m, min : low)
  for (std::int64_t n = 0; n < len; ++n) {
    const float w = x[n] > kLogZeroHalf ? b[n] - x[n] : kLogZero;
    m = w > m ? w : m;
    const float lo = x[n] < w ? x[n] : w;
    low = lo < low ? lo : low;
  }
  *sane = low > -kSane ? 1.0f : 0.0f;
  MPE_SIMD
  for (std::int64_t n = 0; n < len; ++n) {
    const float w = b[n] - x[n];
    const float ex = lse_exp(w - m);
    e[n] = ((x[n] > kLogZeroHalf) & (w > kLogZeroHalf)) ? ex : 0.0f;
  }
  *rmax = m;
}

template <class Exec>
MPE_HD_FN void AifCore<Exec>::refresh_rows(int t) {
  const std::int64_t S = c_.S, R = c_.S * c_.A;
  const float* rx = at(L_.rx) + t * R * S;
  const float* base = at(L_.base);
  float* e = at(L_.ek) + t * R * S;
  float* rm = at(L_.rmax) + t * R;
  float* sane = at(L_.rsane) + t * R;
  for (std::int64_t r = 0; r < R; ++r) {
    refresh_row(base + r * S, rx + r * S, S, e + r * S, rm + r, sane + r);
  }
}

template <class Exec>
template <class Term>
MPE_HD float AifCore<Exec>::exact_lse(std::int64_t len, const Term& term) {
  float m = kLogZero;
  MPE_SIMD_MAX(m)
  for (std::int64_t k = 0; k < len; ++k) {
    const float v = term(k);
    m = v > m ? v : m;
  }
  float sum = 0.0f;
  MPE_SIMD_SUM(sum)
  for (std::int64_t k = 0; k < len; ++k) {
    const float v = term(k);
    sum += v > kLogZeroHalf ? lse_exp(v - m) : 0.0f;
  }
  return aif_lse_finish(m, sum);
}

template <class Exec>
MPE_HD_FN void AifCore<Exec>::forward_host() {
  const std::int64_t S = c_.S, A = c_.A, R = S * A;
  float* fwd = at(L_.fwd);
  float* msg = at(L_.msg);
  float* sum = at(L_.col);
  float* w = at(L_.q);  // row weights e^(rmax + crow - bound)
  const float* loc = at(L_.loc);
  const float* lpu = at(L_.lpu);
  const float* base = at(L_.base);
  for (std::int64_t x = 0; x < S; ++x) fwd[x] = safe_log(p_.q0[x]);
  for (int t = 0; t < c_.H; ++t) {
    const float* rx = at(L_.rx) + t * R * S;
    const float* e = at(L_.ek) + t * R * S;
    const float* ru = at(L_.r_u) + t * R;
    const float* rm = at(L_.rmax) + t * R;
    float* crow = at(L_.crow);
    float bound = kLogZero;
    for (std::int64_t r = 0; r < R; ++r) {  // r = o * A + u
      const std::int64_t o = r / A;
      crow[r] = ru[r] + fwd[t * S + o] + loc[t * S + o] + lpu[r % A];
      const float b = rm[r] + crow[r];
      w[r] = b;
      bound = ((rm[r] > kLogZeroHalf) & (b > bound)) ? b : bound;
    }
    for (std::int64_t n = 0; n < S; ++n) sum[n] = 0.0f;
    if (bound > kLogZeroHalf) {
      MPE_SIMD
      for (std::int64_t r = 0; r < R; ++r) {
        const float ex = lse_exp(w[r] - bound);
        w[r] = ((rm[r] > kLogZeroHalf) & (w[r] > kLogZeroHalf)) ? ex : 0.0f;
      }
      for (std::int64_t r = 0; r < R; ++r) {
        const float wr = w[r];
        if (wr == 0.0f) continue;
        const float* er = e + r * S;
        MPE_SIMD
        for (std::int64_t n = 0; n < S; ++n) sum[n] += wr * er[n];
      }
    }
    for (std::int64_t n = 0; n < S; ++n) {
      msg[n] = sum[n] >= kLseFloor ? bound + lse_log(sum[n]) : exact_lse(R, [&](std::int64_t r) {
        const float x = rx[r * S + n];
        const float v = base[r * S + n] - x + crow[r];
        return x > kLogZeroHalf ? v : kLogZero;
      });
    }
    finish_message(fwd + (t + 1) * S, at(L_.fwd_prev) + (t + 1) * S);
  }
}

template <class Exec>
MPE_HD_FN void AifCore<Exec>::backward_host(float& mine) {
  if (c_.geometric) {
    backward_host_rows(mine, std::true_type{});
  } else {
    backward_host_rows(mine, std::false_type{});
  }
}

template <class Exec>
template <class Geo>
MPE_HD_FN void AifCore<Exec>::backward_host_rows(float& mine, Geo) {
  const std::int64_t S = c_.S, A = c_.A, R = S * A;
  float* bwd = at(L_.bwd);
  float* bn = at(L_.bn);
  float* q = at(L_.q);
  float* P = at(L_.P);
  float* dv = at(L_.jscr);
  float* eb = dv + S;
  const float* fwd = at(L_.fwd);
  const float* loc = at(L_.loc);
  const float* lpu = at(L_.lpu);
  const float* base = at(L_.base);
  const bool update_rx = c_.method >= kAifRm;
  const float lambda = c_.lambda;
  for (std::int64_t x = 0; x < S; ++x) bwd[c_.H * S + x] = at(L_.lgoal)[x];
  for (int t = c_.H - 1; t >= 0; --t) {
    float* rx = at(L_.rx) + t * R * S;
    float* ek = at(L_.ek) + t * R * S;
    const float* ru = at(L_.r_u) + t * R;
    float* rm = at(L_.rmax) + t * R;
    float* sane = at(L_.rsane) + t * R;
    float bn_max = kLogZero, bn_min = 0.0f;
    for (std::int64_t n = 0; n < S; ++n) {
      bn[n] = bwd[(t + 1) * S + n] + loc[(t + 1) * S + n];
      bn_max = bn[n] > bn_max ? bn[n] : bn_max;
      bn_min = bn[n] < bn_min ? bn[n] : bn_min;
    }
    MPE_SIMD
    for (std::int64_t n = 0; n < S; ++n) {
      const float ex = lse_exp(bn[n] - bn_max);
      eb[n] = bn[n] > kLogZeroHalf ? ex : 0.0f;
    }
    for (std::int64_t r = 0; r < R; ++r) {
      const std::int64_t o = r / A, u = r % A;
      float* xr = rx + r * S;
      float* er = ek + r * S;
      const float* br = base + r * S;
      const float c = ru[r];
      // Σ_n e^(J - shift) with J = base - r_x + c + bn: each term at most 1.
      const float shift = rm[r] + c + bn_max;
      float lse_j = kLogZero;
      if ((rm[r] > kLogZeroHalf) & (shift > kLogZeroHalf)) {
        float sj = 0.0f;
        MPE_SIMD_SUM(sj)
        for (std::int64_t n = 0; n < S; ++n) sj += er[n] * eb[n];
        lse_j = sj >= kLseFloor ? shift + lse_log(sj) : exact_lse(S, [&](std::int64_t n) {
          const float x = xr[n];
          const float v = br[n] - x + c + bn[n];
          return x > kLogZeroHalf ? v : kLogZero;
        });
      }
      const float fo = fwd[t * S + o] + loc[t * S + o];
      const float p_raw = lse_j + fo + lpu[u];
      const float p = log_is_zero(p_raw) ? kLogZero : p_raw;
      q[r] = lse_j + lpu[u];
      P[t * R + r] = p;
      if (!update_rx) continue;
      // r_x damped toward its raw value J - lse_j. The damped values (dv) are
      // log-probabilities, shifted by 0; the same pass finds the row's new rmax, so one more
      // pass writes r_x and ek (rmax = max_n (base - dv) + z since r_x = dv - z).
      const bool p_live = p > kLogZeroHalf;
      // Fast row: every entry and constant ordinary, so every term is live (same values).
      const bool fast = Geo::value && sane[r] > 0.0f && c > -kSane && bn_min > -kSane &&
                        p > -kSane && lse_j > -kSane;
      float sd = 0.0f, mb = kLogZero;
      if (fast) {
        MPE_SIMD_REDUCE2(+ : sd, max : mb)
        for (std::int64_t n = 0; n < S; ++n) {
          const float x = xr[n];
          const float v = br[n] - x + c + bn[n];
          const float d = (1.0f - lambda) * x + lambda * (v - lse_j);
          dv[n] = d;
          sd += lse_exp(d);
          const float w = br[n] - d;
          mb = w > mb ? w : mb;
        }
      } else {
        MPE_SIMD_REDUCE2(+ : sd, max : mb)
        for (std::int64_t n = 0; n < S; ++n) {
          const float x = xr[n];
          const float v = br[n] - x + c + bn[n];
          const bool j_live = (x > kLogZeroHalf) & (v > kLogZeroHalf);
          const float raw = (j_live & p_live) ? v - lse_j : kLogZero;
          float d;
          if constexpr (Geo::value) {
            const bool live = (x > kLogZeroHalf) | (raw > kLogZeroHalf);
            const float mixed = (1.0f - lambda) * x + lambda * raw;
            d = live ? mixed : kLogZero;
          } else {
            d = damp_mix(DampKind::arithmetic, x, raw, lambda);
          }
          dv[n] = d;
          const float ex = lse_exp(d);
          const bool d_live = d > kLogZeroHalf;
          sd += d_live ? ex : 0.0f;
          const float w = d_live ? br[n] - d : kLogZero;
          mb = w > mb ? w : mb;
        }
      }
      const float z =
          sd >= kLseFloor ? lse_log(sd) : exact_lse(S, [&](std::int64_t n) { return dv[n]; });
      const float shift_z = z == kLogZero ? 0.0f : z;
      if (track_) {
        float change = 0.0f;
        MPE_SIMD_MAX(change)
        for (std::int64_t n = 0; n < S; ++n) {
          const float delta = fabsf(lse_exp(dv[n] - shift_z) - lse_exp(xr[n]));
          change = delta > change ? delta : change;
        }
        mine = change > mine ? change : mine;
      }
      float low_x = 0.0f, low_w = 0.0f;  // for the next iteration's fast-row test
      if (fast) {
        MPE_SIMD_REDUCE2(min : low_x, min : low_w)
        for (std::int64_t n = 0; n < S; ++n) {
          const float d = dv[n];
          const float w = br[n] - d;
          const float xn = d - shift_z;
          xr[n] = xn;
          er[n] = lse_exp(w - mb);
          low_x = xn < low_x ? xn : low_x;
          low_w = w < low_w ? w : low_w;
        }
      } else {
        MPE_SIMD_REDUCE2(min : low_x, min : low_w)
        for (std::int64_t n = 0; n < S; ++n) {
          const float d = dv[n];
          const float w = br[n] - d;
          const float ex = lse_exp(w - mb);
          const float xn = d - shift_z;
          xr[n] = xn;
          er[n] = ((d > kLogZeroHalf) & (w > kLogZeroHalf)) ? ex : 0.0f;
          low_x = xn < low_x ? xn : low_x;
          low_w = w < low_w ? w : low_w;
        }
      }
      rm[r] = mb > kLogZeroHalf ? mb + shift_z : kLogZero;
      sane[r] = ((low_x > -kSane) & (low_w + shift_z > -kSane)) ? 1.0f : 0.0f;
    }
    finish_backward_step_rows(t);
  }
}

template <class Exec>
template <class Seg>
MPE_HD void AifCore<Exec>::segment_lse(const float* v, std::int64_t E, const Seg& seg,
                                       std::int64_t groups, float* mx, float* sum, float* ex,
                                       float* out) {
  for (std::int64_t g = 0; g < groups; ++g) {
    mx[g] = kLogZero;
    sum[g] = 0.0f;
  }
  for (std::int64_t e = 0; e < E; ++e) {
    const std::int64_t g = seg(e);
    mx[g] = v[e] > mx[g] ? v[e] : mx[g];
  }
  MPE_SIMD
  for (std::int64_t e = 0; e < E; ++e) {
    const float x = lse_exp(v[e] - mx[seg(e)]);
    ex[e] = v[e] > kLogZeroHalf ? x : 0.0f;
  }
  for (std::int64_t e = 0; e < E; ++e) sum[seg(e)] += ex[e];
  MPE_SIMD
  for (std::int64_t g = 0; g < groups; ++g) out[g] = aif_lse_finish(mx[g], sum[g]);
}

template <class Exec>
MPE_HD_FN void AifCore<Exec>::forward_sparse_host() {
  const std::int64_t S = c_.S, A = c_.A, E = nnz();
  float* fwd = at(L_.fwd);
  float* val = at(L_.hsv);
  float* ex = val + E;
  float* mx = at(L_.hseg);
  float* sum = mx + S * A;
  float* crow = at(L_.crow);
  const std::int32_t* ou = p_.sp_ou;
  const std::int32_t* tgt = p_.sp_n;
  for (std::int64_t x = 0; x < S; ++x) fwd[x] = safe_log(p_.q0[x]);
  for (int t = 0; t < c_.H; ++t) {
    for (std::int64_t r = 0; r < S * A; ++r) {
      const std::int64_t o = r / A;
      crow[r] = fwd[t * S + o] + at(L_.loc)[t * S + o] + at(L_.lpu)[r % A];
    }
    const float* kd = at(L_.kd) + t * E;
    MPE_SIMD
    for (std::int64_t e = 0; e < E; ++e) val[e] = kd[e] + crow[ou[e]];
    segment_lse(
        val, E, [tgt](std::int64_t e) { return tgt[e]; }, S, mx, sum, ex, at(L_.msg));
    finish_message(fwd + (t + 1) * S, at(L_.fwd_prev) + (t + 1) * S);
  }
}

template <class Exec>
MPE_HD_FN void AifCore<Exec>::backward_region_sparse_host(float& mine) {
  const std::int64_t S = c_.S, A = c_.A, R = S * A, E = nnz();
  const bool update_rx = c_.method >= kAifRm;
  const float lambda = c_.lambda;
  const DampKind dk = kind();
  const std::int32_t* ou = p_.sp_ou;
  const std::int32_t* tgt = p_.sp_n;
  float* bwd = at(L_.bwd);
  float* msg = at(L_.msg);
  float* bn = at(L_.bn);
  float* val = at(L_.hsv);
  float* ex = val + E;
  float* mx = at(L_.hseg);
  float* sum = mx + R;
  float* seg_lse = sum + R;
  float* P = at(L_.P);
  const float* fwd = at(L_.fwd);
  const float* loc = at(L_.loc);
  const float* lpu = at(L_.lpu);
  auto by_row = [ou](std::int64_t e) { return ou[e]; };
  bool singletons = true;  // deterministic dynamics: at most one successor per (x_old, u)
  for (std::int64_t r = 0; r < R; ++r) singletons &= p_.sp_off[r + 1] - p_.sp_off[r] <= 1;
  for (std::int64_t x = 0; x < S; ++x) bwd[c_.H * S + x] = at(L_.lgoal)[x];
  for (int t = c_.H - 1; t >= 0; --t) {
    const float* kd = at(L_.kd) + t * E;
    float* rx = at(L_.rx) + t * E;
    for (std::int64_t n = 0; n < S; ++n) bn[n] = bwd[(t + 1) * S + n] + loc[(t + 1) * S + n];
    MPE_SIMD
    for (std::int64_t e = 0; e < E; ++e) val[e] = kd[e] + bn[tgt[e]];
    if (singletons) {  // one successor per (x_old, u): the sum is its one term
      for (std::int64_t r = 0; r < R; ++r) {
        seg_lse[r] = p_.sp_off[r + 1] > p_.sp_off[r] ? val[p_.sp_off[r]] : kLogZero;
      }
      for (std::int64_t r = 0; r < R; ++r)
        seg_lse[r] = log_is_zero(seg_lse[r]) ? kLogZero : seg_lse[r];
    } else {
      segment_lse(val, E, by_row, R, mx, sum, ex, seg_lse);  // L[o,u] = lse_n (Kd + Bn)
    }
    // P = L + fo + log pu; the backward message and the action marginal are its sums.
    for (std::int64_t r = 0; r < R; ++r) {
      const std::int64_t o = r / A, u = r % A;
      const float p_raw = seg_lse[r] + fwd[t * S + o] + loc[t * S + o] + lpu[u];
      P[t * R + r] = log_is_zero(p_raw) ? kLogZero : p_raw;
    }
    for (std::int64_t o = 0; o < S; ++o) {
      msg[o] = exact_lse(A, [&](std::int64_t u) { return seg_lse[o * A + u] + lpu[u]; });
    }
    for (std::int64_t u = 0; u < A; ++u) {
      p_.q_u[t * A + u] = exact_lse(S,
                                    [&](std::int64_t o) {
                                      return seg_lse[o * A + u] + (fwd[t * S + o] + loc[t * S + o]);
                                    }) +
                          lpu[u];
    }
    if (update_rx) {  // r_x toward J - P on each segment, J = Kd + fo + Bn + log pu
      const float* Pt = P + t * R;
      float* crow = at(L_.crow);
      for (std::int64_t r = 0; r < R; ++r)
        crow[r] = (fwd[t * S + r / A] + loc[t * S + r / A]) + lpu[r % A];
      float* d = ex;
      if (c_.geometric) {
        MPE_SIMD
        for (std::int64_t e = 0; e < E; ++e) {
          const float j = val[e] + crow[ou[e]];
          const float p = Pt[ou[e]];
          const float x = rx[e];
          const float raw = ((j > kLogZeroHalf) & (p > kLogZeroHalf)) ? j - p : kLogZero;
          const bool live = (x > kLogZeroHalf) | (raw > kLogZeroHalf);
          const float mixed = (1.0f - lambda) * x + lambda * raw;
          d[e] = live ? mixed : kLogZero;
        }
      } else {
        for (std::int64_t e = 0; e < E; ++e) {
          const float raw = safe_div(val[e] + crow[ou[e]], Pt[ou[e]]);
          d[e] = damp_mix(dk, rx[e], raw, lambda);
        }
      }
      if (singletons) {  // a one-entry segment normalises to log 1 wherever it is live
        float change = 0.0f;
        MPE_SIMD_MAX(change)
        for (std::int64_t e = 0; e < E; ++e) {
          const float v = d[e] > kLogZeroHalf ? 0.0f : d[e];
          const float delta = fabsf(lse_exp(v) - lse_exp(rx[e]));
          change = delta > change ? delta : change;
          rx[e] = v;
        }
        if (track_) mine = change > mine ? change : mine;
        finish_backward_step(t);
        continue;
      }
      // Per segment, the damped values are log-probabilities (Hölder): shift 0, no max pass.
      for (std::int64_t r = 0; r < R; ++r) sum[r] = 0.0f;
      MPE_SIMD
      for (std::int64_t e = 0; e < E; ++e) {
        const float x = lse_exp(d[e]);
        val[e] = d[e] > kLogZeroHalf ? x : 0.0f;
      }
      for (std::int64_t e = 0; e < E; ++e) sum[ou[e]] += val[e];
      const std::int32_t* off = p_.sp_off;
      for (std::int64_t r = 0; r < R; ++r) {
        seg_lse[r] = sum[r] >= kLseFloor ? lse_log(sum[r])
                                         : exact_lse(off[r + 1] - off[r],
                                                     [&](std::int64_t i) { return d[off[r] + i]; });
      }
      if (track_) {
        float change = 0.0f;
        MPE_SIMD_MAX(change)
        for (std::int64_t e = 0; e < E; ++e) {
          const float z = seg_lse[ou[e]];
          const float v = z == kLogZero ? d[e] : d[e] - z;
          const float delta = fabsf(lse_exp(v) - lse_exp(rx[e]));
          change = delta > change ? delta : change;
        }
        mine = change > mine ? change : mine;
      }
      MPE_SIMD
      for (std::int64_t e = 0; e < E; ++e) {
        const float z = seg_lse[ou[e]];
        rx[e] = z == kLogZero ? d[e] : d[e] - z;
      }
    }
    finish_backward_step(t);
  }
}

}  // namespace mpe::kernels
