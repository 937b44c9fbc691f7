#!/usr/bin/env python3
"""Loopy belief propagation on a libDAI .fg file from Python, next to PGMax when installed
(pip install pgmax), else next to exact enumeration (the graph is small).

Usage: python3 examples/python/bp_factor_graph.py [FILE.fg|FILE.uai]
"""
import itertools
import pathlib
import sys
import time

import numpy as np

import mpengine
from mpengine import bp

ROOT = pathlib.Path(__file__).resolve().parents[2]


def exact_marginals(g):
    cards = g.cardinalities
    marg = [np.zeros(c) for c in cards]
    for x in itertools.product(*[range(c) for c in cards]):
        p = np.exp(g.log_score(list(x)))
        for v, s in enumerate(x):
            marg[v][s] += p
    return [m / m.sum() for m in marg]


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "tests/data/bp/tiny.fg")
    g = mpengine.FactorGraph.load(path)
    t0 = time.perf_counter()
    r = bp.run(g, device="cpu")
    t = time.perf_counter() - t0
    print(f"{path}: {g.num_variables} variables, {g.num_factors} factors; mpengine BP "
          f"{r.iterations} sweeps, converged={r.converged}, log Z = {r.log_z:.6f}, "
          f"{t * 1e3:.2f} ms")
    try:
        import pgmax  # noqa: F401
        print("PGMax is installed: bench/peers/pgmax_bp.py runs it on the same file "
              "(bench/peers/bp_compare.py compares the two)")
    except ImportError:
        print("PGMax not installed (pip install pgmax); exact enumeration instead")
    exact = exact_marginals(g)
    for v, (m, e) in enumerate(zip(r.marginals, exact)):
        print(f"  variable {g.labels[v] if g.labels else v}: BP {np.round(m, 4)}  "
              f"exact {np.round(e, 4)}")


if __name__ == "__main__":
    main()
