// CPU AIF-MP planning: the body in aif_plan_body.hpp, built plainly here and (on x86-64 with
// GCC or Clang) also for x86-64-v3 (AVX2, FMA) in kernels/cpu/isa/; the level is chosen once,
// at the first call.
#include "cpu/aif_plan_body.hpp"

#if MPE_CPU_LEVELS
namespace mpe::kernels_x86_64_v3 {
void aif_plan_cpu_level(const void* cfg, const void* problems, std::int64_t count);
}
#endif

namespace mpe::kernels {

std::int64_t aif_workspace_floats(const AifConfig& cfg) { return AifLayout(cfg).total; }

int cpu_vector_level() {
#if MPE_CPU_LEVELS
  static const int level = [] {
    if (const char* forced = std::getenv("MPE_CPU_LEVEL")) {  // 1 forces the baseline build
      if (std::atoi(forced) < 3) return 1;
    }
    __builtin_cpu_init();
    if (__builtin_cpu_supports("x86-64-v3")) return 3;
    return 1;
  }();
  return level;
#else
  return 1;
#endif
}

void aif_plan_cpu(const AifConfig& cfg, const AifProblem* problems, std::int64_t count) {
#if MPE_CPU_LEVELS
  switch (cpu_vector_level()) {
    case 3: return kernels_x86_64_v3::aif_plan_cpu_level(&cfg, problems, count);
    default: break;
  }
#endif
  aif_plan_cpu_body(&cfg, problems, count);
}

}  // namespace mpe::kernels
