// Loopy belief propagation on the CPU: flooding sweeps (OpenMP over variables and factors)
// and the sequential sweep. The body (kernels/cpu/bp_body.hpp) is also built for x86-64-v3
// (kernels/cpu/isa/) and chosen at run time: its probability-form loops vectorise there.
#include "cpu/bp_body.hpp"
#include "cpu/cpu_level.hpp"

#if MPE_CPU_V3
namespace mpe::kernels_x86_64_v3 {
void bp_sweep_cpu_level(const void* args, bool f64, int steps);
void bp_sequential_sweep_cpu_level(const void* args, bool f64, void* tot_live,
                                   std::int32_t* tot_zero);
}  // namespace mpe::kernels_x86_64_v3
#endif

namespace mpe::kernels {
namespace {
bool use_v3() {
#if MPE_CPU_V3
  return cpu_level(kCpuWidestBuilt) == 3;
#else
  return false;
#endif
}
}  // namespace

void bp_sweep_cpu(const BpArgs<float>& a, int steps) {
#if MPE_CPU_V3
  if (use_v3()) return kernels_x86_64_v3::bp_sweep_cpu_level(&a, false, steps);
#endif
  bp_sweep_cpu_body(a, steps);
}
void bp_sweep_cpu(const BpArgs<double>& a, int steps) {
#if MPE_CPU_V3
  if (use_v3()) return kernels_x86_64_v3::bp_sweep_cpu_level(&a, true, steps);
#endif
  bp_sweep_cpu_body(a, steps);
}
void bp_sequential_sweep_cpu(const BpArgs<float>& a, float* tot_live, std::int32_t* tot_zero) {
#if MPE_CPU_V3
  if (use_v3()) {
    return kernels_x86_64_v3::bp_sequential_sweep_cpu_level(&a, false, tot_live, tot_zero);
  }
#endif
  bp_sequential_sweep_cpu_body(a, tot_live, tot_zero);
}
void bp_sequential_sweep_cpu(const BpArgs<double>& a, double* tot_live,
                             std::int32_t* tot_zero) {
#if MPE_CPU_V3
  if (use_v3()) {
    return kernels_x86_64_v3::bp_sequential_sweep_cpu_level(&a, true, tot_live, tot_zero);
  }
#endif
  bp_sequential_sweep_cpu_body(a, tot_live, tot_zero);
}

}  // namespace mpe::kernels
