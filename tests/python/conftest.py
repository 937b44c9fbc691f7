"""Shared fixtures of the Python suite: where the repository's data and the `mpe` program are.

The suite runs against the package built in a CMake build tree (PYTHONPATH=<build>/python,
ctest's `python_tests`) or an installed one (`pip install .`). Comparisons with the C++
command line need MPE_CLI (ctest sets it); without it they are skipped, visibly.
"""
import json
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def root():
    return ROOT


@pytest.fixture(scope="session")
def data():
    return ROOT / "tests" / "data"


@pytest.fixture(scope="session")
def cli():
    """Runs the C++ `mpe` program with --json and returns the parsed output."""
    exe = os.environ.get("MPE_CLI")
    if not exe or not os.path.exists(exe):
        pytest.skip("MPE_CLI is not set to the mpe program: no comparison with the C++ CLI")

    def run(*args):
        cmd = [exe, *map(str, args), "--json"]
        out = subprocess.run(cmd, capture_output=True, text=True,
                             env=dict(os.environ, MPE_DEVICE="cpu"))
        if out.returncode != 0:
            pytest.fail(f"{' '.join(cmd)} exited with {out.returncode}: {out.stderr[-2000:]}")
        return json.loads(out.stdout)

    return run
