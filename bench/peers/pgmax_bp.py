#!/usr/bin/env python3
"""PGMax (pip install pgmax) on its two benchmark models, and the same models as .fg files
for mpe-bench --op bp --bp-file (bench/NOTES.md, "Loopy belief propagation (issue 7)").

  python3 bench/peers/pgmax_bp.py OUT_DIR [--iters-ising 1000] [--iters-rbm 100] [--reps 3]

ising: PGMax's Ising example, a 50x50 binary torus with log-potentials 0.8*[[1,-1],[-1,1]]
       on the 5000 edges and seeded Gumbel noise as unaries (perturb-and-max-product).
rbm:   PGMax's RBM example shape, 784 visible x 500 hidden binary units, all 392000 pairwise
       factors [[0,0],[0,W_ij]] plus bias unaries and Gumbel noise; W, biases seeded random
       normals (the example's trained MNIST weights are not used).
Both: max-product, damping 0.5, flooding, fixed iteration counts. Writes OUT_DIR/{ising,rbm}.fg
(noise folded into the unaries) and prints one JSON line per model: seconds per run (best of
--reps, after a compile run), iterations, pairwise edges, messages/s (pairwise edges x
iterations / seconds), and the max-marginals (normalised beliefs) of 10 variables.
"""
import argparse
import json
import time

import jax
import numpy as np

if not hasattr(jax.lib, "xla_bridge"):  # pgmax 0.6.1 calls a module newer jax moved
    import types

    import jax.extend.backend

    jax.lib.xla_bridge = types.SimpleNamespace(get_backend=jax.extend.backend.get_backend)
from pgmax import fgraph, fgroup, infer, vgroup


def write_fg(path, cards, factors):
    with open(path, "w") as f:
        f.write(f"{len(factors)}\n")
        for vs, logt in factors:
            t = np.exp(np.asarray(logt, dtype=np.float64).ravel())
            f.write(f"\n{len(vs)}\n{' '.join(map(str, vs))}\n")
            f.write(" ".join(str(cards[v]) for v in vs) + f"\n{len(t)}\n")
            f.write("".join(f"{i} {p:.17g}\n" for i, p in enumerate(t)))


def make_bp(fg):
    if hasattr(infer, "build_inferer"):  # pgmax >= 0.7
        bp = infer.build_inferer(fg.bp_state, backend="bp")
        run = lambda arrs, n: bp.run(arrs, num_iters=n, damping=0.5, temperature=0.0)
        return bp, run
    bp = infer.BP(fg.bp_state, temperature=0.0)
    run = lambda arrs, n: bp.run_bp(arrs, num_iters=n, damping=0.5)
    return bp, run


def timed(bp, run, evidence, iters, reps):
    arrs = run(bp.init(evidence_updates=evidence), iters)  # compile
    jax.block_until_ready(arrs)
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        arrs = run(bp.init(evidence_updates=evidence), iters)
        jax.block_until_ready(arrs)
        best = min(best, time.perf_counter() - t0)
    return best, arrs


def marginals(bp, arrs, group):
    beliefs = bp.get_beliefs(arrs)
    m = infer.get_marginals(beliefs)[group]
    return np.asarray(m)


def ising(out, iters, reps, rng):
    n = 50
    v = vgroup.NDVarArray(num_states=2, shape=(n, n))
    fg = fgraph.FactorGraph(variable_groups=v)
    pairs, ids = [], []
    for i in range(n):
        for j in range(n):
            for k, l in (((i + 1) % n, j), (i, (j + 1) % n)):
                pairs.append([v[i, j], v[k, l]])
                ids.append((i * n + j, k * n + l))
    pot = 0.8 * np.array([[1.0, -1.0], [-1.0, 1.0]])
    fg.add_factors(fgroup.PairwiseFactorGroup(variables_for_factors=pairs, log_potential_matrix=pot))
    gumbel = rng.gumbel(size=(n, n, 2))
    bp, run = make_bp(fg)
    secs, arrs = timed(bp, run, {v: gumbel}, iters, reps)
    m = marginals(bp, arrs, v).reshape(n * n, 2)
    cards = [2] * (n * n)
    factors = [([i * n + j], gumbel[i, j]) for i in range(n) for j in range(n)]
    factors += [([a, b], pot.T) for a, b in ids]  # first variable fastest: [x_a + 2 x_b]
    write_fg(f"{out}/ising.fg", cards, factors)
    return dict(model="ising", seconds=secs, iterations=iters, edges=2 * len(pairs),
                messages_per_s=2 * len(pairs) * iters / secs, sample=m[:10].tolist())


def rbm(out, iters, reps, rng):
    nv, nh = 784, 500
    W = rng.normal(0.0, 0.1, size=(nh, nv))
    bh, bv = rng.normal(0.0, 0.5, nh), rng.normal(0.0, 0.5, nv)
    hid = vgroup.NDVarArray(num_states=2, shape=(nh,))
    vis = vgroup.NDVarArray(num_states=2, shape=(nv,))
    fg = fgraph.FactorGraph(variable_groups=[hid, vis])
    fg.add_factors(fgroup.EnumFactorGroup(
        variables_for_factors=[[hid[i]] for i in range(nh)], factor_configs=np.arange(2)[:, None],
        log_potentials=np.stack([np.zeros_like(bh), bh], axis=1)))
    fg.add_factors(fgroup.EnumFactorGroup(
        variables_for_factors=[[vis[j]] for j in range(nv)], factor_configs=np.arange(2)[:, None],
        log_potentials=np.stack([np.zeros_like(bv), bv], axis=1)))
    lpm = np.zeros((nh * nv, 2, 2))
    lpm[:, 1, 1] = W.ravel()
    fg.add_factors(fgroup.PairwiseFactorGroup(
        variables_for_factors=[[hid[i], vis[j]] for i in range(nh) for j in range(nv)],
        log_potential_matrix=lpm))
    gh, gv = rng.gumbel(size=(nh, 2)), rng.gumbel(size=(nv, 2))
    bp, run = make_bp(fg)
    secs, arrs = timed(bp, run, {hid: gh, vis: gv}, iters, reps)
    m = marginals(bp, arrs, hid)
    cards = [2] * (nh + nv)
    factors = [([i], np.array([0.0, bh[i]]) + gh[i]) for i in range(nh)]
    factors += [([nh + j], np.array([0.0, bv[j]]) + gv[j]) for j in range(nv)]
    factors += [([i, nh + j], [0.0, 0.0, 0.0, W[i, j]]) for i in range(nh) for j in range(nv)]
    write_fg(f"{out}/rbm.fg", cards, factors)
    return dict(model="rbm", seconds=secs, iterations=iters, edges=2 * nh * nv,
                messages_per_s=2 * nh * nv * iters / secs, sample=m[:10].tolist())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--iters-ising", type=int, default=1000)
    ap.add_argument("--iters-rbm", type=int, default=100)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--only", default="ising,rbm")
    a = ap.parse_args()
    rng = np.random.default_rng(11)
    print(json.dumps(dict(jax=jax.__version__, devices=[str(d) for d in jax.devices()])))
    if "ising" in a.only:
        print(json.dumps(ising(a.out, a.iters_ising, a.reps, rng)), flush=True)
    if "rbm" in a.only:
        print(json.dumps(rbm(a.out, a.iters_rbm, a.reps, rng)), flush=True)


if __name__ == "__main__":
    main()
