#!/usr/bin/env bash
# CPU attention: mpengine (`mpe-bench --op attention`) beside PyTorch's
# scaled_dot_product_attention (bench/peers/attention_torch.py), the same shapes, storage and
# thread count, both pinned to the same cores, alternating shape by shape for several rounds
# so that both see the same machine load. Prints one row per (threads, dtype, shape): the median
# over rounds of each side's median time and of the per-round ratio torch / mpengine (> 1: mpengine
# is faster).
#
#   bash bench/peers/compare_attention.sh [--rounds 3] [--reps 5] [--threads 1,2]
#        [--dtype f32,bf16] [--shapes "8:512:64:0 8:1024:128:0 ..."] [--build build]
#        [--baseline DIR] [--python PYTHON]
#
# Shapes are H:N:D:causal with B = 1 (default: the bench/NOTES.md set). One thread runs on core 1,
# two on cores 0-1. --baseline DIR adds another build's mpe-bench as a third column (before /
# after a change). Needs torch (pip install torch) and a build of mpe-bench.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
rounds=3 reps=5 threads=1,2 dtypes=f32,bf16 build="$root/build" baseline="" py=python3
shapes="8:512:64:0 8:512:128:0 8:1024:64:0 8:1024:128:0 8:2048:128:0 8:2048:128:1 1:4096:128:0"
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --reps) reps="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --dtype) dtypes="$2"; shift 2 ;;
    --shapes) shapes="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    --baseline) baseline="$2"; shift 2 ;;
    --python) py="$2"; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "compare_attention.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
bench="$build/bench/mpe-bench"
[ -x "$bench" ] || { echo "compare_attention.sh: $bench not found; build first (tools/build.sh)" >&2; exit 2; }
[ -z "$baseline" ] || [ -x "$baseline/bench/mpe-bench" ] ||
  { echo "compare_attention.sh: $baseline/bench/mpe-bench not found" >&2; exit 2; }
"$py" -c "import torch" 2>/dev/null || { echo "compare_attention.sh: needs torch ($py -m pip install torch)" >&2; exit 2; }

out="$(mktemp)"
trap 'rm -f "$out"' EXIT
mpe_side() {  # NAME BENCH T DT H N D C ROUND
  OMP_NUM_THREADS="$3" taskset -c "$pin" "$2" --device cpu --op attention --heads "$5" --seq "$6" \
    --head-dim "$7" --causal "$8" --dtype "$4" -r "$reps" --warmup 1 -o jsonl |
    sed "s/^/$1 $3 $4 $5:$6:$7:$8 $9 /" >>"$out"
}
for ((r = 1; r <= rounds; r++)); do
  for t in ${threads//,/ }; do
    pin=1
    [ "$t" -ge 2 ] && pin="0-$((t - 1))"
    for dt in ${dtypes//,/ }; do
      for s in $shapes; do
        IFS=: read -r h n d c <<<"$s"
        echo "round $r/$rounds: threads $t $dt H=$h N=$n D=$d causal=$c" >&2
        taskset -c "$pin" "$py" "$root/bench/peers/attention_torch.py" --threads "$t" --heads "$h" \
          --seq "$n" --head-dim "$d" --causal "$c" --dtype "$dt" --reps "$reps" --warmup 1 --json |
          sed "s/^/torch $t $dt $s $r /" >>"$out"
        mpe_side mpe "$bench" "$t" "$dt" "$h" "$n" "$d" "$c" "$r"
        [ -z "$baseline" ] || mpe_side base "$baseline/bench/mpe-bench" "$t" "$dt" "$h" "$n" "$d" "$c" "$r"
      done
    done
  done
done

python3 - "$out" <<'PY'
import json, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    side, t, dt, shape, rnd, rest = line.split(" ", 5)
    runs.setdefault((int(t), dt, shape), {}).setdefault(int(rnd), {})[side] = json.loads(rest)["median_ms"]
base = any("base" in v for rounds in runs.values() for v in rounds.values())
head = "| threads | dtype | H:N:D:causal | torch (ms) | mpengine (ms) | torch / mpengine |"
print(head + (" baseline (ms) | baseline / mpengine |" if base else ""))
print("|---:|---|---|---:|---:|---:|" + ("---:|---:|" if base else ""))
for (t, dt, shape), rounds in sorted(runs.items()):
    full = [v for v in rounds.values() if "torch" in v and "mpe" in v]
    med = lambda side: statistics.median(v[side] for v in full)
    ratios = sorted(v["torch"] / v["mpe"] for v in full)
    row = (f"| {t} | {dt} | {shape} | {med('torch'):.2f} | {med('mpe'):.2f} | "
           f"{statistics.median(ratios):.2f} ({ratios[0]:.2f}-{ratios[-1]:.2f}) |")
    if base:
        b = sorted(v["base"] / v["mpe"] for v in full if "base" in v)
        row += f" {med('base'):.2f} | {statistics.median(b):.2f} |"
    print(row)
PY
