#pragma once
// Per-element math of relevance propagation (relevance.md step 2), shared by the CPU twin and
// the CUDA kernels so that both compute the same numbers.
#include <cstdint>

#include "common/hd.hpp"

namespace mpe::kernels {

// Message strength along e = (j -> i), or a negative value when the edge gate stops it:
// a_j · w_e passes when it exceeds the gate; the message is a_j · w_e · tw_i[type] · scale.
MPE_HD float rel_message(float a_src, float w, float gate, float type_weight, float level_scale) {
  const float relevance = a_src * w;
  return relevance > gate ? relevance * type_weight * level_scale : -1.0f;
}

// Level factor of a message from level ls to level lt.
MPE_HD float rel_level_scale(std::int32_t ls, std::int32_t lt, float up, float down) {
  return lt > ls ? up : (lt < ls ? down : 1.0f);
}

// New activation of a node with old activation a: with messages (aggregate agg) a residual
// mix, without them a decay; then threshold-ReLU and clamp to [0, 1]; 0 when below the
// propagation threshold (the node leaves the active set).
MPE_HD float rel_update(float a, bool has_msg, float agg, float residual, float decay,
                        float threshold, float prop_threshold) {
  const float combined = has_msg ? residual * a + (1.0f - residual) * agg : a * decay;
  float v = combined - threshold;
  v = v > 0.0f ? v : 0.0f;
  v = v < 1.0f ? v : 1.0f;
  return v >= prop_threshold && v > 0.0f ? v : 0.0f;
}

// Confidence of a node that received messages: their edge confidences weighted by strength;
// keeps the old confidence when every message had strength 0.
MPE_HD float rel_confidence(float weighted_conf, float agg, float old_conf) {
  return agg > 0.0f ? weighted_conf / agg : old_conf;
}

// Orders seeds: higher similarity first, then lower node index.
MPE_HD bool rel_better(float s1, std::int32_t i1, float s2, std::int32_t i2) {
  return s1 > s2 || (s1 == s2 && i1 < i2);
}

}  // namespace mpe::kernels
