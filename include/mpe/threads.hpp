#pragma once
// The library's OpenMP wait policy (README, "Threads").

namespace mpe {

/// Passive OpenMP waiting (idle threads sleep instead of spinning) unless the environment
/// chooses. The OpenMP runtime reads OMP_WAIT_POLICY once, when it is loaded, before any code of
/// a program runs, so a program applies the default by calling this first thing in main():
/// when neither OMP_WAIT_POLICY nor GOMP_SPINCOUNT is set, it sets OMP_WAIT_POLICY=passive and
/// re-executes the program (/proc/self/exe, same argv); otherwise, or where re-executing is not
/// possible, it returns and nothing changes. The mpe and mpe-bench programs call it.
void apply_omp_wait_policy(char** argv);

}  // namespace mpe
