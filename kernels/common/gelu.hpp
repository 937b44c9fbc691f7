#pragma once
// GELU with erf (BERT's "gelu", not the tanh approximation), shared by the CPU dense kernel's
// epilogue and the CUDA bias/activation pass, so the CPU tests exercise the GPU's arithmetic.
#include "common/hd.hpp"
#include "common/logspace.hpp"

namespace mpe::kernels {

// erf by Abramowitz and Stegun's formula 7.1.26 (|error| < 1.5e-7, below float32's rounding of
// GELU's output). Branch-free with the log-sum-exp kernels' exp, so CPU loops vectorise it
// (a libm erf call per element was a tenth of the encoder's time).
MPE_HD float erf_as(float x) {
  const float a = x < 0.0f ? -x : x;
  const float t = 1.0f / (1.0f + 0.3275911f * a);
  const float p =
      t * (0.254829592f +
           t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
  const float e = 1.0f - p * lse_exp(-a * a);
  return x < 0.0f ? -e : e;
}

// x · Φ(x) = x/2 · (1 + erf(x / √2)).
MPE_HD float gelu_erf(float x) { return 0.5f * x * (1.0f + erf_as(x * 0.70710678118654752f)); }

}  // namespace mpe::kernels
