#pragma once
// Loopy belief propagation, per message, shared by the CPU and CUDA kernels (float or double).
//
// Messages live per edge (f, v) at edge_msg_off[e]: r = factor→variable, q = variable→factor,
// both natural-log values. Zero probability is any value <= kLogZeroHalf (written as
// kLogZero); sums never add a zero term, so −inf, NaN and overflow never arise.
//  - var step (per variable v): q_{v→f}(x) = Σ_{g∋v, g≠f} r_{g→v}(x), zero when evidence
//    rules x out or any other r is zero. Computed from the totals over all edges with a count
//    of zero terms, so a variable of degree d costs O(d·K), not O(d²·K).
//  - factor step (per edge e = (f, v)): raw(y) = ⊕_{x: x_v = y} [φ_f(x) + Σ_{u≠v} q_{u→f}(x_u)]
//    with ⊕ = log-sum-exp (sum-product) or max (max-product); then bp_finish: normalise to
//    Σ exp = 1, damp against the old message in log space, renormalise, and return the change
//    max_y |exp(new) − exp(old)|.
//  - CPU flooding fast path: the same messages in probability form (bp_pair2_logodds,
//    bp_binary_from_logodds; kernels/cpu/bp_body.hpp) with the vectorisable lse_exp/lse_log,
//    falling back to the functions below where zeros or extreme ranges need log space.
#include <cstdint>

#include "common/logspace.hpp"

