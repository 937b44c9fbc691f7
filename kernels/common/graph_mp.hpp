#pragma once
// Per-element math of the generic message-passing layer, the GNN layers and bioelectric
// diffusion, shared by the CPU and CUDA kernels.
#include <cmath>
#include <cstdint>

#include "common/storage.hpp"
#include "common/gelu.hpp"
#include "common/hd.hpp"
#include "common/logspace.hpp"

namespace mpe::kernels {

// mpe::Aggregation and mpe::Activation map onto these in engine/kernel_enums.hpp.
enum class MpAgg : int { sum = 0, mean = 1, max = 2, min = 3, logsumexp = 4 };
// gelu (erf form) is the text encoder's; no public mpe::Activation maps to it.
enum class MpAct : int { none = 0, relu = 1, sigmoid = 2, tanh = 3, gelu = 4 };

// Running state of one output element: `a` is the sum / max / min, or the running maximum of
// a log-sum-exp whose max-shifted sum of exponentials is `s`.
struct MpAcc {
  float a;
  float s;
};

// a / b. On the device the fast division (within 2 ulp for |b| < 2^126): the IEEE one has a
// slow path compiled as a subroutine call, whose calling convention made these kernels spill.
MPE_HD float mp_div(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fdividef(a, b);
#else
  return a / b;
#endif
}

MPE_HD MpAcc mp_init(MpAgg k) {
  switch (k) {
    case MpAgg::max: return {-INFINITY, 0.0f};
    case MpAgg::min: return {INFINITY, 0.0f};
    case MpAgg::logsumexp: return {kLogZero, 0.0f};
    default: return {0.0f, 0.0f};
  }
}

// Adds message v. Log-sum-exp skips zero-probability messages (<= kLogZero / 2) and rescales
// its sum when the maximum moves, so it never overflows.
MPE_HD MpAcc mp_step(MpAgg k, MpAcc acc, float v) {
  switch (k) {
    case MpAgg::max: return {v > acc.a ? v : acc.a, 0.0f};
    case MpAgg::min: return {v < acc.a ? v : acc.a, 0.0f};
    case MpAgg::logsumexp:
      if (!(v > kLogZeroHalf)) return acc;
      if (v > acc.a) return {v, acc.s * expf(acc.a - v) + 1.0f};
      return {acc.a, acc.s + expf(v - acc.a)};
    default: return {acc.a + v, 0.0f};
  }
}

// Combines two partial states (b's edges come after a's).
MPE_HD MpAcc mp_merge(MpAgg k, MpAcc a, MpAcc b) {
  if (k != MpAgg::logsumexp) return mp_step(k, a, b.a);
  if (b.s == 0.0f) return a;
  if (a.s == 0.0f) return b;
  const float m = a.a > b.a ? a.a : b.a;
  return {m, a.s * expf(a.a - m) + b.s * expf(b.a - m)};
}

// Final aggregate of a row with `degree` messages. Empty rows give 0 for sum, mean, max and
// min, and kLogZero (log 0) for log-sum-exp, as does a row whose messages are all log 0.
MPE_HD float mp_finish(MpAgg k, MpAcc acc, std::int64_t degree) {
  if (k == MpAgg::logsumexp) return acc.s > 0.0f ? acc.a + logf(acc.s) : kLogZero;
  if (degree == 0) return 0.0f;
  return k == MpAgg::mean ? mp_div(acc.a, static_cast<float>(degree)) : acc.a;
}

MPE_HD float mp_activate(MpAct act, float v) {
  switch (act) {
    case MpAct::relu: return v > 0.0f ? v : 0.0f;
    case MpAct::sigmoid: return mp_div(1.0f, 1.0f + expf(-v));
    case MpAct::tanh: return tanhf(v);
    case MpAct::gelu: return gelu_erf(v);
    default: return v;
  }
}

// UPDATE: act(self_scale · h + agg_scale · a + bias).
MPE_HD float mp_update(MpAct act, float self_scale, float h, float agg_scale, float a, float bias) {
  return mp_activate(act, self_scale * h + agg_scale * a + bias);
}

MPE_HD float leaky_relu(float v, float slope) { return v > 0.0f ? v : slope * v; }

// One explicit Euler step of gap-junction diffusion for a cell with voltage v, whose junction
// current is `junction` = Σ_j g_ij (V_j − v): v + dt · (junction + leak · (v_rest − v)).
MPE_HD float bio_step(float v, float junction, float dt, float leak, float v_rest) {
  return v + dt * (junction + leak * (v_rest - v));
}

}  // namespace mpe::kernels
