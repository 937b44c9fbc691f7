#!/usr/bin/env bash
# Line coverage that the fuzz corpora reach in each reader: builds the fuzz targets once more
# with clang's source-based coverage (-fprofile-instr-generate -fcoverage-mapping; no
# sanitizers) into build-fuzz-cov, runs every target once over the corpus tools/fuzz.sh grew
# (build-fuzz/corpus/<name>), and prints llvm-cov's line and region coverage of the reader's own
# source files. Run tools/fuzz.sh first.
#   tools/fuzz_coverage.sh [NAME...]     (default: every target)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jobs="${MPE_JOBS:-$(nproc)}"
build="$root/build-fuzz-cov"
corpora="${MPE_FUZZ_BUILD:-$root/build-fuzz}/corpus"
all=(matrix_market edge_list factor_graph uai_evidence npy aif_model aif_request relevance_csv
     store_open cli_values)
names=("$@")
[ ${#names[@]} -gt 0 ] || names=("${all[@]}")
# The source files that hold each target's reader (what the percentage is of).
sources() {
  case "$1" in
    matrix_market) echo engine/graph/matrix_market.cpp engine/graph/csr_build.cpp ;;
    edge_list) echo engine/graph/edge_list.cpp engine/graph/csr_build.cpp ;;
    factor_graph) echo engine/bp/io.cpp engine/bp/model.cpp ;;
    uai_evidence) echo engine/bp/io.cpp ;;
    npy) echo engine/npy.cpp ;;
    aif_model) echo engine/aif/model_io.cpp engine/aif/model.cpp ;;
    aif_request) echo engine/aif/model_io.cpp ;;
    relevance_csv) echo engine/relevance/csv_io.cpp engine/relevance/graph_data.cpp ;;
    store_open) echo engine/relevance/store.cpp engine/relevance/sqlite.cpp ;;
    cli_values) echo engine/device.cpp engine/relevance/seed_spec.cpp ;;
  esac
}
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_FLAGS_RELEASE="-O1 -DNDEBUG" -DMPE_FUZZ=ON -DMPE_FUZZ_COVERAGE=ON -DMPE_CUDA=OFF \
  -DMPE_BUILD_TESTS=OFF -DMPE_BUILD_TOOLS=OFF -DMPE_SANITIZE=OFF -DMPE_TSAN=OFF -DMPE_WERROR=OFF \
  -DBUILD_SHARED_LIBS=OFF >/dev/null
cmake --build "$build" -j "$jobs" --target mpe_fuzz_all
export OMP_NUM_THREADS=1
echo "| target | corpus | reader files | lines | regions |"
echo "|---|---:|---|---:|---:|"
for name in "${names[@]}"; do
  corpus="$corpora/$name"
  [ -d "$corpus" ] || { echo "fuzz_coverage.sh: no corpus $corpus (run tools/fuzz.sh first)" >&2; exit 2; }
  bin="$build/tests/fuzz/fuzz_$name"
  prof="$build/$name.profraw"
  rm -f "$prof"
  LLVM_PROFILE_FILE="$prof" "$bin" -runs=0 "$corpus" >"$build/$name.cov.log" 2>&1 || true
  llvm-profdata merge -sparse "$prof" -o "$build/$name.profdata"
  read -r -a files <<<"$(sources "$name")"
  # The per-file rows of the whole report (paths as compiled, "../engine/..."), summed over the
  # reader's files: lines and regions, covered / total.
  report=$(llvm-cov report "$bin" -instr-profile="$build/$name.profdata")
  read -r lines regions < <(echo "$report" | awk -v files="${files[*]}" '
    BEGIN { n = split(files, f, " ") }
    { for (i = 1; i <= n; ++i) if (index($1, f[i]) > 0 && substr($1, length($1) - length(f[i]) + 1) == f[i]) {
        r += $2; rm += $3; l += $8; lm += $9 } }
    END { printf "%.1f%%_(%d/%d) %.1f%%_(%d/%d)\n", l ? 100 * (l - lm) / l : 0, l - lm, l,
                 r ? 100 * (r - rm) / r : 0, r - rm, r }')
  lines=${lines//_/ }
  regions=${regions//_/ }
  echo "| $name | $(ls "$corpus" | wc -l) | ${files[*]} | $lines | $regions |"
done
