#!/usr/bin/env bash
# Two OpenMP threads against one, op by op, in one run: each case runs alternately on one
# core (taskset -c 1, OMP_NUM_THREADS=1) and on two (taskset -c 0,1, OMP_NUM_THREADS=2),
# --rounds times; the table gives the median of the per-run medians, the speed-up of those
# medians, and the speed-up of the fastest launches (less disturbed by other work on a shared
# machine). The load average before and after is printed with the table.
# The wait policy is the library's default (passive) unless OMP_WAIT_POLICY is set.
#
#   bash bench/threads_scaling.sh [--bench PATH] [--rounds N] [--reps N] [--quick]
set -euo pipefail

bench=build-cpu/bench/mpe-bench
rounds=3
reps=10
quick=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --bench) bench="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --reps) reps="$2"; shift 2 ;;
    --quick) quick=1; shift ;;
    -h|--help) sed -n 2,7p "$0"; exit 0 ;;
    *) echo "threads_scaling.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ -x "$bench" ]] || { echo "threads_scaling.sh: no mpe-bench at '$bench' (--bench PATH)" >&2; exit 2; }
[[ $(nproc --all) -ge 2 ]] || { echo "threads_scaling.sh: needs two cores" >&2; exit 2; }

# One case per line: a label, then the mpe-bench arguments (one combination each).
if [[ $quick == 1 ]]; then
  cases=(
    "bp grid 64 f64|--op bp --bp-graph grid --bp-size 64 --bp-sweeps 10"
    "attention N=512 f32|--op attention --seq 512 --heads 8 --head-dim 64 --dtype f32"
  )
else
  cases=(
    "bp grid 256 f64|--op bp --bp-graph grid --bp-size 256 --bp-sweeps 10"
    "bp regular 100k f64|--op bp --bp-graph regular --bp-size 100000 --bp-sweeps 10"
    "bp rbm 500 f32|--op bp --bp-graph rbm --bp-size 500 --bp-precision f32 --bp-sweeps 10"
    "relevance rmat 62.5k B=1 gate 0|--op relevance --rel-graph rmat --nodes 62500 --degree 16 --rel-batch 1 --rel-gate 0"
    "relevance rmat 62.5k B=256 gate 0.3|--op relevance --rel-graph rmat --nodes 62500 --degree 16 --rel-batch 256 --rel-gate 0.3"
    "attention N=512 D=64 f32|--op attention --seq 512 --heads 8 --head-dim 64 --dtype f32"
    "attention N=2048 D=64 f32|--op attention --seq 2048 --heads 8 --head-dim 64 --dtype f32"
    "attention N=512 D=64 bf16|--op attention --seq 512 --heads 8 --head-dim 64 --dtype bf16"
    "csr_aggregate rmat 1M F=64|--op csr_aggregate --graph rmat --nodes 1000000 --degree 16 --width 64 --agg sum"
    "aif_plan N=64 S=64|--op aif_plan --problems 64 --states 64"
  )
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

run_one() {  # threads, cores, args... -> "median_ms min_ms" of the row
  local threads=$1 cores=$2; shift 2
  OMP_NUM_THREADS=$threads taskset -c "$cores" "$bench" "$@" --device cpu -r "$reps" \
    --warmup 2 -o jsonl 2>/dev/null | python3 -c \
    'import json,sys; rows=[json.loads(l) for l in sys.stdin if l.startswith("{")]; print(rows[-1]["median_ms"], rows[-1]["min_ms"])'
}

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '| case | 1 thread, median (ms) | 2 threads, median (ms) | speed-up | speed-up, fastest |\n'
printf '|---|---:|---:|---:|---:|\n'
for entry in "${cases[@]}"; do
  label=${entry%%|*}
  read -r -a args <<<"${entry#*|}"
  : >"$tmp/one"; : >"$tmp/two"
  for ((r = 0; r < rounds; r++)); do
    run_one 1 1 "${args[@]}" >>"$tmp/one"
    run_one 2 0,1 "${args[@]}" >>"$tmp/two"
  done
  python3 - "$label" "$tmp/one" "$tmp/two" <<'EOF'
import statistics, sys
label = sys.argv[1]
runs = [[tuple(map(float, l.split())) for l in open(p) if l.strip()] for p in sys.argv[2:]]
med = [statistics.median(r[0] for r in rs) for rs in runs]
best = [min(r[1] for r in rs) for rs in runs]
print(f"| {label} | {med[0]:.3f} | {med[1]:.3f} | {med[0] / med[1]:.2f}x | {best[0] / best[1]:.2f}x |")
EOF
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
