// dense_linear's CPU body built for x86-64-v3 (AVX2 and FMA); kernels/cpu/dense_linear.cpp calls
// it when the CPU has that level. System headers first, then `kernels` renamed so that every
// inline function of the shared headers is this build's own.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#define kernels kernels_x86_64_v3
#include "cpu/dense_linear_body.hpp"

namespace mpe::kernels {
// `args` is the caller's mpe::kernels::DenseLinearArgs (the same layout under the renamed
// namespace).
void dense_linear_cpu_level(const void* args) {
  dense_linear_cpu_body(*static_cast<const DenseLinearArgs*>(args));
}
std::int64_t dense_linear_panel_cols_level() { return dense_linear_detail::kCols; }
void dense_linear_pack_level(const float* w, std::int64_t m, std::int64_t k, float* out) {
  dense_linear_pack_body(w, m, k, out);
}
}  // namespace mpe::kernels
