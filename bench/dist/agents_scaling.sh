#!/usr/bin/env bash
# Sharded agent episodes (docs/distributed.md): `mpe agent` on 1, 2 and 4 ranks (4 oversubscribed
# on a 2-core machine), alternating, several repeats; prints ranks, wall seconds (slowest rank)
# and the success rate (which must not change with the rank count), and the CPU seconds (user +
# system) of all ranks together, which time sharing on a loaded machine does not inflate.
# usage: bench/dist/agents_scaling.sh BUILD_DIR [REPEATS] [extra mpe agent options]
set -euo pipefail
build="${1:?build directory}"
repeats="${2:-3}"
shift $(( $# >= 2 ? 2 : 1 ))
mpe="$build/tools/mpe"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMP_NUM_THREADS=1
cpu_file="$(mktemp)"
trap 'rm -f "$cpu_file"' EXIT
row() {
  python3 -c 'import json, sys
j = json.load(sys.stdin)
cpu = sum(float(v) for v in open(sys.argv[2]).read().split()[-2:])
print("| %s | %.2f | %.1f | %.3f | %.4f |" % (sys.argv[1], j["wall_seconds"], cpu, j["success_rate"], j["mean_reward"]))' "$1" "$cpu_file"
}
timed() { /usr/bin/time -f "%U %S" -o "$cpu_file" "$@"; }
echo "| ranks | wall s | CPU s (all ranks) | success rate | mean reward |"
echo "|---:|---:|---:|---:|---:|"
for ((r = 0; r < repeats; ++r)); do
  timed taskset -c 1 "$mpe" agent --json --quiet --device cpu "$@" | row 1
  timed mpirun -np 2 --bind-to none taskset -c 0,1 "$mpe" agent --json --quiet --device cpu "$@" | row 2
  timed mpirun -np 4 --bind-to none taskset -c 0,1 "$mpe" agent --json --quiet --device cpu "$@" | row "4 (oversubscribed)"
done
