#!/usr/bin/env python3
"""Writes the seeded factor graphs of the BP peer comparison as libDAI .fg files.

  python3 bench/peers/make_bp_graphs.py OUT_DIR

grid_N.fg      N x N binary Ising grid: fields U(-0.5, 0.5), couplings J U(-0.5, 0.5)
               (log-potentials [J, -J; -J, J]), N = 10, 30, 100
regular_N_K.fg random 3-regular graph on N variables with K states, pairwise log-potentials
               U(-0.5, 0.5), unaries U(-0.5, 0.5)
higher_N.fg    N binary variables, N random 3-ary factors (log-potentials U(-0.5, 0.5))
               plus unaries
"""
import os
import sys

import numpy as np


def write_fg(path, cards, factors):
    """factors: list of (vars, probabilities in first-variable-fastest order)."""
    with open(path, "w") as f:
        f.write(f"{len(factors)}\n")
        for vs, table in factors:
            f.write(f"\n{len(vs)}\n{' '.join(map(str, vs))}\n")
            f.write(" ".join(str(cards[v]) for v in vs) + "\n")
            f.write(f"{len(table)}\n")
            for i, p in enumerate(table):
                f.write(f"{i} {p:.17g}\n")


def unaries(rng, n, k):
    return [([v], np.exp(rng.uniform(-0.5, 0.5, k))) for v in range(n)]


def grid(rng, n):
    cards = [2] * (n * n)
    fs = unaries(rng, n * n, 2)
    for y in range(n):
        for x in range(n):
            i = y * n + x
            for j in ([i + 1] if x + 1 < n else []) + ([i + n] if y + 1 < n else []):
                jv = rng.uniform(-0.5, 0.5)
                fs.append(([i, j], np.exp(np.array([jv, -jv, -jv, jv]))))
    return cards, fs


def regular(rng, n, k):
    while True:
        stubs = np.repeat(np.arange(n), 3)
        rng.shuffle(stubs)
        pairs = {tuple(sorted(p)) for p in stubs.reshape(-1, 2)}
        if len(pairs) == len(stubs) // 2 and all(a != b for a, b in pairs):
            break
    cards = [k] * n
    fs = unaries(rng, n, k)
    for a, b in sorted(pairs):
        fs.append(([int(a), int(b)], np.exp(rng.uniform(-0.5, 0.5, k * k))))
    return cards, fs


def higher(rng, n):
    cards = [2] * n
    fs = unaries(rng, n, 2)
    for _ in range(n):
        vs = rng.choice(n, 3, replace=False)
        fs.append(([int(v) for v in vs], np.exp(rng.uniform(-0.5, 0.5, 8))))
    return cards, fs


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(7)
    for n in (10, 30, 100):
        write_fg(f"{out}/grid_{n}.fg", *grid(rng, n))
    for n, k in ((1000, 2), (1000, 3), (10000, 2)):
        write_fg(f"{out}/regular_{n}_{k}.fg", *regular(rng, n, k))
    for n in (200, 2000):
        write_fg(f"{out}/higher_{n}.fg", *higher(rng, n))


if __name__ == "__main__":
    main()
