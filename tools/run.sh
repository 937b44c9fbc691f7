#!/usr/bin/env bash
# The main job: install dependencies, build, show the devices, then active-inference agents on
# Frozen Lake (aif-mp.md §6.2: AIF-MP planning, all episodes in lock-step) on the best device
# found (a GPU when one answers, else the CPU), message passing over the Cora citation graph,
# AIF-MP on the spec's fixture, the relevance demo, belief propagation on a small UAI file with
# evidence, and the quick benchmark suite.
# Episodes: 1000, the spec's evaluation, on any device (under 3 minutes on 2 CPU cores: plans
# stop early once their channels settle, `mpe agent --tolerance`); MPE_AGENT_EPISODES chooses.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/tools/install_deps.sh"
bash "$root/tools/build.sh" build -DMPE_BUILD_TESTS=OFF -DMPE_BUILD_TOOLS=ON
mpe="$root/build/tools/mpe"
echo
"$mpe" info
echo
"$mpe" agent --env frozen_lake --method aif --episodes "${MPE_AGENT_EPISODES:-1000}" --seed 1
echo
"$mpe" aggregate "$root/data/cora/cora.cites" --symmetrize --self-loops --width 64 --rounds 20
echo
"$mpe" plan "$root/examples/aif/fixture_model.json" "$root/examples/aif/fixture_request.json"
echo
"$mpe" relevance demo "show me what serenity looks like"
echo
"$mpe" relevance demo "paint me a tranquil sunset"  # MiniLM when installed: no shared words
echo
"$mpe" bp "$root/tests/data/bp/chain.uai" --evidence "$root/tests/data/bp/chain.evid"
echo
"$root/build/bench/mpe-bench" --quick
