#!/usr/bin/env bash
# The GPU check, for a machine with a CUDA device, in one command:
#   tools/gpu_check.sh [OUTDIR]        (OUTDIR defaults to $OUT, else ./gpu-check)
# Builds with CUDA for sm_90 (override: CUDA_ARCHS=...), runs every test with
# MPE_REQUIRE_CUDA=1, runs compute-sanitizer memcheck over the GPU parity tests, runs the quick
# benchmark suite, and writes logs plus summary.md into OUTDIR (at most 8 files).
# Dependencies are not installed here (GPU machines may have no package registry): have fmt,
# CLI11, nlohmann-json findable (CMAKE_PREFIX_PATH) and GoogleTest installed or its sources in
# MPE_GTEST_SOURCE_DIR.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-${OUT:-$root/gpu-check}}"
mkdir -p "$out"
build="$root/build-gpu"
archs="${CUDA_ARCHS:-90}"
jobs="$(nproc)"
summary="$out/summary.md"
# The device machine gets a copy of the tree without .git: the caller may pass MPE_COMMIT.
commit="${MPE_COMMIT:-$(git -C "$root" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)}"
status=0
{
  echo "# mpengine GPU check"
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "- commit: $commit"
  echo "- gpu: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo none)"
  echo "- nvcc: $(nvcc --version 2>/dev/null | tail -1)"
  echo
  echo "| step | result | seconds |"
  echo "|---|---|---:|"
} >"$summary"

step() {  # step NAME LOG COMMAND...
  local name="$1" log="$2"
  shift 2
  local t0=$SECONDS rc
  "$@" >>"$log" 2>&1
  rc=$?
  local result="ok"
  [ $rc -eq 0 ] || { result="FAILED (rc=$rc, see $(basename "$log"))"; status=1; }
  echo "| $name | $result | $((SECONDS - t0)) |" >>"$summary"
  echo "[gpu_check] $name: $result" >&2
  return $rc
}

gtest_arg=()
[ -n "${MPE_GTEST_SOURCE_DIR:-}" ] && gtest_arg=(-DMPE_GTEST_SOURCE_DIR="$MPE_GTEST_SOURCE_DIR")
configure() {
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMPE_CUDA=ON \
    -DCMAKE_CUDA_ARCHITECTURES="$archs" -DMPE_PTXAS_VERBOSE=ON -DMPE_CCACHE=OFF \
    -DMPE_BUILD_TESTS=ON -DMPE_BUILD_TOOLS=ON -DMPE_SANITIZE=OFF -DMPE_TSAN=OFF \
    -DMPE_GIT_COMMIT="$commit" "${gtest_arg[@]}"
}
build_all() { cmake --build "$build" -j "$jobs"; }
if step configure "$out/build.log" configure && step build "$out/build.log" build_all; then
  grep -E "ptxas info|bytes stack frame|spill" "$out/build.log" | sed 's/^.*ptxas/ptxas/' >"$out/ptxas.txt"
  {
    "$build/tools/mpe" info
    echo
    "$build/tools/mpe" aggregate "$root/data/cora/cora.cites" --symmetrize --self-loops --rounds 20
  } >"$out/info.txt" 2>&1 || status=1
  run_tests() { cd "$build" && MPE_REQUIRE_CUDA=1 ctest --no-tests=error -j 4 --output-on-failure --timeout 900; }
  step "ctest (MPE_REQUIRE_CUDA=1)" "$out/ctest.log" run_tests
  memcheck() {
    compute-sanitizer --tool memcheck --error-exitcode 99 --leak-check full \
      "$build/tests/mpe_gpu_tests" --gtest_filter='GpuParity*:GpuDevice*:GpuEngine*:-GpuDevice.OutOfMemory*'
  }
  step "compute-sanitizer memcheck (gpu tests)" "$out/memcheck.log" memcheck
  # The quick suite (CPU and GPU), then a GPU grid large enough to fill the device.
  gpu_grid=(--device cuda --op copy,lse_contract,csr_aggregate --mib 1024 --batch 1,64,1024,16384 --rows 192
            --cols 192 --shared 0,1 --nodes 1000000 --degree 16 --width 32,128
            --graph uniform,rmat --agg sum,max)
  aif_grid=(--device cpu,cuda --op aif_plan --problems 1,64,1024 --states 32,64 --actions 5
            --horizon 5 --iters 10 -r 3 --warmup 1)
  # The scheduler: 1024 requests from 16 threads, without and with batching.
  engine_grid=(--device cuda --op aif_engine --problems 1024 --clients 16 --engine-batch 1,64,1024
               --states 64 --actions 5 --horizon 5 --iters 10 -r 1 --warmup 1)
  bench() {
    "$build/bench/mpe-bench" --quick -o md >"$out/bench.md" &&
      "$build/bench/mpe-bench" --quick -o jsonl >"$out/bench.jsonl" &&
      echo >>"$out/bench.md" &&
      "$build/bench/mpe-bench" "${gpu_grid[@]}" -o md >>"$out/bench.md" &&
      "$build/bench/mpe-bench" "${gpu_grid[@]}" -o jsonl >>"$out/bench.jsonl" &&
      echo >>"$out/bench.md" &&
      "$build/bench/mpe-bench" "${aif_grid[@]}" -o md >>"$out/bench.md" &&
      echo >>"$out/bench.md" &&
      "$build/bench/mpe-bench" "${engine_grid[@]}" -o md >>"$out/bench.md" 2>>"$out/bench.md"
  }
  step "mpe-bench --quick" "$out/bench.log" bench
  cat "$out/bench.log" >>"$out/ctest.log" 2>/dev/null; rm -f "$out/bench.log"
fi
echo >>"$summary"
[ -f "$out/ctest.log" ] && grep -E "tests passed|tests failed|Total Test time" "$out/ctest.log" >>"$summary"
[ -f "$out/memcheck.log" ] && grep -E "ERROR SUMMARY" "$out/memcheck.log" | tail -1 >>"$summary"
[ -f "$out/bench.md" ] && { echo; cat "$out/bench.md"; } >>"$summary"
cat "$summary"
exit $status
