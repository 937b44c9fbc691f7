#!/usr/bin/env bash
# Strong scaling of the partitioned GCN layer (docs/distributed.md): 1, 2 and 4 ranks (4 is
# oversubscribed on a 2-core machine), alternating, several repeats; one markdown row per run.
# usage: bench/dist/strong_scaling.sh BUILD_DIR [REPEATS] [extra mpe-dist-bench gcn options]
set -euo pipefail
build="${1:?build directory}"
repeats="${2:-3}"
shift $(( $# >= 2 ? 2 : 1 ))
bench="$build/bench/mpe-dist-bench"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMP_NUM_THREADS=1
first=--header
for ((r = 0; r < repeats; ++r)); do
  for method in contiguous metis; do
    # One rank pinned to one core; two and four ranks share cores 0-1.
    taskset -c 1 "$bench" gcn --method "$method" $first "$@"
    first=
    mpirun -np 2 --bind-to none taskset -c 0,1 "$bench" gcn --method "$method" "$@"
    mpirun -np 4 --bind-to none taskset -c 0,1 "$bench" gcn --method "$method" "$@"
  done
done
