#pragma once
// Per-element math of the sentence encoder's glue (LayerNorm, pooling), shared by the CPU and
// CUDA kernels of kernels/text_encoder.hpp; GELU is common/gelu.hpp (the dense epilogue's).
#include <cmath>

#include "common/hd.hpp"

namespace mpe::kernels {

// 1 / sqrt(var + eps) of a LayerNorm row.
MPE_HD float text_inv_std(float var, float eps) { return 1.0f / sqrtf(var + eps); }

// One normalised element: (v - mean) / std · gamma + beta.
MPE_HD float text_layer_norm(float v, float mean, float inv_std, float gamma, float beta) {
  return (v - mean) * inv_std * gamma + beta;
}

// The factor that turns a sentence's sum of token vectors into its pooled vector: the mean over
// `count` tokens, L2-normalised when `normalize` (sum_sq: the squared norm of the sum).
MPE_HD float text_pool_scale(float count, float sum_sq, bool normalize) {
  const float c = count > 1.0f ? count : 1.0f;
  if (!normalize || !(sum_sq > 0.0f)) return 1.0f / c;
  return 1.0f / sqrtf(sum_sq);  // (sum / c) / |sum / c| = sum / |sum|
}

}  // namespace mpe::kernels
