#pragma once
// The CPU body of loopy BP, included by kernels/cpu/bp.cpp (baseline build) and by
// kernels/cpu/isa/bp_x86_64_v3.cpp (AVX2 and FMA, with `kernels` renamed), which the baseline
// build calls when cpu_level() (kernels/cpu/cpu_level.hpp) picks that level.
//
// Flooding sweeps take one of two routes:
//  - fast (the host driver passes pot_prob, var_tot, var_zeros): the var step only sums each
//    variable's incoming messages once (totals and a count of zero terms); the factor step
//    forms every q it needs from those totals and the edge's own message (the var step's rule).
//    Binary pairwise factors go in blocks: a scalar gather, one straight loop of the log-odds
//    math (bp_pair2_logodds, bp_binary_from_logodds) that the compiler vectorises with
//    lse_exp/lse_log, a scalar scatter. Factors whose variables all have K states and whose
//    table has at most 64 entries (K×K pairwise, binary triples, ...) go in blocks of one shape
//    with the factors as lanes (shape_block). Other factors take the probability form below. Any
//    factor with a zero (potential, incoming or old message) or a result too small for the
//    probability form is redone in log space by the functions the CUDA kernel shares
//    (bp_pair2_undamped, bp_factor_raw, bp_finish), so zeros behave exactly as before.
//  - log space (everything else, and kBpVarStep alone): the var step writes q, the factor step
//    reads it, as the CUDA kernel.
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "bp.hpp"

