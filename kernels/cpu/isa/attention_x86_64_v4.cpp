// CPU attention built for x86-64-v4; kernels/cpu/attention.cpp calls it when the CPU has that
// level. System headers first, then `kernels` is renamed so that every inline function of the
// shared headers is this build's own.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include <omp.h>

#define kernels kernels_x86_64_v4
#include "cpu/attention_body.hpp"

namespace mpe::kernels {
void attention_cpu_level(const void* args) {
  attention_cpu_body(*static_cast<const AttentionArgs*>(args));
}
}  // namespace mpe::kernels
