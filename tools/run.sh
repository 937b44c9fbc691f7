#!/usr/bin/env bash
# The main job: install dependencies, build, show the devices, run message passing over the
# Cora citation graph and AIF-MP planning on the spec's fixture on the best device found (a GPU
# when one answers, else the CPU), then the quick benchmark suite.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/tools/install_deps.sh"
bash "$root/tools/build.sh" build -DMPE_BUILD_TESTS=OFF
mpe="$root/build/tools/mpe"
echo
"$mpe" info
echo
"$mpe" aggregate "$root/data/cora/cora.cites" --symmetrize --self-loops --width 64 --rounds 20
echo
"$mpe" plan "$root/examples/aif/fixture_model.json" "$root/examples/aif/fixture_request.json"
echo
"$root/build/bench/mpe-bench" --quick
