// Loopy BP's CPU body built for x86-64-v3 (AVX2 and FMA); kernels/cpu/bp.cpp calls it when the
// CPU has that level. System headers come first, then `kernels` is renamed so that every
// inline function of the shared headers is this build's own.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include <omp.h>

#define kernels kernels_x86_64_v3
#include "cpu/bp_body.hpp"

namespace mpe::kernels {
// `args` is the caller's mpe::kernels::BpArgs<float or double> (the same layout here).
void bp_sweep_cpu_level(const void* args, bool f64, int steps) {
  if (f64) {
    bp_sweep_cpu_body(*static_cast<const BpArgs<double>*>(args), steps);
  } else {
    bp_sweep_cpu_body(*static_cast<const BpArgs<float>*>(args), steps);
  }
}
void bp_sequential_sweep_cpu_level(const void* args, bool f64, void* tot_live,
                                   std::int32_t* tot_zero) {
  if (f64) {
    bp_sequential_sweep_cpu_body(*static_cast<const BpArgs<double>*>(args),
                                 static_cast<double*>(tot_live), tot_zero);
  } else {
    bp_sequential_sweep_cpu_body(*static_cast<const BpArgs<float>*>(args),
                                 static_cast<float*>(tot_live), tot_zero);
  }
}
}  // namespace mpe::kernels
