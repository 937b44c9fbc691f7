// The CPU AIF-MP planner built for x86-64-v3 (AVX2 and FMA); kernels/cpu/aif_plan.cpp calls it
// when the CPU has that level. System headers come first, then `kernels` is renamed so that
// every inline function of the shared headers is this build's own.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <type_traits>

#define kernels kernels_x86_64_v3
#include "cpu/aif_plan_body.hpp"

namespace mpe::kernels {
void aif_plan_cpu_level(const void* cfg, const void* problems, std::int64_t count) {
  aif_plan_cpu_body(cfg, problems, count);
}
}  // namespace mpe::kernels
