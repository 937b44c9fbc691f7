#!/usr/bin/env bash
# Coverage-guided fuzzing of every reader (tests/fuzz): builds the libFuzzer targets with clang,
# ASan and UBSan into build-fuzz, then runs each for SECONDS (default 20) over a corpus made
# from its seeds (tests/fuzz/seeds/<name>, plus the matching files of tests/data, examples/ and
# data/) with its dictionary (tests/fuzz/dict/<name>.dict). tools/test.sh calls it.
#   tools/fuzz.sh [SECONDS] [NAME...]      NAME: matrix_market edge_list factor_graph ...
# A crash, leak, sanitizer report, timeout or failed property fails the script; the reproducer
# is kept under build-fuzz/fuzz-artifacts/ and printed (base64) in the log. Each run's figures
# (executions, exec/s, coverage, corpus) are printed and written to build-fuzz/fuzz-summary.md
# (MPE_FUZZ_SUMMARY names another file, for two runs side by side).
# The grown corpus stays in build-fuzz/corpus/<name> between runs.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
secs="${1:-20}"
shift || true
all=(matrix_market edge_list factor_graph uai_evidence npy aif_model aif_request relevance_csv
     store_open cli_values)
names=("$@")
[ ${#names[@]} -gt 0 ] || names=("${all[@]}")
jobs="${MPE_JOBS:-$(nproc)}"
build="${MPE_FUZZ_BUILD:-$root/build-fuzz}"
bash "$root/tools/install_deps.sh" --fuzz

# MPE_FUZZ_NO_BUILD=1 runs the targets already built (two runs side by side share one build).
if [ "${MPE_FUZZ_NO_BUILD:-0}" != 1 ]; then
echo "== build (libFuzzer + ASan + UBSan, clang) =="
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG" -DMPE_FUZZ=ON -DMPE_CUDA=OFF \
  -DMPE_BUILD_TESTS=OFF -DMPE_BUILD_TOOLS=OFF -DMPE_SANITIZE=OFF -DMPE_TSAN=OFF -DMPE_WERROR=OFF \
  -DBUILD_SHARED_LIBS=OFF >/dev/null
cmake --build "$build" -j "$jobs" --target mpe_fuzz_all
fi

# seed_files NAME: "<prefix byte or -> <file>" lines; targets whose first byte chooses a mode
# get each file once per mode.
seed_files() {
  local s="$root/tests/fuzz/seeds/$1" f p
  case "$1" in
    matrix_market) for f in "$s"/* "$root"/tests/data/regress/*.mtx; do echo "- $f"; done ;;
    edge_list)
      for f in "$s"/* "$root/tests/cli/tiny.edges" "$root/data/cora/cora.cites"; do
        for p in 00 01 02 03; do echo "$p $f"; done
      done ;;
    factor_graph)
      for f in "$s"/* "$root"/tests/data/bp/*.fg "$root"/tests/data/bp/*.uai "$root"/tests/data/regress/*.fg \
               "$root"/tests/data/regress/*.uai; do
        case "$f" in *.uai) echo "01 $f" ;; *) echo "00 $f" ;; esac
      done ;;
    uai_evidence) for f in "$s"/* "$root"/tests/data/bp/*.evid; do echo "- $f"; done ;;
    npy) for f in "$s"/* $(find "$root/tests/data" -name '*.npy' | sort); do echo "- $f"; done ;;
    aif_model) for f in "$s"/* "$root"/examples/aif/*model*.json; do echo "- $f"; done ;;
    aif_request)
      for f in "$s"/* "$root"/examples/aif/*request*.json "$root"/tests/data/regress/request_*.json; do
        echo "- $f"
      done ;;
    *) for f in "$s"/*; do echo "- $f"; done ;;
  esac
}

export OMP_NUM_THREADS=1
export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=0:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
artifacts="$build/fuzz-artifacts"
summary="${MPE_FUZZ_SUMMARY:-$build/fuzz-summary.md}"
mkdir -p "$artifacts"
{
  echo "| target | seconds | runs | exec/s | cov | ft | corpus | result |"
  echo "|---|---:|---:|---:|---:|---:|---:|---|"
} >"$summary"
status=0
for name in "${names[@]}"; do
  bin="$build/tests/fuzz/fuzz_$name"
  [ -x "$bin" ] || { echo "fuzz.sh: no target '$name' (have: ${all[*]})" >&2; exit 2; }
  corpus="$build/corpus/$name"
  mkdir -p "$corpus"
  n=0
  while read -r prefix file; do
    [ -f "$file" ] || continue
    n=$((n + 1))
    out="$corpus/seed_$(basename "$file")_$prefix"
    if [ "$prefix" = "-" ]; then cp "$file" "$out"; else { printf "\\x$prefix"; cat "$file"; } >"$out"; fi
  done < <(seed_files "$name")
  max_len=4096
  [ "$name" = store_open ] && max_len=65536
  log="$build/fuzz_$name.log"
  echo "== fuzz $name: ${secs}s over $n seeds =="
  rc=0
  "$bin" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 -max_len="$max_len" \
    -dict="$root/tests/fuzz/dict/$name.dict" -artifact_prefix="$artifacts/$name-" \
    -print_final_stats=1 "$corpus" </dev/null >"$log" 2>&1 || rc=$?
  done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 || true)
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(echo "$done_line" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
  ft=$(echo "$done_line" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
  corp=$(echo "$done_line" | sed -n 's/.*corp: \([0-9]*\).*/\1/p')
  result=ok
  if [ $rc -ne 0 ]; then
    result="FAILED (rc=$rc)"
    status=1
    echo "---- fuzz_$name failed; the end of its log:"
    tail -n 60 "$log"
    for a in "$artifacts/$name-"*; do
      [ -f "$a" ] || continue
      echo "---- reproducer $a (base64; decode with base64 -d, run: $bin FILE):"
      base64 "$a"
    done
  fi
  echo "| $name | $secs | ${runs:-?} | ${eps:-?} | ${cov:-?} | ${ft:-?} | ${corp:-?} | $result |" >>"$summary"
  echo "fuzz_$name: $result; runs ${runs:-?}, ${eps:-?} exec/s, cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?}"
done
cat "$summary"
exit $status
