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

// The host e^x's constants, shared by lse_exp and its 16-lane AVX-512 form
// (kernels/cpu/attention_body.hpp): k = round(x·log2 e) by the shift, r = x − k·ln2 with ln2
// in two parts, e^r by the degree-7 Taylor series (coefficients 1/n!).
namespace lse_exp_c {
constexpr float kShift = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693145751953125f;
constexpr float kLn2Lo = 1.42860682030941723e-6f;
constexpr float kC7 = 1.0f / 5040.0f, kC6 = 1.0f / 720.0f, kC5 = 1.0f / 120.0f;
constexpr float kC4 = 1.0f / 24.0f, kC3 = 1.0f / 6.0f, kC2 = 0.5f;
}  // namespace lse_exp_c

// e^x for the terms of a log-sum-exp after the max shift (x <= 0; x below -87 gives ~1e-38).
// On the host a branch-free polynomial that compilers vectorise (relative error ~2e-7: 2^k
// times a degree-7 Taylor series on |r| <= ln2/2); on the device the accurate expf.
MPE_HD float lse_exp(float x) {
#if defined(__CUDA_ARCH__)
  return expf(x);
#else
  using namespace lse_exp_c;
  x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
  const float t = x * kLog2e + kShift;
  const float k = t - kShift;
  const float r = (x - k * kLn2Hi) - k * kLn2Lo;
  float p = kC7;
  p = p * r + kC6;
  p = p * r + kC5;
  p = p * r + kC4;
  p = p * r + kC3;
  p = p * r + kC2;
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

// float64 twins of lse_exp / lse_log (the BP kernels' double messages): the same construction
// with longer series, relative error ~2e-16 on the host. Only 64-bit integer adds, ands and
// logical shifts touch the bits (no float<->int64 conversion, no arithmetic shift), so AVX2
// builds vectorise them too. lse_exp: x is clamped to [-708, 709] (the normal range).
MPE_HD double lse_exp(double x) {
#if defined(__CUDA_ARCH__)
  return exp(x);
#else
  x = x < -708.0 ? -708.0 : (x > 709.0 ? 709.0 : x);
  constexpr double kShift = 6755399441055744.0;  // 1.5 * 2^52: adding it rounds to an integer
  const double t = x * 1.4426950408889634 + kShift;
  const double k = t - kShift;
  // ln 2 in two parts; the high part has enough trailing zero bits that k·hi is exact.
  const double r = (x - k * 6.93147180369123816490e-01) - k * 1.90821492927058770002e-10;
  double p = 1.0 / 6227020800.0;  // Taylor series to r^13 on |r| <= ln2/2
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  std::uint64_t tb;
  std::memcpy(&tb, &t, sizeof tb);
  // t's low mantissa bits hold k (two's complement); k + 1023 is the exponent of 2^k.
  const std::uint64_t bits = (tb - 0x4338000000000000ull + 1023ull) << 52;
  double scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
#endif
}

// log(x) for a normal x > 0: x = m·2^e with m in [sqrt(1/2), sqrt(2)), log m from the atanh
// series to u^23.
MPE_HD double lse_log(double x) {
#if defined(__CUDA_ARCH__)
  return log(x);
#else
  constexpr std::uint64_t kSqrtHalf = 0x3fe6a09e667f3bcdull;
  std::uint64_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  // As the float version, offset by sqrt(1/2)'s bits; adding 1023 << 52 keeps the value
  // non-negative for every normal x, so a logical shift gives e + 1023.
  const std::uint64_t ix = bits - kSqrtHalf + (1023ull << 52);
  const std::uint64_t mbits = (ix & 0xfffffffffffffull) + kSqrtHalf;
  const std::uint64_t ebits = (ix >> 52) | 0x4330000000000000ull;  // 2^52 + (e + 1023)
  double m, eb;
  std::memcpy(&m, &mbits, sizeof m);
  std::memcpy(&eb, &ebits, sizeof eb);
  const double e = eb - (4503599627370496.0 + 1023.0);
  const double u = (m - 1.0) / (m + 1.0);
  const double u2 = u * u;
  double p = 1.0 / 23.0;
  p = p * u2 + 1.0 / 21.0;
  p = p * u2 + 1.0 / 19.0;
  p = p * u2 + 1.0 / 17.0;
  p = p * u2 + 1.0 / 15.0;
  p = p * u2 + 1.0 / 13.0;
  p = p * u2 + 1.0 / 11.0;
  p = p * u2 + 1.0 / 9.0;
  p = p * u2 + 1.0 / 7.0;
  p = p * u2 + 1.0 / 5.0;
  p = p * u2 + 1.0 / 3.0;
  p = p * u2 * u;  // the series' tail 2u·(u2/3 + ...), kept apart from the leading 2u
  return e * 6.93147180369123816490e-01 + (e * 1.90821492927058770002e-10 + 2.0 * u + 2.0 * p);
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
