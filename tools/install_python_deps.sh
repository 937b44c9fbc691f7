#!/usr/bin/env bash
# Installs what the Python module needs to build and test, when missing: Python's headers
# (Debian's python3-dev, only for a Debian python3), and nanobind, pytest and NumPy from PyPI.
# scikit-build-core is only needed by `pip install .`, which fetches it itself.
set -euo pipefail
py="${PYTHON:-python3}"
if ! "$py" -c 'import os, sysconfig; assert os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h"))' 2>/dev/null; then
  echo "mpengine: installing Python's headers (python3-dev)" >&2
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq || true
  $sudo apt-get install -y -qq --no-install-recommends python3-dev python3-pip >/dev/null
fi
missing=()
"$py" -c 'import nanobind' 2>/dev/null || missing+=(nanobind)
"$py" -c 'import pytest' 2>/dev/null || missing+=(pytest)
"$py" -c 'import numpy' 2>/dev/null || missing+=(numpy)
if [ ${#missing[@]} -gt 0 ]; then
  echo "mpengine: pip installing ${missing[*]}" >&2
  # A Debian python3 refuses plain pip installs (PEP 668); the flag is for that case only.
  "$py" -m pip install -q "${missing[@]}" 2>/dev/null ||
    "$py" -m pip install -q --break-system-packages "${missing[@]}"
fi
