// The library's OpenMP wait policy: passive (threads waiting for work sleep instead of
// spinning), unless the environment already chooses (OMP_WAIT_POLICY or GOMP_SPINCOUNT set).
//
// Why: on a machine whose cores are shared (other processes, CI runners, a 2-vCPU VM), a
// spinning OpenMP thread holds a core that the thread it waits for needs; measured here, two
// threads of a BP sweep ran 19x slower than with passive waiting (bench/NOTES.md, "Loopy BP,
// issue 20"). Passive costs a futex wake per parallel region (tens of microseconds), which the
// kernels keep small by staying serial below their work thresholds.
//
// How: the OpenMP runtime reads its environment once, when it is loaded, before any code of
// ours runs, so the default is set from the executable's .preinit_array, which the loader runs
// before every shared library's initialisers. This file is compiled into each executable that
// links mpengine (an INTERFACE source, engine/CMakeLists.txt); programs built against an
// installed mpengine set OMP_WAIT_POLICY themselves. Sanitizer builds keep the runtime's
// default (their runtimes initialise from the same array).
#include <cstdlib>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define MPE_OMP_DEFAULTS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define MPE_OMP_DEFAULTS 0
#endif
#endif
#ifndef MPE_OMP_DEFAULTS
#define MPE_OMP_DEFAULTS 1
#endif

#if MPE_OMP_DEFAULTS && defined(__ELF__)
namespace {
void mpe_omp_defaults(int, char**, char**) {
  if (std::getenv("OMP_WAIT_POLICY") == nullptr && std::getenv("GOMP_SPINCOUNT") == nullptr) {
    setenv("OMP_WAIT_POLICY", "passive", 0);
  }
}
}  // namespace
__attribute__((section(".preinit_array"), used)) void (*const mpe_omp_defaults_entry)(
    int, char**, char**) = mpe_omp_defaults;
#endif
