// CPU attention: the body in attention_body.hpp, built plainly here and (on x86-64 with GCC or
// Clang) also for x86-64-v3 (AVX2, FMA) and x86-64-v4 (AVX-512) in kernels/cpu/isa/; the widest
// level the CPU runs is chosen once, at the first call (MPE_CPU_LEVEL=1 or 3 caps it).
#include <cstdlib>

#include "cpu/attention_body.hpp"

#ifndef MPE_ATTN_CPU_LEVELS
#define MPE_ATTN_CPU_LEVELS 0
#endif

#if MPE_ATTN_CPU_LEVELS
namespace mpe::kernels_x86_64_v3 {
void attention_cpu_level(const void* args);
}
namespace mpe::kernels_x86_64_v4 {
void attention_cpu_level(const void* args);
}
#endif

namespace mpe::kernels {

namespace {
int attention_cpu_isa() {
#if MPE_ATTN_CPU_LEVELS
  static const int level = [] {
    int cap = 4;
    if (const char* forced = std::getenv("MPE_CPU_LEVEL")) cap = std::atoi(forced);
    __builtin_cpu_init();
    if (cap >= 4 && __builtin_cpu_supports("x86-64-v4")) return 4;
    if (cap >= 3 && __builtin_cpu_supports("x86-64-v3")) return 3;
    return 1;
  }();
  return level;
#else
  return 1;
#endif
}
}  // namespace

void attention_cpu(const AttentionArgs& a) {
#if MPE_ATTN_CPU_LEVELS
  switch (attention_cpu_isa()) {
    case 4: return kernels_x86_64_v4::attention_cpu_level(&a);
    case 3: return kernels_x86_64_v3::attention_cpu_level(&a);
    default: break;
  }
#endif
  attention_cpu_body(a);
}

}  // namespace mpe::kernels
