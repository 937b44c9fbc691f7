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

Side by side with mpe (the peer table of bench/NOTES.md, one command):

  /work/peers/pgmax-venv/bin/python bench/peers/pgmax_bp.py OUT_DIR --cpu 1 \
      --mpe-bench build-cpu/bench/mpe-bench [--iters-ising 200 --iters-rbm 100 --reps 5]

pins this process (so XLA, with its intra-op threads off) and every mpe-bench run to CPU --cpu,
then alternates one timed PGMax run (bp.init + run_bp, compiled beforehand) with one mpe-bench
run of the same sweeps on the written .fg (OMP_NUM_THREADS=1; f64 and f32 messages; mpe-bench
times Solver::reset + sweeps, the graph built beforehand) --reps times, and prints the medians
per sweep and PGMax / mpe.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

if "--cpu" in sys.argv:  # before jax loads: XLA sizes its thread pools from the affinity
    os.sched_setaffinity(0, {int(sys.argv[sys.argv.index("--cpu") + 1])})
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                               " --xla_cpu_multi_thread_eigen=false"
                               " intra_op_parallelism_threads=1").strip()

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


def mpe_sweep_seconds(mpe_bench, fg, iters, precision, cpu):
    """One mpe-bench run (one timed repetition) of `iters` max-product sweeps, damping 0.5."""
    out = subprocess.run(
        ["taskset", "-c", str(cpu), mpe_bench, "--op", "bp", "--bp-file", fg, "--bp-method",
         "max", "--bp-damping", "0.5", "--bp-sweeps", str(iters), "--bp-precision", precision,
         "--device", "cpu", "-r", "1", "--warmup", "1", "-o", "jsonl"],
        check=True, capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
    row = json.loads(out.stdout.strip().splitlines()[-1])
    return row["median_ms"] / 1e3 / iters


def side_by_side(a, model, bp, run, evidence, iters):
    """Alternates PGMax and mpe runs; medians of seconds per sweep."""
    fg = f"{a.out}/{model}.fg"
    pg, f64, f32 = [], [], []
    for _ in range(a.reps):
        t0 = time.perf_counter()
        jax.block_until_ready(run(bp.init(evidence_updates=evidence), iters))
        pg.append((time.perf_counter() - t0) / iters)
        f64.append(mpe_sweep_seconds(a.mpe_bench, fg, iters, "f64", a.cpu))
        f32.append(mpe_sweep_seconds(a.mpe_bench, fg, iters, "f32", a.cpu))
    m = {k: statistics.median(v) for k, v in (("pgmax", pg), ("mpe_f64", f64), ("mpe_f32", f32))}
    return dict(model=model, sweeps=iters, reps=a.reps, cpu=a.cpu,
                pgmax_s_per_sweep=m["pgmax"], mpe_f64_s_per_sweep=m["mpe_f64"],
                mpe_f32_s_per_sweep=m["mpe_f32"], ratio_f64=m["pgmax"] / m["mpe_f64"],
                ratio_f32=m["pgmax"] / m["mpe_f32"])


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


def ising(a, out, iters, reps, rng):
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
    if a.mpe_bench:
        print(json.dumps(side_by_side(a, "ising", bp, run, {v: gumbel}, iters)), flush=True)
    return dict(model="ising", seconds=secs, iterations=iters, edges=2 * len(pairs),
                messages_per_s=2 * len(pairs) * iters / secs, sample=m[:10].tolist())


def rbm(a, out, iters, reps, rng):
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
    if a.mpe_bench:
        print(json.dumps(side_by_side(a, "rbm", bp, run, {hid: gh, vis: gv}, iters)), flush=True)
    return dict(model="rbm", seconds=secs, iterations=iters, edges=2 * nh * nv,
                messages_per_s=2 * nh * nv * iters / secs, sample=m[:10].tolist())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--iters-ising", type=int, default=1000)
    ap.add_argument("--iters-rbm", type=int, default=100)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--only", default="ising,rbm")
    ap.add_argument("--mpe-bench", default="", help="mpe-bench binary: side-by-side rows")
    ap.add_argument("--cpu", type=int, default=1, help="the core both sides are pinned to")
    a = ap.parse_args()
    rng = np.random.default_rng(11)
    print(json.dumps(dict(jax=jax.__version__, devices=[str(d) for d in jax.devices()])))
    if "ising" in a.only:
        print(json.dumps(ising(a, a.out, a.iters_ising, a.reps, rng)), flush=True)
    if "rbm" in a.only:
        print(json.dumps(rbm(a, a.out, a.iters_rbm, a.reps, rng)), flush=True)


if __name__ == "__main__":
    main()
