// CPU AIF-MP planning: the body in aif_plan_body.hpp, built plainly here and (on x86-64 with
// GCC or Clang) also for x86-64-v3 (AVX2, FMA) in kernels/cpu/isa/; cpu_level() picks the build.
#include "cpu/aif_plan_body.hpp"
#include "cpu/cpu_level.hpp"

#if MPE_CPU_V3
namespace mpe::kernels_x86_64_v3 {
void aif_plan_cpu_level(const void* cfg, const void* problems, std::int64_t count);
}
#endif

namespace mpe::kernels {

std::int64_t aif_workspace_floats(const AifConfig& cfg) { return AifLayout(cfg).total; }

void aif_plan_cpu(const AifConfig& cfg, const AifProblem* problems, std::int64_t count) {
#if MPE_CPU_V3
  if (cpu_level(kCpuWidestBuilt) == 3)
    return kernels_x86_64_v3::aif_plan_cpu_level(&cfg, problems, count);
#endif
  aif_plan_cpu_body(&cfg, problems, count);
}

}  // namespace mpe::kernels
