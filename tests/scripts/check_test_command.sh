#!/usr/bin/env bash
# Run by CTest (scripts_test_command): the test command cannot pass on an empty test run.
#  1. ctest with --no-tests=error fails in a build directory that holds no tests;
#  2. every ctest call in tools/*.sh carries --no-tests=error;
#  3. a build directory configured as tools/run.sh does (tests off) gets its tests back when
#     reconfigured with the options tools/test.sh passes, and then lists tests.
# Usage: check_test_command.sh SOURCE_DIR WORK_DIR
set -uo pipefail
src="$1"
work="$2"
fail() { echo "check_test_command: $*" >&2; exit 1; }
rm -rf "$work" && mkdir -p "$work/empty" || fail "cannot create $work"

# 1. An empty test directory: ctest alone passes (the trap), with the flag it fails.
echo "# no tests" >"$work/empty/CTestTestfile.cmake"
(cd "$work/empty" && ctest >/dev/null 2>&1) || fail "plain ctest fails on an empty directory (unexpected)"
if (cd "$work/empty" && ctest --no-tests=error >"$work/empty.log" 2>&1); then
  fail "ctest --no-tests=error passed with no tests"
fi
grep -q "No tests were found" "$work/empty.log" || fail "no 'No tests were found' in: $(cat "$work/empty.log")"

# 2. Every ctest command line in the scripts fails on an empty run.
while IFS= read -r hit; do
  case "$hit" in *--no-tests=error*) ;; *) fail "a ctest call without --no-tests=error: $hit" ;; esac
done < <(grep -nE '(^|[^-[:alnum:]_])ctest +-' "$src"/tools/*.sh | grep -vE ':[0-9]+:[[:space:]]*#')
grep -q -- "--no-tests=error" "$src/tools/test.sh" || fail "tools/test.sh calls no checked ctest"

# 3. The README's order: run.sh's configure (tests off), then test.sh's.
read -r -a opts < <(bash "$src/tools/test.sh" --print-release-options) || fail "test.sh printed no options"
[ ${#opts[@]} -gt 0 ] || fail "tools/test.sh names no configure options"
cfg="$work/build"
cmake -S "$src" -B "$cfg" -G Ninja -DMPE_CUDA=OFF -DMPE_CCACHE=OFF -DMPE_BUILD_TESTS=OFF \
  >"$work/configure_off.log" 2>&1 || fail "configure with tests off failed: $(tail -5 "$work/configure_off.log")"
if (cd "$cfg" && ctest --no-tests=error >/dev/null 2>&1); then
  fail "ctest --no-tests=error passed in a build configured with tests off"
fi
cmake -S "$src" -B "$cfg" "${opts[@]}" >"$work/configure_on.log" 2>&1 ||
  fail "reconfigure with test.sh's options failed: $(tail -5 "$work/configure_on.log")"
grep -q '^MPE_BUILD_TESTS:BOOL=ON' "$cfg/CMakeCache.txt" || fail "test.sh's options leave tests off"
# Before building, the tests CMake declares itself are listed (GoogleTest's come at build).
(cd "$cfg" && ctest -N >"$work/listed.log" 2>&1) || fail "ctest -N failed: $(cat "$work/listed.log")"
listed=$(sed -n 's/^Total Tests: \([0-9]*\)$/\1/p' "$work/listed.log")
[ "${listed:-0}" -gt 0 ] || fail "no tests listed after test.sh's configure: $(cat "$work/listed.log")"
echo "check_test_command: ok ($listed tests declared before building)"
