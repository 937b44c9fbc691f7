#pragma once
// The one CPU instruction-set picker. A CPU kernel whose body is also built for wider x86-64
// levels (cmake/MpeCpuLevels.cmake: mpe_cpu_kernel(<op> LEVELS ...) builds
// kernels/cpu/isa/<op>_x86_64_v<L>.cpp and defines MPE_CPU_V3 / MPE_CPU_V4 for
// kernels/cpu/<op>.cpp) asks cpu_level(kCpuWidestBuilt) which build to run.
//
// Levels: 1 = the baseline build (also every non-x86 machine), 3 = x86-64-v3 (AVX2, FMA),
// 4 = x86-64-v4 (AVX-512). The environment variable MPE_CPU_LEVEL caps the level for every
// kernel (MPE_CPU_LEVEL=1: baseline builds only; =3: no AVX-512).
#ifndef MPE_CPU_V3
#define MPE_CPU_V3 0
#endif
#ifndef MPE_CPU_V4
#define MPE_CPU_V4 0
#endif

namespace mpe::kernels {

// The widest level built of the kernel file that includes this header.
constexpr int kCpuWidestBuilt = MPE_CPU_V4 ? 4 : (MPE_CPU_V3 ? 3 : 1);

// The level to run: the widest the CPU supports and MPE_CPU_LEVEL allows, at most `widest`
// (the caller's widest build). The CPU and the environment are read once, at the first call.
int cpu_level(int widest);

}  // namespace mpe::kernels
