#pragma once
// Log-space arithmetic shared by the CPU and CUDA kernels.
//
// Zero probability is the finite value kLogZero (-1e12), never -inf, so that sums and
// differences of log-values never produce NaN. Anything at or below kLogZero / 2 counts as
// zero probability.
#include <cmath>
#include <cstdint>
#include <cstring>

#include "common/hd.hpp"

namespace mpe::kernels {

constexpr float kLogZero = -1e12f;
constexpr float kLogZeroHalf = kLogZero / 2;

MPE_HD bool log_is_zero(float v) { return !(v > kLogZeroHalf); }  // NaN counts as zero too

// log(p) for a probability, kLogZero for p <= 0, clamped below at log(1e-30) otherwise.
MPE_HD float safe_log(float p) { return p > 0.0f ? logf(p > 1e-30f ? p : 1e-30f) : kLogZero; }

// log(a / b) for log-values: a - b when both are live probabilities, else zero probability.
MPE_HD float safe_div(float a, float b) {
  return ((a > kLogZeroHalf) & (b > kLogZeroHalf)) ? a - b : kLogZero;
}

// e^x for the terms of a log-sum-exp after the max shift (x <= 0; x below -87 gives ~1e-38).
// On the host a branch-free polynomial that compilers vectorise (relative error ~2e-7: 2^k
// times a degree-7 Taylor series on |r| <= ln2/2); on the device the accurate expf.
MPE_HD float lse_exp(float x) {
#if defined(__CUDA_ARCH__)
  return expf(x);
#else
  x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
  constexpr float kShift = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  const float t = x * 1.44269504088896341f + kShift;
  const float k = t - kShift;
  const float r = (x - k * 0.693145751953125f) - k * 1.42860682030941723e-6f;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int ki = static_cast<int>(k);
  const std::uint32_t bits = static_cast<std::uint32_t>(ki + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
#endif
}

// log(x) for x > 0 (a sum of shifted exps, so x >= 1 in practice): on the host a branch-free
// x = m·2^e split with an atanh series for log m (relative error ~1e-7) that compilers
// vectorise; on the device the accurate logf.
MPE_HD float lse_log(float x) {
#if defined(__CUDA_ARCH__)
  return logf(x);
#else
  std::int32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  // Offset by the bits of sqrt(1/2): the exponent field then counts e with m in
  // [sqrt(1/2), sqrt(2)), and the low 23 bits plus that offset are m's bits.
  const std::int32_t ix = bits - 0x3f3504f3;
  const std::int32_t e = ix >> 23;  // arithmetic shift: floor division
  const std::int32_t mbits = (ix & 0x7fffff) + 0x3f3504f3;
  float m;
  std::memcpy(&m, &mbits, sizeof m);
  const float u = (m - 1.0f) / (m + 1.0f);
  const float u2 = u * u;
  float p = 1.0f / 9.0f;
  p = p * u2 + 1.0f / 7.0f;
  p = p * u2 + 1.0f / 5.0f;
  p = p * u2 + 1.0f / 3.0f;
  p = p * u2 + 1.0f;
  return static_cast<float>(e) * 0.693147180559945309f + 2.0f * u * p;
#endif
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
    } else if (v > m) {  // terms more than 88 below the max add < 1e-38: skip expf's slow path
      s = (m - v > -88.0f ? s * expf(m - v) : 0.0f) + 1.0f;
      m = v;
    } else if (v - m > -88.0f) {
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
