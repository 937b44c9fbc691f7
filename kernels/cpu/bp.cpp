// Loopy belief propagation on the CPU: flooding sweeps (OpenMP over variables and factors)
// and the sequential sweep.
#include <algorithm>
#include <vector>

#include "bp.hpp"

namespace mpe::kernels {
namespace {

template <class T, bool kMax>
T factor_step(const BpArgs<T>& a, const T* pot, const T* q, T* r, T* scratch) {
  T ch = 0;
#pragma omp parallel for schedule(static) reduction(max : ch) if (a.num_factors > 512)
  for (std::int32_t f = 0; f < a.num_factors; ++f) {
    const std::int32_t e0 = a.factor_edge_off[f];
    if (a.factor_edge_off[f + 1] - e0 == 2 && a.card[a.edge_var[e0]] == 2 &&
        a.card[a.edge_var[e0 + 1]] == 2) {  // binary pairwise: as the CUDA pair2 kernel
      const T* tab = pot + a.factor_tab_off[f];
      const std::int64_t o0 = a.edge_msg_off[e0];
      const std::int64_t o1 = a.edge_msg_off[e0 + 1];
      if (a.damping == 0) {
        const T c0 = bp_pair2_undamped<T, kMax>(tab, 1, 2, q + o1, r + o0);
        const T c1 = bp_pair2_undamped<T, kMax>(tab, 2, 1, q + o0, r + o1);
        ch = std::max(ch, std::max(c0, c1));
        continue;
      }
      T raw0[2], raw1[2];
      bp_pair_raw<T, kMax>(tab, 1, 2, 2, 2, q + o1, raw0);
      bp_pair_raw<T, kMax>(tab, 2, 2, 1, 2, q + o0, raw1);
      const T c0 = bp_finish(raw0, r + o0, 2, a.damping);
      const T c1 = bp_finish(raw1, r + o1, 2, a.damping);
      ch = std::max(ch, std::max(c0, c1));
      continue;
    }
    for (std::int32_t e = e0; e < a.factor_edge_off[f + 1]; ++e) {
      const std::int64_t o = a.edge_msg_off[e];
      bp_factor_raw<T, kMax>(a, pot, q, e, scratch + o);
      const T c = bp_finish(scratch + o, r + o, a.card[a.edge_var[e]], a.damping);
      ch = std::max(ch, c);
    }
  }
  return ch;
}

template <class T>
void sweep(const BpArgs<T>& a, int steps) {
  for (std::int32_t b = 0; b < a.batch; ++b) {
    if (a.active && !a.active[b]) continue;
    const T* pot = a.log_pot + b * a.pot_stride;
    const std::int32_t* ev = a.evidence ? a.evidence + std::int64_t{b} * a.num_vars : nullptr;
    T* q = a.q + b * a.msg_len;
    T* r = a.r + b * a.msg_len;
    if (steps & kBpVarStep) {
#pragma omp parallel for schedule(static) if (a.num_vars > 512)
      for (std::int32_t v = 0; v < a.num_vars; ++v) bp_var_step(a, r, q, ev, v);
    }
    if (steps & kBpFactorStep) {
      T* scratch = a.scratch + b * a.msg_len;
      a.change[b] = a.max_product ? factor_step<T, true>(a, pot, q, r, scratch)
                                  : factor_step<T, false>(a, pot, q, r, scratch);
    }
  }
}

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

template <class T, bool kMax>
T sequential(const BpArgs<T>& a, const T* pot, const std::int32_t* ev, T* q, T* r, T* scratch,
             T* tot_live, std::int32_t* tot_zero) {
  for (std::int32_t v = 0; v < a.num_vars; ++v) {
    const int k = a.card[v];
    T* live = tot_live + a.var_state_off[v];
    std::int32_t* zero = tot_zero + a.var_state_off[v];
    const int obs = ev ? ev[v] : -1;
    for (int x = 0; x < k; ++x) {
      live[x] = 0;
      zero[x] = (obs >= 0 && x != obs) ? 1 : 0;
    }
    for (std::int32_t j = a.var_edge_off[v]; j < a.var_edge_off[v + 1]; ++j) {
      account(r + a.edge_msg_off[a.var_edges[j]], k, live, zero, +1);
    }
  }
  T ch = 0;
  for (std::int32_t f = 0; f < a.num_factors; ++f) {
    const std::int32_t e0 = a.factor_edge_off[f];
    const std::int32_t e1 = a.factor_edge_off[f + 1];
    for (std::int32_t e = e0; e < e1; ++e) {  // q into f from the newest messages
      const std::int32_t v = a.edge_var[e];
      const std::int64_t o = a.edge_msg_off[e];
      const T* live = tot_live + a.var_state_off[v];
      const std::int32_t* zero = tot_zero + a.var_state_off[v];
      for (int x = 0; x < a.card[v]; ++x) {
        const bool l = bp_live(r[o + x]);
        q[o + x] = zero[x] - (l ? 0 : 1) > 0 ? bp_zero<T>() : live[x] - (l ? r[o + x] : T(0));
      }
    }
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
  for (std::int32_t b = 0; b < a.batch; ++b) {
    if (a.active && !a.active[b]) continue;
    const T* pot = a.log_pot + b * a.pot_stride;
    const std::int32_t* ev = a.evidence ? a.evidence + std::int64_t{b} * a.num_vars : nullptr;
    T* q = a.q + b * a.msg_len;
    T* r = a.r + b * a.msg_len;
    T* scratch = a.scratch + b * a.msg_len;
    a.change[b] = a.max_product
                      ? sequential<T, true>(a, pot, ev, q, r, scratch, tot_live, tot_zero)
                      : sequential<T, false>(a, pot, ev, q, r, scratch, tot_live, tot_zero);
  }
}

}  // namespace

void bp_sweep_cpu(const BpArgs<float>& a, int steps) { sweep(a, steps); }
void bp_sweep_cpu(const BpArgs<double>& a, int steps) { sweep(a, steps); }
void bp_sequential_sweep_cpu(const BpArgs<float>& a, float* tot_live, std::int32_t* tot_zero) {
  sequential_sweep(a, tot_live, tot_zero);
}
void bp_sequential_sweep_cpu(const BpArgs<double>& a, double* tot_live,
                             std::int32_t* tot_zero) {
  sequential_sweep(a, tot_live, tot_zero);
}

}  // namespace mpe::kernels
