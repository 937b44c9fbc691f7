// graph_mp's CPU body built for x86-64-v3 (AVX2 and FMA); kernels/cpu/graph_mp.cpp calls it when
// the CPU has that level. System headers come first, then `kernels` is renamed so that every
// inline function of the shared headers is this build's own.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#define kernels kernels_x86_64_v3
#include "cpu/graph_mp_body.hpp"

namespace mpe::kernels {
// `args` is the caller's mpe::kernels::GraphMpArgs (the same layout under the renamed namespace).
void graph_mp_cpu_level(const void* args) {
  graph_mp_cpu_body(*static_cast<const GraphMpArgs*>(args));
}
}  // namespace mpe::kernels
