#!/usr/bin/env python3
"""Writes a W x H grid of binary variables as a UAI MARKOV file: one random unary factor per
variable (listed first, as many files do), then the pairwise couplings row by row. Used by
docs/distributed.md to measure factor partitions (mpe-dist-bench bp-cut) and partitioned BP.

Usage: make_grid_uai.py W H OUT.uai [SEED]"""
import math
import random
import sys


def main():
    w, h, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 1)
    n = w * h
    factors = []
    for v in range(n):
        a = rng.uniform(-1, 1)
        factors.append(([v], [a, -a]))
    for y in range(h):
        for x in range(w):
            v = y * w + x
            for u in ([v + 1] if x + 1 < w else []) + ([v + w] if y + 1 < h else []):
                c = rng.uniform(-0.8, 0.8)
                factors.append(([v, u], [c, -c, -c, c]))  # symmetric: table order is moot
    with open(out, "w") as f:
        f.write("MARKOV\n%d\n%s\n%d\n" % (n, " ".join(["2"] * n), len(factors)))
        for vs, _ in factors:
            f.write("%d %s\n" % (len(vs), " ".join(map(str, vs))))
        for _, t in factors:
            f.write("%d\n%s\n" % (len(t), " ".join("%.17g" % math.exp(x) for x in t)))


if __name__ == "__main__":
    main()