namespace mpe::kernels {
namespace bp_detail {

// Below these counts one thread beats waking an OpenMP team.
constexpr std::int32_t kParallelVars = 512;
constexpr std::int32_t kParallelFactors = 512;
// Binary pairwise factors per gather/compute/scatter block of the fast factor step.
constexpr int kPairBlock = 64;
// Probability-form limits of the generic fast path: arity, Σ K over a factor's edges.
constexpr int kFastMaxArity = 8;
constexpr int kFastMaxStates = 64;
// Shares of the other factors handed to the threads.
constexpr int kOtherParts = 64;

// Smallest raw probability-form value kept (inputs scaled to max 1): below it the exact
// log-space path runs (the clamps of lse_exp could otherwise matter).
template <class T>
constexpr T prob_floor() {
  return sizeof(T) == 8 ? T(1e-290) : T(1e-30);
}

// q_{v→f}(x) from v's totals (live sum, zero count) and the edge's own r_{f→v}(x).
template <class T>
inline T q_from_totals(T tot, std::int32_t zeros, T own) {
  const bool l = bp_live(own);
  return zeros - (l ? 0 : 1) > 0 ? bp_zero<T>() : tot - (l ? own : T(0));
}

// q_from_totals where the caller may know that no total has a zero term (kNoZeros: every
// incoming message is live and nothing is observed), which leaves tot − own (the same value).
template <class T, bool kNoZeros>
inline T q_of(const T* tot, const std::int32_t* zeros, std::int64_t s, T own) {
  if constexpr (kNoZeros) {
    return tot[s] - own;
  } else {
    return q_from_totals(tot[s], zeros[s], own);
  }
}

template <class T, bool kMax>
T factor_log(const BpArgs<T>& a, const T* pot, const T* q, T* r, T* scratch, std::int32_t f) {
  T ch = 0;
  const std::int32_t e0 = a.factor_edge_off[f];
  if (a.factor_edge_off[f + 1] - e0 == 2 && a.card[a.edge_var[e0]] == 2 &&
      a.card[a.edge_var[e0 + 1]] == 2) {  // binary pairwise: as the CUDA pair2 kernel
    const T* tab = pot + a.factor_tab_off[f];
    const std::int64_t o0 = a.edge_msg_off[e0];
    const std::int64_t o1 = a.edge_msg_off[e0 + 1];
    if (a.damping == 0) {
      const T c0 = bp_pair2_undamped<T, kMax>(tab, 1, 2, q + o1, r + o0);
      const T c1 = bp_pair2_undamped<T, kMax>(tab, 2, 1, q + o0, r + o1);
      return std::max(c0, c1);
    }
    T raw0[2], raw1[2];
    bp_pair_raw<T, kMax>(tab, 1, 2, 2, 2, q + o1, raw0);
    bp_pair_raw<T, kMax>(tab, 2, 2, 1, 2, q + o0, raw1);
    const T c0 = bp_finish(raw0, r + o0, 2, a.damping);
    const T c1 = bp_finish(raw1, r + o1, 2, a.damping);
    return std::max(c0, c1);
  }
  for (std::int32_t e = e0; e < a.factor_edge_off[f + 1]; ++e) {
    const std::int64_t o = a.edge_msg_off[e];
    bp_factor_raw<T, kMax>(a, pot, q, e, scratch + o);
    ch = std::max(ch, bp_finish(scratch + o, r + o, a.card[a.edge_var[e]], a.damping));
  }
  return ch;
}

template <class T, bool kMax>
T factor_step(const BpArgs<T>& a, const T* pot, const T* q, T* r, T* scratch) {
  T ch = 0;
#pragma omp parallel for schedule(static) reduction(max : ch) if (a.num_factors > kParallelFactors)
  for (std::int32_t f = 0; f < a.num_factors; ++f) {
    ch = std::max(ch, factor_log<T, kMax>(a, pot, q, r, scratch, f));
  }
  return ch;
}

// ---- fast flooding route ----

// Each variable's incoming messages summed once: tot[x] over live terms, zeros[x] counting
// zero terms and evidence that rules x out.
// One thread walks the edges in memory order (r read sequentially; the totals are the small
// array), several threads the variables; both add each variable's messages in edge order, so
// the sums are the same bits.
// Adds (sign +1) or removes (-1) message m of variable v's totals.
template <class T>
void account(const T* m, int k, T* live, std::int32_t* zero, int sign) {
  for (int x = 0; x < k; ++x) {
    if (bp_live(m[x])) {
      live[x] += sign > 0 ? m[x] : -m[x];
    } else {
      zero[x] += sign;
    }
  }
}

// Variable v's totals from scratch: the sum of its live incoming messages and the count of its
// zero ones per state, with evidence counted as a zero in every other state.
template <class T>
void one_var_totals(const BpArgs<T>& a, std::int32_t v, const T* r, const std::int32_t* ev, T* live,
                    std::int32_t* zero) {
  const int k = a.card[v];
  const int obs = ev ? ev[v] : -1;
  for (int x = 0; x < k; ++x) {
    live[x] = 0;
    zero[x] = (obs >= 0 && x != obs) ? 1 : 0;
  }
  for (std::int32_t j = a.var_edge_off[v]; j < a.var_edge_off[v + 1]; ++j)
    account(r + a.var_edge_msg[j], k, live, zero, +1);
}

// account(m, K, live, zero, +1) without a branch per term, for variables of K states: a zero
// term adds 0 to the live sum (the same bits as skipping it: the sum starts at +0 and never
// becomes −0) and 1 to the count.
template <class T, int K>
inline void account_k(const T* m, T* live, std::int32_t* zero) {
  for (int x = 0; x < K; ++x) {
    const bool l = bp_live(m[x]);
    live[x] += l ? m[x] : T(0);
    zero[x] += l ? 0 : 1;
  }
}

// The one-thread totals when every variable has K states: edge e's message is at K·e and
// variable v's totals at K·v, added by account_k.
// Returns true when no total has a zero term (no evidence, every message live).
template <class T, int K>
bool var_totals_k(const BpArgs<T>& a, const T* r, const std::int32_t* ev, T* tot,
                  std::int32_t* zeros) {
  std::fill(tot, tot + std::int64_t{K} * a.num_vars, T(0));
  std::fill(zeros, zeros + std::int64_t{K} * a.num_vars, 0);
  for (std::int32_t v = 0; ev && v < a.num_vars; ++v) {
    for (int x = 0; x < K; ++x) zeros[K * v + x] = (ev[v] >= 0 && x != ev[v]) ? 1 : 0;
  }
  for (std::int32_t e = 0; e < a.num_edges; ++e) {
    const std::int64_t v = a.edge_var[e];
    account_k<T, K>(r + std::int64_t{K} * e, tot + K * v, zeros + K * v);
  }
  std::int32_t any = 0;  // evidence and zero terms both leave a count
  for (std::int64_t i = 0; i < std::int64_t{K} * a.num_vars; ++i) any |= zeros[i];
  return any == 0;
}

// one_var_totals for a variable of K states by account_k (the same bits): the threads' path,
// which gathers each variable's messages.
template <class T, int K>
void one_var_totals_k(const BpArgs<T>& a, std::int32_t v, const T* r, const std::int32_t* ev,
                      T* live, std::int32_t* zero) {
  const int obs = ev ? ev[v] : -1;
  T l[K];
  std::int32_t z[K];
  for (int x = 0; x < K; ++x) {
    l[x] = 0;
    z[x] = (obs >= 0 && x != obs) ? 1 : 0;
  }
  for (std::int32_t j = a.var_edge_off[v]; j < a.var_edge_off[v + 1]; ++j)
    account_k<T, K>(r + a.var_edge_msg[j], l, z);
  for (int x = 0; x < K; ++x) {
    live[x] = l[x];
    zero[x] = z[x];
  }
}

// Returns true when it knows that no total has a zero term (the factor step may then skip the
// zero counts); false when there may be some.
template <class T>
bool var_totals(const BpArgs<T>& a, const T* r, const std::int32_t* ev, T* tot,
                std::int32_t* zeros) {
  if (a.num_vars <= kParallelVars || omp_get_max_threads() == 1) {
    if (a.uniform_card == 2) return var_totals_k<T, 2>(a, r, ev, tot, zeros);
    if (a.uniform_card == 3) return var_totals_k<T, 3>(a, r, ev, tot, zeros);
    for (std::int32_t v = 0; v < a.num_vars; ++v) {
      const int obs = ev ? ev[v] : -1;
      for (int x = 0; x < a.card[v]; ++x) {
        tot[a.var_state_off[v] + x] = 0;
        zeros[a.var_state_off[v] + x] = (obs >= 0 && x != obs) ? 1 : 0;
      }
    }
    for (std::int32_t e = 0; e < a.num_edges; ++e) {
      const std::int32_t v = a.edge_var[e];
      const T* m = r + a.edge_msg_off[e];
      T* t = tot + a.var_state_off[v];
      std::int32_t* z = zeros + a.var_state_off[v];
      for (int x = 0; x < a.card[v]; ++x) {
        if (bp_live(m[x])) {
          t[x] += m[x];
        } else {
          ++z[x];
        }
      }
    }
    return false;
  }
  std::int32_t any = 0;  // as in var_totals_k: evidence and zero terms both leave a count
#pragma omp parallel for schedule(static) reduction(| : any)
  for (std::int32_t v = 0; v < a.num_vars; ++v) {
    std::int32_t* z = zeros + a.var_state_off[v];
    T* t = tot + a.var_state_off[v];
    if (a.uniform_card == 2) {
      one_var_totals_k<T, 2>(a, v, r, ev, t, z);
    } else if (a.uniform_card == 3) {
      one_var_totals_k<T, 3>(a, v, r, ev, t, z);
    } else {
      one_var_totals(a, v, r, ev, t, z);
    }
    for (int x = 0; x < a.card[v]; ++x) any |= z[x];
  }
  return any == 0;
}

// q of factor f's edges from the totals (for the paths that read q).
template <class T>
void factor_q(const BpArgs<T>& a, const T* r, const T* tot, const std::int32_t* zeros,
              std::int32_t f, T* q) {
  for (std::int32_t e = a.factor_edge_off[f]; e < a.factor_edge_off[f + 1]; ++e) {
    const std::int32_t v = a.edge_var[e];
    const std::int64_t o = a.edge_msg_off[e];
    const std::int64_t s = a.var_state_off[v];
    for (int x = 0; x < a.card[v]; ++x) q[o + x] = q_from_totals(tot[s + x], zeros[s + x], r[o + x]);
  }
}

// Binary pairwise factors pair2_factors[i0 .. i0 + n): gather, vectorised math, scatter.
// Returns the block's max change.
template <class T, bool kMax, bool kNoZeros>
T pair2_block(const BpArgs<T>& a, const T* pot, const T* prob, const T* tot,
              const std::int32_t* zeros, T* q, T* r, T* scratch, std::int32_t i0, int n) {
  // Table entry t = x0 + 2·x1 (first variable fastest). To v0: y = x0, u = v1; to v1: y = x1.
  alignas(64) T lt[4][kPairBlock], pt[4][kPairBlock];
  alignas(64) T d0[kPairBlock], d1[kPairBlock], lo0[kPairBlock], lo1[kPairBlock];
  alignas(64) T old0[kPairBlock], old1[kPairBlock];
  alignas(64) T n00[kPairBlock], n01[kPairBlock], n10[kPairBlock], n11[kPairBlock];
  alignas(64) T chg[kPairBlock];
  bool ok[kPairBlock];
  for (int i = 0; i < n; ++i) {
    const std::int64_t* info = a.pair2_info + 4 * std::int64_t{i0 + i};
    const std::int64_t o0 = info[0];
    const std::int64_t o1 = o0 + 2;
    const std::int64_t s0 = info[2];
    const std::int64_t s1 = info[3];
    const T* tab = pot + info[1];
    const T* pr = prob + info[1];
    const T r00 = r[o0], r01 = r[o0 + 1], r10 = r[o1], r11 = r[o1 + 1];
    const T q00 = q_of<T, kNoZeros>(tot, zeros, s0, r00);
    const T q01 = q_of<T, kNoZeros>(tot, zeros, s0 + 1, r01);
    const T q10 = q_of<T, kNoZeros>(tot, zeros, s1, r10);
    const T q11 = q_of<T, kNoZeros>(tot, zeros, s1 + 1, r11);
    const bool good = pr[0] >= 0 && bp_live(r00) && bp_live(r01) && bp_live(r10) &&
                      bp_live(r11) && (bp_live(q00) || bp_live(q01)) &&
                      (bp_live(q10) || bp_live(q11));
    ok[i] = good;
    for (int t = 0; t < 4; ++t) {
      lt[t][i] = good ? tab[t] : T(0);
      pt[t][i] = good ? pr[t] : T(1);
    }
    d0[i] = good ? q01 - q00 : T(0);
    d1[i] = good ? q11 - q10 : T(0);
    lo0[i] = good ? r01 - r00 : T(0);
    lo1[i] = good ? r11 - r10 : T(0);
    old0[i] = good ? r00 : T(0);
    old1[i] = good ? r10 : T(0);
  }
  const T keep = a.damping;
  const T take = T(1) - a.damping;
  for (int i = 0; i < n; ++i) {
    const T l0 = bp_pair2_logodds<T, kMax>(lt[0][i], lt[2][i], lt[1][i], lt[3][i], pt[0][i],
                                           pt[2][i], pt[1][i], pt[3][i], d1[i]);
    const T l1 = bp_pair2_logodds<T, kMax>(lt[0][i], lt[1][i], lt[2][i], lt[3][i], pt[0][i],
                                           pt[1][i], pt[2][i], pt[3][i], d0[i]);
    // Damping in log space is the same blend of log-odds (λ = 0 leaves l exactly).
    const T p0 = bp_binary_from_logodds(take * l0 + keep * lo0[i], n00[i], n01[i]);
    const T p1 = bp_binary_from_logodds(take * l1 + keep * lo1[i], n10[i], n11[i]);
    const T po0 = lse_exp(old0[i]);
    const T po1 = lse_exp(old1[i]);
    const T c0 = p0 > po0 ? p0 - po0 : po0 - p0;
    const T c1 = p1 > po1 ? p1 - po1 : po1 - p1;
    chg[i] = c0 > c1 ? c0 : c1;
  }
  T ch = 0;
  for (int i = 0; i < n; ++i) {
    if (!ok[i]) {
      const std::int32_t f = a.pair2_factors[i0 + i];
      factor_q(a, r, tot, zeros, f, q);
      ch = std::max(ch, factor_log<T, kMax>(a, pot, q, r, scratch, f));
      continue;
    }
    T* m0 = r + a.pair2_info[4 * std::int64_t{i0 + i}];
    T* m1 = m0 + 2;
    m0[0] = n00[i];
    m0[1] = n01[i];
    m1[0] = n10[i];
    m1[1] = n11[i];
    ch = std::max(ch, chg[i]);
  }
  return ch;
}

// The other factors (any arity, any cardinalities) in probability form, a block at a time:
// Q_u = exp(q_u − max q_u) (0 for zero states), raw_v(y) = ⊕_{t: x_v = y} P(t)·Π_{u≠v} Q_u(x_u)
// with P = exp(φ − max φ) and ⊕ = + or max, p = raw/Σ raw, the message log p (damped in log
// space and renormalised when λ > 0), the change from p and exp(old). The exps and logs run
// as straight loops over the block's states (vectorised); the products are scalar. A factor
// with a zero, an empty incoming message, or a raw value below prob_floor is redone in log
// space. Takes up to kGenFactors factors of fs[0 .. avail) (at least one); returns how many.
constexpr int kGenFactors = 32;
constexpr int kGenStates = 512;

template <class T, bool kMax>
int other_block(const BpArgs<T>& a, const T* pot, const T* prob, const T* tot,
                const std::int32_t* zeros, T* q, T* r, T* scratch, const std::int32_t* fs,
                int avail, T& ch) {
  alignas(64) T arg[kGenStates], live[kGenStates], old[kGenStates], qe[kGenStates];
  alignas(64) T po[kGenStates], raw[kGenStates], pn[kGenStates], nv[kGenStates];
  int fstate[kGenFactors + 1], fedge[kGenFactors + 1];
  int est[kGenStates + 1], ek[kGenStates];
  bool fok[kGenFactors];
  int nf = 0, ns = 0, ne = 0;
  while (nf < kGenFactors && nf < avail) {
    const std::int32_t f = fs[nf];
    const std::int32_t e0 = a.factor_edge_off[f];
    const std::int32_t e1 = a.factor_edge_off[f + 1];
    int states = 0;
    for (std::int32_t e = e0; e < e1; ++e) states += a.card[a.edge_var[e]];
    if (e1 - e0 > kFastMaxArity || states > kFastMaxStates) {
      if (nf > 0) break;
      factor_q(a, r, tot, zeros, f, q);  // too big for the block buffers: log space alone
      ch = std::max(ch, factor_log<T, kMax>(a, pot, q, r, scratch, f));
      return 1;
    }
    if (ns + states > kGenStates) break;
    fstate[nf] = ns;
    fedge[nf] = ne;
    bool good = prob[a.factor_tab_off[f]] >= 0;
    for (std::int32_t e = e0; e < e1; ++e) {
      const std::int32_t v = a.edge_var[e];
      const int k = a.card[v];
      const std::int64_t o = a.edge_msg_off[e];
      const std::int64_t sv = a.var_state_off[v];
      est[ne] = ns;
      ek[ne] = k;
      T mx = bp_zero<T>();
      for (int x = 0; x < k; ++x) {
        const T rv = r[o + x];
        const T qv = q_from_totals(tot[sv + x], zeros[sv + x], rv);
        good = good && bp_live(rv);
        old[ns + x] = rv;
        arg[ns + x] = qv;
        mx = bp_live(qv) && qv > mx ? qv : mx;
      }
      good = good && bp_live(mx);
      for (int x = 0; x < k; ++x) {
        const bool l = bp_live(arg[ns + x]);
        live[ns + x] = l ? T(1) : T(0);
        arg[ns + x] = l ? arg[ns + x] - mx : T(0);
      }
      ns += k;
      ++ne;
    }
    fok[nf] = good;
    ++nf;
  }
  fstate[nf] = ns;
  fedge[nf] = ne;
  est[ne] = ns;
  for (int i = 0; i < ns; ++i) {
    qe[i] = live[i] * lse_exp(arg[i]);
    po[i] = lse_exp(old[i]);
  }
  for (int i = 0; i < nf; ++i) {
    if (!fok[i]) {
      for (int s2 = fstate[i]; s2 < fstate[i + 1]; ++s2) pn[s2] = 1;
      continue;
    }
    const std::int32_t f = fs[i];
    const T* pr = prob + a.factor_tab_off[f];
    const std::int64_t size = a.factor_tab_off[f + 1] - a.factor_tab_off[f];
    const int arity = fedge[i + 1] - fedge[i];
    const int* eb = est + fedge[i];
    const int* kb = ek + fedge[i];
    for (int s2 = fstate[i]; s2 < fstate[i + 1]; ++s2) raw[s2] = 0;
    if (arity == 1) {
      for (int y = 0; y < kb[0]; ++y) raw[eb[0] + y] = pr[y];
    } else if (arity == 2) {  // pairwise: table entry y + k0·x
      const int k0 = kb[0], k1 = kb[1];
      T* raw0 = raw + eb[0];
      T* raw1 = raw + eb[1];
      const T* q0 = qe + eb[0];
      const T* q1 = qe + eb[1];
      for (int y = 0; y < k0; ++y) {  // local accumulators: raw0 and raw1 share a buffer
        T acc = 0;
        for (int x = 0; x < k1; ++x) {
          const T to = pr[y + k0 * x] * q1[x];
          acc = kMax ? (to > acc ? to : acc) : acc + to;
        }
        raw0[y] = acc;
      }
      for (int x = 0; x < k1; ++x) {
        T acc = 0;
        for (int y = 0; y < k0; ++y) {
          const T to = pr[y + k0 * x] * q0[y];
          acc = kMax ? (to > acc ? to : acc) : acc + to;
        }
        raw1[x] = acc;
      }
    }
    int digit[kFastMaxArity] = {};
    for (std::int64_t t = 0; arity > 2 && t < size; ++t) {
      for (int j = 0; j < arity; ++j) {
        T prod = pr[t];
        for (int u = 0; u < arity; ++u) {
          if (u != j) prod *= qe[eb[u] + digit[u]];
        }
        T& dst = raw[eb[j] + digit[j]];
        dst = kMax ? (prod > dst ? prod : dst) : dst + prod;
      }
      for (int j = 0; j < arity && ++digit[j] == kb[j]; ++j) digit[j] = 0;  // first fastest
    }
    bool ok = true;
    for (int j = 0; j < arity; ++j) {
      T z = 0;
      for (int y = 0; y < kb[j]; ++y) {
        ok = ok && raw[eb[j] + y] >= prob_floor<T>();
        z += raw[eb[j] + y];
      }
      for (int y = 0; y < kb[j]; ++y) pn[eb[j] + y] = ok ? raw[eb[j] + y] / z : T(1);
    }
    fok[i] = ok;
  }
  for (int i = 0; i < ns; ++i) nv[i] = lse_log(pn[i]);
  if (a.damping > 0) {  // blend with the old message in log space, then renormalise
    for (int j = 0; j < ne; ++j) {
      T mx = bp_zero<T>();
      for (int i = est[j]; i < est[j + 1]; ++i) {
        nv[i] = (1 - a.damping) * nv[i] + a.damping * old[i];
        mx = nv[i] > mx ? nv[i] : mx;
      }
      for (int i = est[j]; i < est[j + 1]; ++i) arg[i] = nv[i] - mx;
    }
    for (int i = 0; i < ns; ++i) pn[i] = lse_exp(arg[i]);
    for (int j = 0; j < ne; ++j) {
      T z = 0;
      for (int i = est[j]; i < est[j + 1]; ++i) z += pn[i];
      const T lz = lse_log(z);
      for (int i = est[j]; i < est[j + 1]; ++i) {
        pn[i] /= z;
        nv[i] = arg[i] - lz;
      }
    }
  }
  for (int i = 0; i < nf; ++i) {
    const std::int32_t f = fs[i];
    if (!fok[i]) {
      factor_q(a, r, tot, zeros, f, q);
      ch = std::max(ch, factor_log<T, kMax>(a, pot, q, r, scratch, f));
      continue;
    }
    for (int j = fedge[i]; j < fedge[i + 1]; ++j) {
      T* rj = r + a.edge_msg_off[a.factor_edge_off[f] + (j - fedge[i])];
      for (int y = 0; y < ek[j]; ++y) {
        const int st = est[j] + y;
        const T d = pn[st] > po[st] ? pn[st] - po[st] : po[st] - pn[st];
        ch = d > ch ? d : ch;
        rj[y] = nv[st];
      }
    }
  }
  return nf;
}

// Shaped factors (BpArgs::shape_rows): one row's block of up to kBpShapeBlock factors of one
// shape (arity A, K states each) with the factors as lanes, so every loop below runs over the
// block (vectorised) and the shape's loops are short and the same for all lanes. The math is
// other_block's probability form: Q = exp(q − max q) (0 for zero states), raw_j(y) =
// ⊕_{t: x_j = y} P(t)·Π_{u≠j} Q_u(x_u), p = raw/Σ raw, message log p (damped in log space),
// change |p − exp(old)|. A factor with a zero or a raw value below prob_floor is redone in log
// space. Each lane's arithmetic does not depend on the other lanes (bit-equal whichever block
// a factor lands in, as the partitioned driver needs).
template <class T, bool kMax, bool kNoZeros>
T shape_block(const BpArgs<T>& a, const T* pot, const T* prob, const T* sprob, const T* tot,
              const std::int32_t* zeros, T* q, T* r, T* scratch, std::int32_t rw) {
  constexpr int B = kBpShapeBlock;
  const std::int32_t* row = a.shape_rows + 5 * rw;
  const T* P = sprob + std::int64_t{row[4]} * B;  // entry t of lane i at P[t·B + i]
  const int A = row[0], K = row[1], first = row[2], n = row[3];
  const int S = A * K;
  int size = 1;
  for (int j = 0; j < A; ++j) size *= K;
  alignas(64) T arg[kBpShapeStates][B], old[kBpShapeStates][B], qe[kBpShapeStates][B];
  alignas(64) T po[kBpShapeStates][B], raw[kBpShapeStates][B], pn[kBpShapeStates][B];
  alignas(64) T nv[kBpShapeStates][B], z[B], prod[B], mx[B], good[B];
  // This block's info, lane-major ([field][B]; lanes past n repeat lane 0): straight loops
  // over the lanes gather the messages, totals and tables.
  const std::int64_t* info = a.shape_info + std::int64_t{kBpShapeInfo} * B * rw;
  const std::int64_t* ro = info;
  const std::int64_t* to = info + B;
  for (int i = 0; i < B; ++i) good[i] = i < n && prob[to[i]] >= 0 ? T(1) : T(0);
  for (int j = 0; j < A; ++j) {
    const std::int64_t* so = info + (2 + j) * B;
    for (int i = 0; i < B; ++i) mx[i] = bp_zero<T>();
    for (int x = 0; x < K; ++x) {
      const int st = j * K + x;
      for (int i = 0; i < B; ++i) {
        const T rv = r[ro[i] + st];
        const T qv = q_of<T, kNoZeros>(tot, zeros, so[i] + x, rv);
        good[i] = bp_live(rv) ? good[i] : T(0);
        old[st][i] = rv;
        arg[st][i] = qv;
        mx[i] = qv > mx[i] ? qv : mx[i];  // a zero q is bp_zero, below every live one
      }
    }
    for (int i = 0; i < B; ++i) good[i] = bp_live(mx[i]) ? good[i] : T(0);
    // Zero states as +1 (every live argument is ≤ 0): Q = 0 below.
    for (int x = 0; x < K; ++x) {
      for (int i = 0; i < B; ++i) {
        const T qv = arg[j * K + x][i];
        arg[j * K + x][i] = bp_live(qv) ? qv - mx[i] : T(1);
      }
    }
  }
  // Lanes that cannot take the probability form compute on harmless values (q = 0; their
  // table is finite, and their results are dropped below).
  for (int s2 = 0; s2 < S; ++s2) {
    for (int i = 0; i < B; ++i) {
      old[s2][i] = good[i] > 0 ? old[s2][i] : T(0);
      arg[s2][i] = good[i] > 0 ? arg[s2][i] : T(0);
    }
  }
  for (int s2 = 0; s2 < S; ++s2) {
    for (int i = 0; i < B; ++i) {
      const T e = lse_exp(arg[s2][i] > 0 ? T(0) : arg[s2][i]);
      qe[s2][i] = arg[s2][i] > 0 ? T(0) : e;
      po[s2][i] = lse_exp(old[s2][i]);
      raw[s2][i] = 0;
    }
  }
  // raw over the table, entry t = Σ_j x_j·K^j (first variable fastest).
  int digit[kBpShapeMaxArity] = {};
  for (int t = 0; t < size; ++t) {
    const T* pt = P + std::int64_t{t} * B;
    for (int j = 0; j < A; ++j) {
      T* dst = raw[j * K + digit[j]];
      if (A == 2) {
        const T* qo = qe[(1 - j) * K + digit[1 - j]];
        for (int i = 0; i < B; ++i) {
          const T v = pt[i] * qo[i];
          dst[i] = kMax ? (v > dst[i] ? v : dst[i]) : dst[i] + v;
        }
        continue;
      }
      if (A == 3) {  // the other two in one loop
        const int u = j == 0 ? 1 : 0, w = j == 2 ? 1 : 2;
        const T* qu = qe[u * K + digit[u]];
        const T* qw = qe[w * K + digit[w]];
        for (int i = 0; i < B; ++i) {
          const T v = pt[i] * qu[i] * qw[i];
          dst[i] = kMax ? (v > dst[i] ? v : dst[i]) : dst[i] + v;
        }
        continue;
      }
      for (int i = 0; i < B; ++i) prod[i] = pt[i];
      for (int u = 0; u < A; ++u) {
        if (u == j) continue;
        const T* qo = qe[u * K + digit[u]];
        for (int i = 0; i < B; ++i) prod[i] *= qo[i];
      }
      for (int i = 0; i < B; ++i) dst[i] = kMax ? (prod[i] > dst[i] ? prod[i] : dst[i]) : dst[i] + prod[i];
    }
    for (int j = 0; j < A && ++digit[j] == K; ++j) digit[j] = 0;
  }
  for (int s2 = 0; s2 < S; ++s2) {
    for (int i = 0; i < B; ++i) good[i] = raw[s2][i] >= prob_floor<T>() ? good[i] : T(0);
  }
  for (int j = 0; j < A; ++j) {
    for (int i = 0; i < B; ++i) z[i] = 0;
    for (int x = 0; x < K; ++x) {
      for (int i = 0; i < B; ++i) z[i] += raw[j * K + x][i];
    }
    for (int x = 0; x < K; ++x) {
      for (int i = 0; i < B; ++i) pn[j * K + x][i] = good[i] > 0 ? raw[j * K + x][i] / z[i] : T(1);
    }
  }
  for (int s2 = 0; s2 < S; ++s2) {
    for (int i = 0; i < B; ++i) nv[s2][i] = lse_log(pn[s2][i]);
  }
  if (a.damping > 0) {  // blend with the old message in log space, then renormalise
    const T keep = a.damping, take = T(1) - a.damping;
    for (int j = 0; j < A; ++j) {
      for (int i = 0; i < B; ++i) z[i] = bp_zero<T>();
      for (int x = 0; x < K; ++x) {
        for (int i = 0; i < B; ++i) {
          T& v = nv[j * K + x][i];
          v = take * v + keep * old[j * K + x][i];
          z[i] = v > z[i] ? v : z[i];
        }
      }
      for (int x = 0; x < K; ++x) {
        for (int i = 0; i < B; ++i) arg[j * K + x][i] = nv[j * K + x][i] - z[i];
      }
    }
    for (int s2 = 0; s2 < S; ++s2) {
      for (int i = 0; i < B; ++i) pn[s2][i] = lse_exp(arg[s2][i]);
    }
    for (int j = 0; j < A; ++j) {
      for (int i = 0; i < B; ++i) z[i] = 0;
      for (int x = 0; x < K; ++x) {
        for (int i = 0; i < B; ++i) z[i] += pn[j * K + x][i];
      }
      for (int i = 0; i < B; ++i) prod[i] = lse_log(z[i]);
      for (int x = 0; x < K; ++x) {
        for (int i = 0; i < B; ++i) {
          pn[j * K + x][i] /= z[i];
          nv[j * K + x][i] = arg[j * K + x][i] - prod[i];
        }
      }
    }
  }
  // Each lane's change over its states, in lane loops (a scalar loop here branched on the sign
  // of every difference and mispredicted: it was the block's hottest loop).
  for (int i = 0; i < B; ++i) z[i] = 0;
  for (int s2 = 0; s2 < S; ++s2) {
    for (int i = 0; i < B; ++i) {
      const T d = pn[s2][i] > po[s2][i] ? pn[s2][i] - po[s2][i] : po[s2][i] - pn[s2][i];
      z[i] = d > z[i] ? d : z[i];
    }
  }
  T ch = 0;
  for (int i = 0; i < n; ++i) {
    if (!(good[i] > 0)) {
      const std::int32_t f = a.shape_factors[first + i];
      factor_q(a, r, tot, zeros, f, q);
      ch = std::max(ch, factor_log<T, kMax>(a, pot, q, r, scratch, f));
      continue;
    }
    ch = z[i] > ch ? z[i] : ch;
    T* rr = r + ro[i];
    for (int s2 = 0; s2 < S; ++s2) rr[s2] = nv[s2][i];
  }
  return ch;
}

template <class T, bool kMax, bool kNoZeros>
T factor_step_fast(const BpArgs<T>& a, const T* pot, const T* prob, const T* sprob, const T* tot,
                   const std::int32_t* zeros, T* q, T* r, T* scratch) {
  T ch_pair = 0, ch_shape = 0, ch = 0;
  const std::int32_t blocks = (a.num_pair2 + kPairBlock - 1) / kPairBlock;
  // One team for both loops (one wake-up per factor step); nowait: the loops touch different
  // factors' messages.
#pragma omp parallel if (a.num_factors > kParallelFactors)
  {
#pragma omp for schedule(static) reduction(max : ch_pair) nowait
    for (std::int32_t blk = 0; blk < blocks; ++blk) {
      const std::int32_t i0 = blk * kPairBlock;
      const int n = static_cast<int>(std::min<std::int32_t>(kPairBlock, a.num_pair2 - i0));
      ch_pair =
          std::max(ch_pair, pair2_block<T, kMax, kNoZeros>(a, pot, prob, tot, zeros, q, r, scratch, i0, n));
    }
#pragma omp for schedule(static) reduction(max : ch_shape) nowait
    for (std::int32_t row = 0; row < a.num_shape_rows; ++row) {
      ch_shape = std::max(ch_shape, shape_block<T, kMax, kNoZeros>(a, pot, prob, sprob, tot, zeros, q, r, scratch, row));
    }
    // The other factors: each thread a contiguous share, walked in blocks. The unary ones
    // come last in the list; `skip_unary` leaves them out (their undamped message is fixed).
#pragma omp for schedule(static) reduction(max : ch)
    for (int part = 0; part < kOtherParts; ++part) {
      const std::int64_t n = a.skip_unary ? a.num_other_nonunary : a.num_other_factors;
      std::int32_t i = static_cast<std::int32_t>(n * part / kOtherParts);
      const std::int32_t end = static_cast<std::int32_t>(n * (part + 1) / kOtherParts);
      while (i < end) {
        i += other_block<T, kMax>(a, pot, prob, tot, zeros, q, r, scratch, a.other_factors + i,
                                  end - i, ch);
      }
    }
  }
  return std::max(std::max(ch, ch_pair), ch_shape);
}

// Members of a batch run on different threads (each with its own totals, no team per
// region) when there are enough of them or the graph is too small to split; each member's
// arithmetic is the same either way (the paths inside give the same bits on any team).
template <class T>
bool members_in_parallel(const BpArgs<T>& a, bool own_totals) {
  const int threads = omp_get_max_threads();
  if (a.batch < 2 || threads < 2 || omp_in_parallel() || !own_totals) return false;
  const bool small = a.num_factors <= kParallelFactors && a.num_vars <= kParallelVars;
  return small || a.batch >= 2 * threads;
}

// Calls body(b, pot, ev, q, r, scratch) for every active instance b of the batch, with its
// slices of the batched arrays (log potentials, evidence or null, q, r, scratch); with
// `parallel`, instances go to different threads.
template <class T, class Body>
void for_each_instance(const BpArgs<T>& a, bool parallel, Body body) {
  auto one = [&](std::int32_t b) {
    if (a.active && !a.active[b]) return;
    body(b, a.log_pot + b * a.pot_stride,
         a.evidence ? a.evidence + std::int64_t{b} * a.num_vars : nullptr, a.q + b * a.msg_len,
         a.r + b * a.msg_len, a.scratch + b * a.msg_len);
  };
  if (parallel) {
#pragma omp parallel for schedule(dynamic, 1)
    for (std::int32_t b = 0; b < a.batch; ++b) one(b);
    return;
  }
  for (std::int32_t b = 0; b < a.batch; ++b) one(b);
}

template <class T>
void sweep(const BpArgs<T>& a, int steps) {
  const bool fast = steps == kBpBothSteps && a.pot_prob && a.var_tot && a.var_zeros &&
                    (a.pair2_info || a.num_pair2 == 0) &&
                    (a.shape_prob || a.num_shape_rows == 0);
  const bool parallel = members_in_parallel(a, !fast || a.var_tot_stride > 0);
  for_each_instance(a, parallel, [&](std::int32_t b, const T* pot, const std::int32_t* ev, T* q,
                                     T* r, T* scratch) {
    if (fast) {
      T* tot = a.var_tot + b * a.var_tot_stride;
      std::int32_t* zeros = a.var_zeros + b * a.var_tot_stride;
      const bool no_zeros = var_totals(a, r, ev, tot, zeros);
      const T* prob = a.pot_prob + b * a.pot_stride;
      const T* sprob = a.shape_prob + b * a.shape_prob_stride;
      auto step = [&](auto max_tag, auto nz_tag) {
        return factor_step_fast<T, decltype(max_tag)::value, decltype(nz_tag)::value>(
            a, pot, prob, sprob, tot, zeros, q, r, scratch);
      };
      using Yes = std::true_type;
      using No = std::false_type;
      a.change[b] = a.max_product ? (no_zeros ? step(Yes{}, Yes{}) : step(Yes{}, No{}))
                                  : (no_zeros ? step(No{}, Yes{}) : step(No{}, No{}));
      return;
    }
    if (steps & kBpVarStep) {
#pragma omp parallel for schedule(static) if (a.num_vars > kParallelVars)
      for (std::int32_t v = 0; v < a.num_vars; ++v) bp_var_step(a, r, q, ev, v);
    }
    if (steps & kBpFactorStep) {
      a.change[b] = a.max_product ? factor_step<T, true>(a, pot, q, r, scratch)
                                  : factor_step<T, false>(a, pot, q, r, scratch);
    }
  });
}

// ---- sequential sweep ----

template <class T, bool kMax>
T sequential(const BpArgs<T>& a, const T* pot, const std::int32_t* ev, T* q, T* r, T* scratch,
             T* tot_live, std::int32_t* tot_zero) {
  for (std::int32_t v = 0; v < a.num_vars; ++v) {
    one_var_totals(a, v, r, ev, tot_live + a.var_state_off[v], tot_zero + a.var_state_off[v]);
  }
  T ch = 0;
  for (std::int32_t f = 0; f < a.num_factors; ++f) {
    const std::int32_t e0 = a.factor_edge_off[f];
    const std::int32_t e1 = a.factor_edge_off[f + 1];
    factor_q(a, r, tot_live, tot_zero, f, q);  // q into f from the newest messages
    for (std::int32_t e = e0; e < e1; ++e) {
      const std::int32_t v = a.edge_var[e];
      const int k = a.card[v];
      const std::int64_t o = a.edge_msg_off[e];
      T* live = tot_live + a.var_state_off[v];
      std::int32_t* zero = tot_zero + a.var_state_off[v];
      bp_factor_raw<T, kMax>(a, pot, q, e, scratch + o);
      account(r + o, k, live, zero, -1);
      ch = std::max(ch, bp_finish(scratch + o, r + o, k, a.damping));
      account(r + o, k, live, zero, +1);
    }
  }
  return ch;
}

template <class T>
void sequential_sweep(const BpArgs<T>& a, T* tot_live, std::int32_t* tot_zero) {
  // One member per thread when each has its own totals (the sweep itself is sequential).
  const bool parallel =
      a.var_tot_stride > 0 && a.batch > 1 && omp_get_max_threads() > 1 && !omp_in_parallel();
  for_each_instance(a, parallel, [&](std::int32_t b, const T* pot, const std::int32_t* ev, T* q,
                                     T* r, T* scratch) {
    T* live = tot_live + b * a.var_tot_stride;
    std::int32_t* zero = tot_zero + b * a.var_tot_stride;
    a.change[b] = a.max_product ? sequential<T, true>(a, pot, ev, q, r, scratch, live, zero)
                                : sequential<T, false>(a, pot, ev, q, r, scratch, live, zero);
  });
}

}  // namespace bp_detail

// Entry points of this build (the baseline's in bp.cpp; the v3 build's in its isa file).
template <class T>
void bp_sweep_cpu_body(const BpArgs<T>& a, int steps) {
  bp_detail::sweep(a, steps);
}
template <class T>
void bp_sequential_sweep_cpu_body(const BpArgs<T>& a, T* tot_live, std::int32_t* tot_zero) {
  bp_detail::sequential_sweep(a, tot_live, tot_zero);
}

}  // namespace mpe::kernels
