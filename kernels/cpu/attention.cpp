// CPU attention: the body in attention_body.hpp, built plainly here and (on x86-64 with GCC or
// Clang) also for x86-64-v3 (AVX2, FMA) and x86-64-v4 (AVX-512) in kernels/cpu/isa/; the widest
// level the CPU runs is picked by cpu_level() (MPE_CPU_LEVEL=1 or 3 caps it).
#include "cpu/attention_body.hpp"
#include "cpu/cpu_level.hpp"

#if MPE_CPU_V3
namespace mpe::kernels_x86_64_v3 {
void attention_cpu_level(const void* args);
}
#endif
#if MPE_CPU_V4
namespace mpe::kernels_x86_64_v4 {
void attention_cpu_level(const void* args);
}
#endif

namespace mpe::kernels {

void attention_cpu(const AttentionArgs& a) {
  switch (cpu_level(kCpuWidestBuilt)) {
#if MPE_CPU_V4
    case 4: return kernels_x86_64_v4::attention_cpu_level(&a);
#endif
#if MPE_CPU_V3
    case 3: return kernels_x86_64_v3::attention_cpu_level(&a);
#endif
    default: break;
  }
  attention_cpu_body(a);
}

}  // namespace mpe::kernels
