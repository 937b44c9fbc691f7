#!/usr/bin/env bash
# Spreading-activation relevance on the CPU: mpengine (`mpe-bench --op relevance`, R-MAT store,
# gates 0 and 0.3) beside the SciPy peer (bench/peers/relevance_scipy.py), one thread each,
# both pinned to the same core, alternating for several rounds so that both see the same
# machine load. Each line is one side's per-call p50 (wall) and CPU p50 (CPU time over the
# call: mpe-bench's calling thread, the peer's process; on a shared machine it leaves out the
# time other programs held the core, so compare those). --threads 2 adds mpengine on two threads (cores 0 and --core) after each one-thread
# run. --also PATH adds a second mpe-bench (e.g. an older build) to each round. The load
# average is printed before each round.
#
#   bash bench/peers/compare_relevance.sh [--nodes 62500] [--degree 16] [--batch 256]
#        [--reps 3] [--rounds 2] [--core 1] [--threads 1|2] [--build build-cpu] [--also PATH]
#        [--python PY]
#
# Needs numpy and scipy for PY (default python3) and a build of mpe-bench (tools/build.sh).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
nodes=62500 degree=16 batch=256 reps=3 rounds=2 core=1 threads=1 build="$root/build-cpu"
also="" py=python3
while [ $# -gt 0 ]; do
  case "$1" in
    --nodes) nodes="$2"; shift 2 ;;
    --degree) degree="$2"; shift 2 ;;
    --batch) batch="$2"; shift 2 ;;
    --reps) reps="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --core) core="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    --also) also="$2"; shift 2 ;;
    --python) py="$2"; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "compare_relevance.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case "$build" in /*) ;; *) build="$root/$build" ;; esac
bench="$build/bench/mpe-bench"
[ -x "$bench" ] || { echo "compare_relevance.sh: no mpe-bench at '$bench' (--build DIR)" >&2; exit 2; }
[ -z "$also" ] || [ -x "$also" ] || { echo "compare_relevance.sh: no mpe-bench at '$also'" >&2; exit 2; }
warm=1
[ "$batch" -gt 1 ] || warm=5
other=$(( core == 0 ? 1 : 0 ))

run_mpe() {  # label binary threads cores
  OMP_NUM_THREADS="$3" taskset -c "$4" "$2" --op relevance --rel-graph rmat --nodes "$nodes" \
    --degree "$degree" --rel-batch "$batch" --rel-gate 0,0.3 -r "$reps" --warmup "$warm" \
    --device cpu 2>&1 | grep "relevance B=" | sed "s/^ */$1 /"
}

for r in $(seq "$rounds"); do
  echo "round $r, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  run_mpe "mpe T=1" "$bench" 1 "$core"
  [ "$threads" = 2 ] && run_mpe "mpe T=2" "$bench" 2 "$other,$core"
  if [ -n "$also" ]; then
    run_mpe "also T=1" "$also" 1 "$core"
    [ "$threads" = 2 ] && run_mpe "also T=2" "$also" 2 "$other,$core"
  fi
  (cd "$root/bench/peers" && OMP_NUM_THREADS=1 taskset -c "$core" "$py" relevance_scipy.py \
     --nodes "$nodes" --degree "$degree" --batch "$batch" --reps "$reps" --warmup "$warm" \
     --threads 1 | grep "B=" | sed "s/^/scipy /")
done
echo "end, load average $(cut -d' ' -f1-3 /proc/loadavg)"
