#!/usr/bin/env bash
# The test job (CI runs this): install dependencies, build with CUDA when nvcc is present
# (sm_90 by default), run every test in parallel (GPU tests skip visibly without a device),
# then build the CPU path with ASan + UBSan and run the unit tests under the sanitizers, the
# scheduler's tests under ThreadSanitizer, and every reader's fuzz target for a short time.
# Every configure names the options the job needs (a build directory configured before by
# tools/run.sh with tests off is switched back on), and every ctest call fails when it finds
# no tests (--no-tests=error): an empty run never passes. tests/scripts/check_test_command.sh
# checks both.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jobs="${MPE_JOBS:-$(nproc)}"
# MPE_PYTHON: the Python module is built in the same tree (the library compiled once) and its
# pytest suite runs as the ctest test python_tests.
release_options=(-DMPE_BUILD_TESTS=ON -DMPE_BUILD_TOOLS=ON -DMPE_SANITIZE=OFF -DMPE_TSAN=OFF
                 -DMPE_PYTHON=ON)
# The sanitizer builds at -O1 with line tables only: the checks are the same and they compile
# in about half the time of -O2 -g (CI's time goes to compiling them).
sanitizer_flags=(-DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG")
# For tests/scripts/check_test_command.sh: the release configure options, nothing run.
if [ "${1:-}" = "--print-release-options" ]; then
  echo "${release_options[@]}"
  exit 0
fi
bash "$root/tools/install_deps.sh"
bash "$root/tools/install_python_deps.sh"

echo "== build (release) =="
bash "$root/tools/build.sh" build "${release_options[@]}"
echo "== tests (release) =="
(cd "$root/build" && ctest --no-tests=error -j "$jobs" --output-on-failure --timeout 600)

echo "== build (ASan + UBSan, CPU backend) =="
MPE_BUILD_TYPE=RelWithDebInfo bash "$root/tools/build.sh" build-asan -DMPE_CUDA=OFF \
  -DMPE_SANITIZE=ON -DMPE_TSAN=OFF -DMPE_BUILD_TESTS=ON -DMPE_BUILD_TOOLS=OFF "${sanitizer_flags[@]}"
echo "== tests (ASan + UBSan) =="
export ASAN_OPTIONS="allocator_may_return_null=1:detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
(cd "$root/build-asan" && ctest --no-tests=error -j "$jobs" --output-on-failure --timeout 600 -L unit -LE 'install|script')

echo "== build (ThreadSanitizer, CPU backend: the scheduler) =="
cmake -S "$root" -B "$root/build-tsan" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMPE_CUDA=OFF \
  -DMPE_TSAN=ON -DMPE_SANITIZE=OFF -DMPE_BUILD_TESTS=ON -DMPE_BUILD_TOOLS=OFF "${sanitizer_flags[@]}" >/dev/null
cmake --build "$root/build-tsan" -j "$jobs" --target mpe_engine_tests
echo "== tests (ThreadSanitizer) =="
# One OpenMP thread: libgomp is not instrumented, so its own synchronisation would be reported.
# GoogleTest 1.12 passes a filter that selects nothing: the count of passed tests is checked.
(cd "$root/build-tsan" && OMP_NUM_THREADS=1 TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$root/tools/tsan.supp" \
  ./tests/mpe_engine_tests --gtest_filter='Engine*') | tee "$root/build-tsan/engine_tests.log"
grep -Eq '^\[  PASSED  \] [1-9][0-9]* test' "$root/build-tsan/engine_tests.log" ||
  { echo "no Engine test ran under ThreadSanitizer" >&2; exit 1; }

# Every reader fuzzed for a short fixed time (MPE_FUZZ_SECONDS, default 20 s per target; 10
# targets); a crash prints its reproducer and fails the job. tools/fuzz.sh SECONDS runs longer.
echo "== fuzz (libFuzzer + ASan + UBSan, ${MPE_FUZZ_SECONDS:-20} s per target) =="
bash "$root/tools/fuzz.sh" "${MPE_FUZZ_SECONDS:-20}"
echo "== all tests passed =="
