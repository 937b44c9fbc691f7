#include "cpu/cpu_level.hpp"

#include <cstdlib>

namespace mpe::kernels {

namespace {
int detect() {
  int cap = 4;
  if (const char* forced = std::getenv("MPE_CPU_LEVEL")) cap = std::atoi(forced);
  (void)cap;
#if MPE_CPU_V3 || MPE_CPU_V4
  __builtin_cpu_init();
#if MPE_CPU_V4
  if (cap >= 4 && __builtin_cpu_supports("x86-64-v4")) return 4;
#endif
  if (cap >= 3 && __builtin_cpu_supports("x86-64-v3")) return 3;
#endif
  return 1;
}
}  // namespace

int cpu_level(int widest) {
  static const int level = detect();
  return level < widest ? level : widest;
}

}  // namespace mpe::kernels
