#!/usr/bin/env bash
# Starts N copies of a program by hand, without an MPI launcher, joined by the TCP rendezvous
# (MPE_UNIQUE_ID=file://..., MPE_RANK, MPE_WORLD_SIZE: dist::world() reads them), the way
# torchrun or Ray would start them. Fails unless every copy succeeds within the time limit.
# Usage: run_tcp_ranks.sh N PROGRAM [ARGS...]
set -u
n=$1
prog=$2
shift 2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
pids=()
for ((r = 0; r < n; ++r)); do
  MPE_UNIQUE_ID="file://$dir/rendezvous" MPE_RANK=$r MPE_WORLD_SIZE=$n OMP_NUM_THREADS=1 \
    MPE_DEVICE=cpu timeout 240 "$prog" "$@" >"$dir/out.$r" 2>&1 &
  pids+=($!)
done
rc=0
for ((r = 0; r < n; ++r)); do
  if ! wait "${pids[$r]}"; then
    rc=1
    echo "rank $r of $n failed:"
    cat "$dir/out.$r"
  fi
done
if [ "$rc" -eq 0 ]; then
  echo "all $n ranks passed; rank 0 said:"
  tail -n 5 "$dir/out.0"
fi
exit "$rc"
