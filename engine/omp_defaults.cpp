// The library's OpenMP wait policy (include/mpe/threads.hpp).
//
// Why passive: on a machine whose cores are shared (other processes, CI runners, a 2-vCPU VM),
// a spinning OpenMP thread holds a core that the thread it waits for needs; measured on this
// project's 2-vCPU machine, two threads of a BP sweep ran 7-19x slower than one with the
// default spin and not with passive waiting (bench/NOTES.md, "Loopy BP, issue 20"). Passive
// costs a futex wake per parallel region (tens of microseconds), which the kernels keep rare by
// staying serial below their work thresholds.
//
// Why a re-exec: the OpenMP runtime parses its environment in its own initialiser, before main
// and before any initialiser of ours (an executable's .preinit_array runs earlier, but glibc
// sets up the environment only afterwards, so a variable set there is lost).
#include <mpe/threads.hpp>

#include <cstdlib>
#include <cstring>

#include <unistd.h>

namespace mpe {

void apply_omp_wait_policy(char** argv) {
  if (argv == nullptr || argv[0] == nullptr) return;
  if (std::getenv("OMP_WAIT_POLICY") != nullptr || std::getenv("GOMP_SPINCOUNT") != nullptr) {
    return;
  }
  // Under valgrind the re-executed program would run uninstrumented (children are not traced).
  const char* preload = std::getenv("LD_PRELOAD");
  if (preload != nullptr && std::strstr(preload, "vgpreload") != nullptr) return;
  if (setenv("OMP_WAIT_POLICY", "passive", 0) != 0) return;
  execv("/proc/self/exe", argv);  // returns only on failure: run on with the runtime's default
}

}  // namespace mpe
