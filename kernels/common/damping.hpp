#pragma once
// Channel damping rules of AIF-MP (aif-mp.md §3), per element; the caller renormalises along
// the channel's axis afterwards.
#include "common/logspace.hpp"

namespace mpe::kernels {

enum class DampKind : int { geometric = 0, arithmetic = 1 };

// Geometric: (1-λ)·old + λ·new in log space. Arithmetic: log((1-λ)e^old + λ e^new), the
// probability-space mixing of the paper's text. Zero probability when neither side is live.
MPE_HD float damp_mix(DampKind kind, float old_v, float new_v, float lambda) {
  const bool old_live = old_v > kLogZeroHalf;
  const bool new_live = new_v > kLogZeroHalf;
  if (!old_live && !new_live) return kLogZero;
  if (kind == DampKind::geometric) return (1.0f - lambda) * old_v + lambda * new_v;
  LseAcc acc;
  if (lambda < 1.0f) acc.push(logf(1.0f - lambda) + old_v);
  if (lambda > 0.0f) acc.push(logf(lambda) + new_v);
  return acc.result();
}

}  // namespace mpe::kernels
