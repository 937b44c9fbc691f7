#pragma once
// Per-element reduction rules of CSR aggregation, shared by the CPU and CUDA kernels.
#include <cmath>
#include <cstdint>

#include "common/hd.hpp"

namespace mpe::kernels {

// mpe::Aggregation maps onto this in engine/kernel_enums.hpp.
enum class AggKind : int { sum = 0, mean = 1, max = 2, min = 3 };

// Starting value of the reduction. Max and min start at ±infinity; an empty row is fixed
// up by agg_finish, so the infinities never reach the output.
MPE_HD float agg_init(AggKind k) {
  switch (k) {
    case AggKind::max: return -INFINITY;
    case AggKind::min: return INFINITY;
    default: return 0.0f;
  }
}

MPE_HD float agg_step(AggKind k, float acc, float v) {
  switch (k) {
    case AggKind::max: return v > acc ? v : acc;
    case AggKind::min: return v < acc ? v : acc;
    default: return acc + v;
  }
}

// Final value of a row with `degree` entries: mean divides, empty rows give 0.
MPE_HD float agg_finish(AggKind k, float acc, std::int64_t degree) {
  if (degree == 0) return 0.0f;
  return k == AggKind::mean ? acc / static_cast<float>(degree) : acc;
}

}  // namespace mpe::kernels
