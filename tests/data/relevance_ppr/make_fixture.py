#!/usr/bin/env python3
"""Writes igraph_ppr.txt: python-igraph's personalized_pagerank (PRPACK) on one small directed
graph with weights, dangling nodes, a self-loop, parallel edges (two edge types on one pair) and
zero-weight edges, for several (directed, weighted, damping, reset) cases. The test
(tests/unit/test_relevance_ppr.cpp) builds the same graph as a store and compares.

Format (whitespace separated): `nodes N`, `edges M`, M lines `src dst type weight`, `cases C`,
then per case a line `directed weighted damping S s1 w1 ... sS wS` and a line of N scores.
Usage: python3 tests/data/relevance_ppr/make_fixture.py   (needs: pip install igraph)
"""
import os
import random

import igraph as ig

rng = random.Random(20)
N = 40
edges = []
seen = set()
while len(edges) < 110:
    s, t = rng.randrange(N - 4), rng.randrange(N)  # nodes N-4.. have no out-edges: dangling
    ty = rng.choice(["A", "B"])
    if (s, t, ty) in seen:
        continue
    seen.add((s, t, ty))
    w = 0.0 if rng.random() < 0.05 else round(rng.uniform(0.05, 1.0), 4)
    edges.append((s, t, ty, w))
edges.append((3, 3, "A", 0.5))  # a self-loop
edges.append((7, 9, "A", 0.3))  # a parallel edge of another type (if 7->9 B exists, fine)
edges.append((7, 9, "C", 0.6))
edges.append((N - 5, 0, "A", 0.0))  # a node whose only out-edge weighs 0: dangling when weighted
g = ig.Graph(n=N, edges=[(s, t) for s, t, _, _ in edges], directed=True)
g.es["weight"] = [w for _, _, _, w in edges]

cases = []
for directed in (1, 0):
    for weighted in (1, 0):
        for damping, seeds in ((0.85, [(0, 1.0)]), (0.85, [(2, 0.5), (11, 1.0), (36, 0.25)]),
                               (0.5, [(5, 1.0), (38, 1.0)])):
            reset = [0.0] * N
            for s, w in seeds:
                reset[s] = w
            p = g.personalized_pagerank(directed=bool(directed), damping=damping, reset=reset,
                                        weights="weight" if weighted else None,
                                        implementation="prpack")
            cases.append((directed, weighted, damping, seeds, p))

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "igraph_ppr.txt")
with open(out, "w") as f:
    f.write(f"# python-igraph {ig.__version__} personalized_pagerank (prpack); make_fixture.py\n")
    f.write(f"nodes {N}\nedges {len(edges)}\n")
    for s, t, ty, w in edges:
        f.write(f"{s} {t} {ty} {w!r}\n")
    f.write(f"cases {len(cases)}\n")
    for directed, weighted, damping, seeds, p in cases:
        f.write(f"{directed} {weighted} {damping!r} {len(seeds)} "
                + " ".join(f"{s} {w!r}" for s, w in seeds) + "\n")
        f.write(" ".join(f"{v:.17g}" for v in p) + "\n")
print("wrote", out)
