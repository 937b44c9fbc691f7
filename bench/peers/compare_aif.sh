#!/usr/bin/env bash
# AIF-MP planning on the CPU: mpengine (`mpe-bench --op aif_plan`) beside the JAX peer
# (bench/peers/aif_jax.py), both pinned to the same core, one problem, the same shapes, the same
# fixed iterations (tolerance off), alternating case by case for several rounds so that both see
# the same machine load. Prints one row per case: the median over rounds of each side's median
# time and of the per-round ratio JAX / mpengine.
#
#   bash bench/peers/compare_aif.sh [--rounds 3] [--reps 5] [--core 1] [--build build]
#                                   [--case NAME ...] [--json FILE]
#
# Cases (bench/NOTES.md): S192, frozen_lake_shape, S32, S64 (dense random models) and
# rocksample_sparse (T with one random successor per (x, θ, u); mpengine plans on T's support,
# the JAX side with segment sums over the same support). Needs jax[cpu] and numpy (pip) and a
# build of mpe-bench (tools/build.sh).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
rounds=3 reps=5 core=1 build="$root/build" json="" cases=()
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --reps) reps="$2"; shift 2 ;;
    --core) core="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    --case) cases+=("$2"); shift 2 ;;
    --json) json="$2"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "compare_aif.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
bench="$build/bench/mpe-bench"
[ -x "$bench" ] || { echo "compare_aif.sh: $bench not found; build first (tools/build.sh)" >&2; exit 2; }
python3 -c "import jax" 2>/dev/null || { echo "compare_aif.sh: needs jax (pip install 'jax[cpu]')" >&2; exit 2; }
[ ${#cases[@]} -gt 0 ] || cases=(S192 frozen_lake_shape S32 S64 rocksample_sparse)

# mpe-bench flags of each case (the shapes of aif_jax.py's CASES).
flags() {
  case "$1" in
    S192) echo "--states 192 --thetas 48 --actions 7 --modalities 2 --outcomes 2 --horizon 5 --iters 3" ;;
    frozen_lake_shape) echo "--states 32 --thetas 15 --actions 5 --modalities 48 --outcomes 2 --horizon 15 --iters 400" ;;
    S32) echo "--states 32 --thetas 4 --actions 5 --modalities 2 --outcomes 2 --horizon 5 --iters 10" ;;
    S64) echo "--states 64 --thetas 4 --actions 5 --modalities 2 --outcomes 2 --horizon 5 --iters 10" ;;
    rocksample_sparse) echo "--states 640 --thetas 8 --actions 8 --modalities 3 --outcomes 3 --horizon 12 --iters 10 --successors 1" ;;
    *) echo "compare_aif.sh: unknown case '$1'" >&2; exit 2 ;;
  esac
}

out="$(mktemp)"
trap 'rm -f "$out"' EXIT
pin=(taskset -c "$core")
export OMP_NUM_THREADS=1
for ((r = 1; r <= rounds; r++)); do
  for c in "${cases[@]}"; do
    echo "round $r/$rounds: $c" >&2
    "${pin[@]}" python3 "$root/bench/peers/aif_jax.py" --case "$c" --reps "$reps" --json |
      sed "s/^/jax $c $r /" >>"$out"
    # shellcheck disable=SC2046
    "${pin[@]}" "$bench" --device cpu --op aif_plan --problems 1 $(flags "$c") -r "$reps" \
      --warmup 1 -o jsonl | sed "s/^/mpe $c $r /" >>"$out"
  done
done

python3 - "$out" "$json" "${cases[@]}" <<'EOF'
import json, statistics, sys
path, json_out, cases = sys.argv[1], sys.argv[2], sys.argv[3:]
runs = {}
for line in open(path):
    side, case, rnd, rest = line.split(" ", 3)
    runs.setdefault((case, int(rnd)), {})[side] = json.loads(rest)["median_ms"]
rows = []
print("| case | JAX (ms) | mpengine (ms) | JAX / mpengine | rounds |")
print("|---|---:|---:|---:|---:|")
for c in cases:
    pairs = [v for (case, _), v in sorted(runs.items()) if case == c and len(v) == 2]
    jax_ms = statistics.median(p["jax"] for p in pairs)
    mpe_ms = statistics.median(p["mpe"] for p in pairs)
    ratios = sorted(p["jax"] / p["mpe"] for p in pairs)
    ratio = statistics.median(ratios)
    rows.append({"case": c, "jax_ms": jax_ms, "mpe_ms": mpe_ms, "ratio": ratio,
                 "ratio_min": ratios[0], "ratio_max": ratios[-1], "rounds": len(pairs)})
    print(f"| {c} | {jax_ms:.3f} | {mpe_ms:.3f} | {ratio:.1f}x ({ratios[0]:.1f}-{ratios[-1]:.1f}) | {len(pairs)} |")
if json_out:
    with open(json_out, "w") as f:
        json.dump(rows, f, indent=1)
EOF
