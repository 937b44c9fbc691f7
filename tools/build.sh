#!/usr/bin/env bash
# Configures and builds mpengine into a build directory (default: build). Extra arguments go
# to CMake's configure step, e.g. tools/build.sh build-cpu -DMPE_CUDA=OFF
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${1:-build}"
shift || true
case "$dir" in /*) ;; *) dir="$root/$dir" ;; esac
jobs="${MPE_JOBS:-$(nproc)}"
cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="${MPE_BUILD_TYPE:-Release}" "$@" >/dev/null
cmake --build "$dir" -j "$jobs"
