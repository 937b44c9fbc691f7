#pragma once
// Log-space arithmetic shared by the CPU and CUDA kernels.
//
// Zero probability is the finite value kLogZero (-1e12), never -inf, so that sums and
// differences of log-values never produce NaN. Anything at or below kLogZero / 2 counts as
// zero probability.
#include <cmath>

#include "common/hd.hpp"

namespace mpe::kernels {

constexpr float kLogZero = -1e12f;
constexpr float kLogZeroHalf = kLogZero / 2;

MPE_HD bool log_is_zero(float v) { return !(v > kLogZeroHalf); }  // NaN counts as zero too

// log(p) for a probability, kLogZero for p <= 0, clamped below at log(1e-30) otherwise.
MPE_HD float safe_log(float p) { return p > 0.0f ? logf(p > 1e-30f ? p : 1e-30f) : kLogZero; }

// log(a / b) for log-values: a - b when both are live probabilities, else zero probability.
MPE_HD float safe_div(float a, float b) {
  return (a > kLogZeroHalf && b > kLogZeroHalf) ? a - b : kLogZero;
}

// Streaming log-sum-exp: max-shifted running sum that skips zero-probability terms.
// m is the running maximum, s = Σ exp(v - m) over the terms pushed so far.
struct LseAcc {
  float m = kLogZero;
  float s = 0.0f;

  MPE_HD void push(float v) {
    if (log_is_zero(v)) return;
    if (s == 0.0f) {  // first live term: no rescale (expf(kLogZero - v) would underflow slowly)
      m = v;
      s = 1.0f;
    } else if (v > m) {
      s = s * expf(m - v) + 1.0f;
      m = v;
    } else {
      s += expf(v - m);
    }
  }
  // Adds N terms at once: one max over the chunk, then one exp per term. Cheaper than N
  // push() calls (no rescale per term) and branch-free, so GPU lanes never diverge. Pad unused
  // slots with kLogZero.
  template <int N>
  MPE_HD void push_chunk(const float (&v)[N]) {
    float cm = kLogZero;
    MPE_UNROLL
    for (int k = 0; k < N; ++k) cm = (v[k] > kLogZeroHalf && v[k] > cm) ? v[k] : cm;
    if (!(cm > kLogZeroHalf)) return;  // every term is zero probability
    const float nm = m > cm ? m : cm;  // not fmaxf: a libm call on x86 hosts
    float add = 0.0f;
    MPE_UNROLL
    for (int k = 0; k < N; ++k) add += v[k] > kLogZeroHalf ? expf(v[k] - nm) : 0.0f;
    s = (s == 0.0f ? 0.0f : s * expf(m - nm)) + add;  // m - nm <= 0
    m = nm;
  }
  // Combines two partial accumulators (used for cross-thread reductions).
  MPE_HD void merge(float om, float os) {
    if (os == 0.0f) return;
    if (s == 0.0f) {
      m = om;
      s = os;
    } else if (om > m) {
      s = s * expf(m - om) + os;
      m = om;
    } else {
      s += os * expf(om - m);
    }
  }
  // log Σ exp(v) over the pushed terms; kLogZero when every term was zero probability.
  MPE_HD float result() const { return s > 0.0f ? m + logf(s) : kLogZero; }
};

}  // namespace mpe::kernels