namespace mpe::kernels {

// Shaped-factor blocks of the CPU fast path (see BpArgs::shape_rows).
constexpr int kBpShapeMaxArity = 6;
constexpr int kBpShapeTable = 64;   // most table entries
constexpr int kBpShapeStates = 16;  // most Σ K over a shaped factor's edges (8×8 pairwise)
constexpr int kBpShapeBlock = 32;   // factors per block
constexpr int kBpShapeInfo = 2 + kBpShapeMaxArity;

template <class T>
struct BpArgs {
  // Structure, shared by the batch.
  std::int32_t num_vars = 0;
  std::int32_t num_factors = 0;
  std::int32_t num_edges = 0;
  const std::int32_t* card = nullptr;             // [V]
  const std::int32_t* var_edge_off = nullptr;     // [V + 1]
  const std::int32_t* var_edges = nullptr;        // [E] edge ids grouped by variable
  const std::int64_t* var_edge_msg = nullptr;     // [E] edge_msg_off[var_edges[j]]
  const std::int64_t* var_state_off = nullptr;    // [V + 1]: Σ_{u<v} K_u (sequential workspace)
  const std::int32_t* edge_var = nullptr;         // [E]
  const std::int32_t* edge_factor = nullptr;      // [E]
  const std::int64_t* edge_msg_off = nullptr;     // [E] offset of the edge's K_v entries
  const std::int64_t* edge_stride = nullptr;      // [E] stride of v in f's table
  const std::int32_t* factor_edge_off = nullptr;  // [F + 1]: f's edges, in f's variable order
  const std::int64_t* factor_tab_off = nullptr;   // [F + 1]
  std::int64_t msg_len = 0;                       // Σ_e K_v per instance
  std::int32_t uniform_card = 0;  // K when every variable has K states (then edge e's message
                                  // is at K·e, variable v's states at K·v), else 0
  // Batch.
  std::int32_t batch = 0;
  const T* log_pot = nullptr;             // [B or 1][factor_tab_off[F]]
  std::int64_t pot_stride = 0;            // 0: one table set shared by the batch
  const std::int32_t* evidence = nullptr;  // [B][V] (−1 = unobserved) or nullptr
  const std::int32_t* active = nullptr;    // [B]: 0 = converged, skip
  T* q = nullptr;                          // [B][msg_len]
  T* r = nullptr;                          // [B][msg_len]
  T* scratch = nullptr;                    // [B][msg_len] raw factor messages
  T* change = nullptr;                     // [B] max message change of the factor step
  bool max_product = false;
  T damping = 0;
  // CPU flooding fast path (optional: without them the CPU runs the var step into q and the
  // factor step from q). pot_prob: [B or 1][factor_tab_off[F]] (stride pot_stride) with
  // exp(φ − max φ) per factor, entry 0 set to −1 where the factor has a zero or a spread of at
  // least bp_prob_spread<T>() (those factors take the log-space path). var_tot / var_zeros:
  // workspace [var_state_off[V]], the var step's totals (live sum, count of zero terms);
  // with var_tot_stride > 0, one workspace per member ([B][var_tot_stride]), which lets the
  // CPU run the members of a batch on different threads (the sequential schedule's
  // tot_live / tot_zero follow the same stride).
  // other_factors: the factors that are not binary pairwise, the first num_other_nonunary of
  // arity > 1, then the unary ones. skip_unary: leave the unary factors' messages as they are
  // (the host sets it after the first sweep of an undamped run, where they cannot change: a
  // unary factor's message is its normalised table whatever the incoming messages).
  const T* pot_prob = nullptr;
  T* var_tot = nullptr;
  std::int32_t* var_zeros = nullptr;
  std::int64_t var_tot_stride = 0;
  const std::int32_t* other_factors = nullptr;
  std::int32_t num_other_factors = 0;
  std::int32_t num_other_nonunary = 0;
  bool skip_unary = false;
  // pair2_info: [num_pair2][4] per binary pairwise factor (pair2_factors order): the message
  // offset of its first edge (the second's is 2 more), its table offset, and the state offsets
  // (var_state_off) of its two variables: one sequential stream instead of chained look-ups.
  const std::int64_t* pair2_info = nullptr;
  // Shaped factors (CPU flooding fast path): those that are not binary pairwise, of arity
  // 2..kBpShapeMaxArity, every variable with the same K states and K^arity ≤ kBpShapeTable
  // (a K×K pairwise table, a binary triple, ...), in blocks of one shape. shape_rows:
  // [num_shape_rows][5] = arity, K, first index into shape_factors, count (≤ kBpShapeBlock),
  // offset of the row's tables in shape_prob (in kBpShapeBlock-wide vectors).
  // shape_prob: [B or 1][Σ K^arity over rows][kBpShapeBlock] (stride shape_prob_stride, 0 when
  // the batch shares one set), each row's probability tables lane-major (pot_prob's values).
  // shape_info: [num_shape_rows][kBpShapeInfo][kBpShapeBlock], lane-major (lanes
  // past count repeat the first factor): message offset of the factor's first edge (edge j's
  // is K·j more), table offset, var_state_off of each variable. These factors are not in
  // other_factors.
  const std::int32_t* shape_rows = nullptr;
  std::int32_t num_shape_rows = 0;
  const std::int32_t* shape_factors = nullptr;
  const std::int64_t* shape_info = nullptr;
  const T* shape_prob = nullptr;
  std::int64_t shape_prob_stride = 0;
  // CUDA work lists (the CPU walks factors in order): pairwise factors with two binary
  // variables, one thread each; every edge of the other factors, one thread each.
  const std::int32_t* pair2_factors = nullptr;
  std::int32_t num_pair2 = 0;
  const std::int32_t* other_edges = nullptr;
  std::int32_t num_other = 0;
};

template <class T>
MPE_HD bool bp_live(T v) {
  return v > static_cast<T>(kLogZeroHalf);
}
template <class T>
MPE_HD T bp_zero() {
  return static_cast<T>(kLogZero);
}
MPE_HD float bp_exp(float x) { return expf(x); }
MPE_HD double bp_exp(double x) { return exp(x); }
MPE_HD float bp_log(float x) { return logf(x); }
MPE_HD double bp_log(double x) { return log(x); }

// Streaming log-sum-exp (or max) over live terms.
template <class T, bool kMax>
struct BpAcc {
  T m = bp_zero<T>();
  T s = 0;
  MPE_HD void push(T v) {
    if (!bp_live(v)) return;
    if (kMax) {
      if (s == 0 || v > m) m = v;
      s = 1;
    } else if (s == 0) {
      m = v;
      s = 1;
    } else if (v > m) {
      s = s * bp_exp(m - v) + 1;
      m = v;
    } else {
      s += bp_exp(v - m);
    }
  }
  MPE_HD T result() const { return s > 0 ? (kMax ? m : m + bp_log(s)) : bp_zero<T>(); }
};

// Var step for variable v of one instance (pointers already offset to the instance).
template <class T>
MPE_HD void bp_var_step(const BpArgs<T>& a, const T* r, T* q, const std::int32_t* ev_row,
                        std::int32_t v) {
  const int k = a.card[v];
  const std::int32_t j0 = a.var_edge_off[v];
  const std::int32_t j1 = a.var_edge_off[v + 1];
  const int ev = ev_row ? ev_row[v] : -1;
  for (int x = 0; x < k; ++x) {
    T live = 0;
    int zeros = (ev >= 0 && x != ev) ? 1 : 0;
    for (std::int32_t j = j0; j < j1; ++j) {
      const T m = r[a.var_edge_msg[j] + x];
      if (bp_live(m)) {
        live += m;
      } else {
        ++zeros;
      }
    }
    for (std::int32_t j = j0; j < j1; ++j) {
      const std::int64_t o = a.var_edge_msg[j] + x;
      const T m = r[o];
      const bool l = bp_live(m);
      q[o] = zeros - (l ? 0 : 1) > 0 ? bp_zero<T>() : live - (l ? m : T(0));
    }
  }
}

// Raw message of a pairwise factor to its variable at stride sv (kv states) given the other
// variable's q (ku states, stride su).
template <class T, bool kMax>
MPE_HD void bp_pair_raw(const T* pot, std::int64_t sv, int kv, std::int64_t su, int ku,
                        const T* qu, T* out) {
  for (int y = 0; y < kv; ++y) {
    BpAcc<T, kMax> acc;
    for (int x = 0; x < ku; ++x) {
      const T p = pot[y * sv + x * su];
      const T m = qu[x];
      if (bp_live(p) && bp_live(m)) acc.push(p + m);
    }
    out[y] = acc.result();
  }
}

// (m_y, s_y) of state y of a binary pairwise message: the two terms t0, t1 (zero when the
// potential or the incoming q is), m = the larger live term, s = Σ exp(t − m) (0 when none).
template <class T, bool kMax>
MPE_HD void bp_pair2_terms(T a, T b, const T* qu, T& m, T& s) {
  const T t0 = (bp_live(a) && bp_live(qu[0])) ? a + qu[0] : bp_zero<T>();
  const T t1 = (bp_live(b) && bp_live(qu[1])) ? b + qu[1] : bp_zero<T>();
  const bool l0 = bp_live(t0), l1 = bp_live(t1);
  m = !l1 ? t0 : (!l0 ? t1 : (t0 > t1 ? t0 : t1));
  s = (l0 && l1) ? (kMax ? T(1) : T(1) + bp_exp(t0 > t1 ? t1 - t0 : t0 - t1))
                 : ((l0 || l1) ? T(1) : T(0));
}

// Binary pairwise factor, undamped: the finished message to the variable at stride sv from
// the other variable's q (stride su), written over r; returns the change |p_new(0) − p_old(0)|
// (as bp_finish). Same message as bp_pair_raw + bp_finish, with fewer exp/log: per state y the
// two terms give (m_y, s_y) with raw(y) = m_y + log s_y, and p(y) = s_y·e^{m_y−M} / S, so
// log p(y) = (m_y − M) + log(s_y / S) needs one log per state and no normalising log-sum-exp.
template <class T, bool kMax>
MPE_HD T bp_pair2_undamped(const T* tab, std::int64_t sv, std::int64_t su, const T* qu, T* r) {
  T m0, s0, m1, s1;
  bp_pair2_terms<T, kMax>(tab[0], tab[su], qu, m0, s0);
  bp_pair2_terms<T, kMax>(tab[sv], tab[sv + su], qu, m1, s1);
  const T old0 = r[0];
  const T po = bp_live(old0) ? bp_exp(old0) : T(0);
  if (!(s0 > 0) && !(s1 > 0)) {
    r[0] = bp_zero<T>();
    r[1] = bp_zero<T>();
    return po;
  }
  const bool hi1 = s1 > 0 && (!(s0 > 0) || m1 > m0);  // state 1 has the larger m
  const T big = hi1 ? m1 : m0;
  const T m_lo = hi1 ? m0 : m1;
  const T s_hi = hi1 ? s1 : s0;
  const T s_lo = hi1 ? s0 : s1;
  const T w_lo = s_lo > 0 ? s_lo * bp_exp(m_lo - big) : T(0);
  const T total = s_hi + w_lo;
  const T log_total = kMax ? bp_log(total) : T(0);
  const T nv_hi = kMax ? -log_total : bp_log(s_hi / total);
  const T nv_lo =
      s_lo > 0 ? (m_lo - big) + (kMax ? -log_total : bp_log(s_lo / total)) : bp_zero<T>();
  r[0] = hi1 ? nv_lo : nv_hi;
  r[1] = hi1 ? nv_hi : nv_lo;
  const T p0 = (hi1 ? w_lo : s_hi) / total;
  return p0 > po ? p0 - po : po - p0;
}

// Probability-form updates (CPU flooding fast path). A factor's table spread (max − min of its
// log-potentials) must stay below this for exp(φ − max φ) to keep full relative precision
// through the products below (double: e^-300 ≈ 5e-131; float: e^-40 ≈ 4e-18).
template <class T>
MPE_HD constexpr T bp_prob_spread() {
  return sizeof(T) == 8 ? T(300) : T(40);
}

// Log-odds L = log p(1) − log p(0) of the undamped message to v of a binary pairwise factor
// with log-entries a = φ(0,0), b = φ(0,1), c = φ(1,0), d = φ(1,1) (first index v's state,
// second u's), from the log-odds δ = q_u(1) − q_u(0) of u's incoming message (a zero state of q
// gives |δ| ≈ 1e12). Sum-product uses the entries' probabilities ea..ed (exp(φ − max φ), all
// live): L = log((ec + ed·s) / (ea + eb·s)) with s = e^δ, written with w = e^{−|δ|} on the
// side of the larger weight so nothing overflows: one exp, one log. Max-product: L = max(c,
// d + δ) − max(a, b + δ), with δ moved to the other side when positive so a huge δ stays exact.
// Branch-free: the CPU vectorises it over a block of factors.
template <class T, bool kMax>
MPE_HD T bp_pair2_logodds(T a, T b, T c, T d, T ea, T eb, T ec, T ed, T delta) {
  const bool up = delta > 0;
  if (kMax) {
    const T dl = up ? T(0) : delta;
    const T dh = up ? delta : T(0);
    const T hi = (c - dh) > (d + dl) ? (c - dh) : (d + dl);
    const T lo = (a - dh) > (b + dl) ? (a - dh) : (b + dl);
    return hi - lo;
  }
  const T w = lse_exp(up ? -delta : delta);
  const T wa = up ? w : T(1);
  const T wb = up ? T(1) : w;
  return lse_log((ec * wa + ed * wb) / (ea * wa + eb * wb));
}

// The normalised binary message with log-odds L: n0 = −softplus(L), n1 = −softplus(−L), both
// from one w = e^{−|L|} (no cancellation); returns p(0).
template <class T>
MPE_HD T bp_binary_from_logodds(T L, T& n0, T& n1) {
  const bool pos = L > 0;
  const T w = lse_exp(pos ? -L : L);
  const T c = lse_log(T(1) + w);
  n0 = -((pos ? L : T(0)) + c);
  n1 = -((pos ? T(0) : -L) + c);
  return (pos ? w : T(1)) / (T(1) + w);
}

// Raw message of factor f to the variable of edge e (any arity), into out[0 .. K_v).
template <class T, bool kMax>
MPE_HD void bp_factor_raw(const BpArgs<T>& a, const T* pot, const T* q, std::int32_t e, T* out) {
  const std::int32_t f = a.edge_factor[e];
  const std::int32_t e0 = a.factor_edge_off[f];
  const std::int32_t e1 = a.factor_edge_off[f + 1];
  const T* tab = pot + a.factor_tab_off[f];
  const int kv = a.card[a.edge_var[e]];
  if (e1 - e0 == 1) {
    for (int y = 0; y < kv; ++y) out[y] = bp_live(tab[y]) ? tab[y] : bp_zero<T>();
    return;
  }
  if (e1 - e0 == 2) {
    const std::int32_t u = e == e0 ? e0 + 1 : e0;
    bp_pair_raw<T, kMax>(tab, a.edge_stride[e], kv, a.edge_stride[u], a.card[a.edge_var[u]],
                         q + a.edge_msg_off[u], out);
    return;
  }
  const std::int64_t size = a.factor_tab_off[f + 1] - a.factor_tab_off[f];
  const std::int64_t sv = a.edge_stride[e];
  const std::int64_t rest_n = size / kv;
  for (int y = 0; y < kv; ++y) {
    BpAcc<T, kMax> acc;
    for (std::int64_t rest = 0; rest < rest_n; ++rest) {
      const std::int64_t t = (rest / sv) * sv * kv + y * sv + rest % sv;
      T val = tab[t];
      if (!bp_live(val)) continue;
      for (std::int32_t u = e0; u < e1; ++u) {
        if (u == e) continue;
        const int ku = a.card[a.edge_var[u]];
        const T m = q[a.edge_msg_off[u] + (t / a.edge_stride[u]) % ku];
        if (!bp_live(m)) {
          val = bp_zero<T>();
          break;
        }
        val += m;
      }
      acc.push(val);
    }
    out[y] = acc.result();
  }
}

// Normalises raw[0 .. k) into the message, damps it against the old message `r` (in place)
// and returns the change max |exp(new) − exp(old)|.
template <class T>
MPE_HD T bp_finish(const T* raw, T* r, int k, T damping) {
  BpAcc<T, false> norm;
  for (int y = 0; y < k; ++y) norm.push(raw[y]);
  const T z = norm.result();
  const bool any = bp_live(z);
  BpAcc<T, false> norm2;
  if (damping > 0) {
    for (int y = 0; y < k; ++y) {
      const T n = raw[y];
      if (any && bp_live(n) && bp_live(r[y])) norm2.push((1 - damping) * (n - z) + damping * r[y]);
    }
  }
  const T z2 = damping > 0 ? norm2.result() : T(0);
  T change = 0;
  for (int y = 0; y < k; ++y) {
    const T old = r[y];
    T nv;
    if (!any || !bp_live(raw[y])) {
      nv = bp_zero<T>();
    } else if (damping > 0) {
      nv = (bp_live(old) && bp_live(z2)) ? (1 - damping) * (raw[y] - z) + damping * old - z2
                                          : bp_zero<T>();
    } else {
      nv = raw[y] - z;
    }
    // Both messages sum to 1 (or are all zero), so with two states the second entry changes
    // by exactly as much as the first.
    if (k != 2 || y == 0) {
      const T pn = bp_live(nv) ? bp_exp(nv) : T(0);
      const T po = bp_live(old) ? bp_exp(old) : T(0);
      const T d = pn > po ? pn - po : po - pn;
      change = d > change ? d : change;
    }
    r[y] = nv;
  }
  return change;
}

}  // namespace mpe::kernels
