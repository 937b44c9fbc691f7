// Personalised PageRank's Gauss-Seidel sweep on the CPU (kernels/ppr_sweep.hpp); the body is
// also built for x86-64-v3 (kernels/cpu/isa/) and chosen at run time.
#include "cpu/cpu_level.hpp"
#include "cpu/ppr_sweep_body.hpp"

#if MPE_CPU_V3
namespace mpe::kernels_x86_64_v3 {
void ppr_sweep_cpu_level(const void* args);
}
#endif

namespace mpe::kernels {

void ppr_sweep_cpu(const PprSweepArgs& a) {
#if MPE_CPU_V3
  if (cpu_level(kCpuWidestBuilt) == 3) return kernels_x86_64_v3::ppr_sweep_cpu_level(&a);
#endif
  ppr_sweep_cpu_body(a);
}

}  // namespace mpe::kernels
