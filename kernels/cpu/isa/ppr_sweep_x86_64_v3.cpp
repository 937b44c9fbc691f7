// ppr_sweep's CPU body built for x86-64-v3 (AVX2 and FMA); kernels/cpu/ppr_sweep.cpp calls it
// when the CPU has that level. System headers first, then `kernels` is renamed so that the
// shared header's functions are this build's own.
#include <cmath>
#include <cstdint>
#include <cstring>

#define kernels kernels_x86_64_v3
#include "cpu/ppr_sweep_body.hpp"

namespace mpe::kernels {
// `args` is the caller's mpe::kernels::PprSweepArgs (the same layout under the renamed namespace).
void ppr_sweep_cpu_level(const void* args) {
  ppr_sweep_cpu_body(*static_cast<const PprSweepArgs*>(args));
}
}  // namespace mpe::kernels
