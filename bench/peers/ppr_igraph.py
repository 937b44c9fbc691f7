#!/usr/bin/env python3
"""python-igraph peer of `mpe-bench --op relevance --rel-mode ppr`: personalised PageRank the way
graph-retrieval systems (HippoRAG and its successors) call it, one
`Graph.personalized_pagerank(reset=..., weights=..., implementation="prpack")` per query.

Graph: R-MAT like mpe-bench's (quadrants 0.57/0.19/0.19/0.05, duplicates dropped, weights in
[1/3, 1)), directed; not the same random numbers as mpe-bench, the same sizes. Each query's
reset vector: 10 random seeds with random weights (mpe-bench's queries: the same with
--mpe-seeds nodes, the default; with --mpe-seeds embedding the top 10 of a random embedding,
similarities as weights, which adds mpe's similarity pass over n x 64). igraph has no batch call: a batch of B is B calls, so the
per-query time is what a batch costs per query. Prints p50 / p99 per call (ms) over the calls.
With --mpe-bench PATH it also runs mpe-bench's rows in the same process tree, alternating
(igraph, mpe, igraph, mpe, ...), and prints the ratio table of the medians over the rounds. The
script pins itself (and so mpe-bench) to --core, and mpe-bench runs one OpenMP thread. mpe's
view of the graph (component order, pull rows) is built once per store, before its timed calls
(mpe-bench reports that time apart); igraph's preprocessing is inside each call.

Usage: python3 bench/peers/ppr_igraph.py --nodes 2000,100000,1000000 --degree 8 \\
           [--calls 200,20,5] [--mpe-bench build-cpu/bench/mpe-bench --batch 1,256] [--rounds 3]
Needs: pip install igraph numpy (e.g. a venv: python3 -m venv v && v/bin/pip install igraph numpy).
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import time


def rmat(n, degree, rng, np):
    from rmat import rmat_pairs
    src, dst = rmat_pairs(n, degree, rng)
    pairs = np.unique(np.stack([src, dst], 1), axis=0)
    w = rng.uniform(1.0 / 3.0, 1.0, len(pairs))
    return pairs, w


_graphs = {}


def igraph_calls(n, degree, calls, seed):
    import igraph as ig
    import numpy as np
    if (n, degree, seed) not in _graphs:  # built once per size, not timed
        rng = np.random.default_rng(seed)
        pairs, w = rmat(n, degree, rng, np)
        g = ig.Graph(n=n, edges=pairs, directed=True)
        g.es["weight"] = w
        _graphs[(n, degree, seed)] = (g, len(pairs), rng)
    g, npairs, rng = _graphs[(n, degree, seed)]
    resets = []
    for _ in range(calls):
        r = np.zeros(n)
        r[rng.choice(n, 10, replace=False)] = rng.random(10) + 0.1
        resets.append(r.tolist())
    times, cpu = [], []
    for r in resets:
        c0 = time.process_time()
        t0 = time.perf_counter()
        p = g.personalized_pagerank(directed=True, damping=0.85, reset=r, weights="weight",
                                    implementation="prpack")
        times.append((time.perf_counter() - t0) * 1e3)
        cpu.append((time.process_time() - c0) * 1e3)
        assert abs(sum(p) - 1.0) < 1e-9
    return npairs, sorted(times), sorted(cpu)


def pct(v, q):
    return v[min(len(v) - 1, int(q * len(v)))]


def mpe_row(binary, n, degree, batch, reps, seeds):
    cmd = [binary, "--op", "relevance", "--rel-graph", "rmat", "--rel-mode", "ppr", "--rel-seeds", seeds, "--nodes",
           str(n), "--degree", str(degree), "--rel-batch", str(batch), "-r", str(reps),
           "--warmup", "1" if batch == 1 else "0", "--device", "cpu"]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    out = res.stdout + res.stderr  # the per-row summary goes to stderr
    if res.returncode != 0 or "call p50" not in out:
        raise SystemExit(f"mpe-bench failed ({res.returncode}): {' '.join(cmd)}\n{out}{res.stderr}")
    m = re.search(r"call p50 ([0-9.]+) ms, p99 ([0-9.]+) ms", out)
    cpu = re.search(r"CPU p50 ([0-9.]+) ms", out)
    nnz = re.search(r"nnz=([0-9]+)", out)
    it = re.search(r"([0-9.]+) iterations per query", out)
    setup = re.search(r"view build \+ first query ([0-9.]+) ms", out)
    return (float(m.group(1)), float(m.group(2)), int(nnz.group(1)), float(it.group(1)),
            float(setup.group(1)) if setup else float("nan"), float(cpu.group(1)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", default="2000,100000,1000000")
    ap.add_argument("--degree", type=int, default=8)
    ap.add_argument("--calls", default="200,20,5", help="igraph calls per size")
    ap.add_argument("--mpe-bench", default="", help="mpe-bench binary: also run mpe's rows")
    ap.add_argument("--batch", default="1,256", help="mpe's batch sizes")
    ap.add_argument("--mpe-reps", default="1000,1000,100", help="mpe calls per size at batch 1")
    ap.add_argument("--mpe-batch-reps", default="20,3,1", help="mpe calls per size at batch > 1")
    ap.add_argument("--rounds", type=int, default=1, help="alternating rounds")
    ap.add_argument("--mpe-seeds", default="nodes", choices=["nodes", "embedding"],
                    help="mpe's seeds: 10 random nodes (like igraph's reset vectors) or the top "
                         "10 of a random embedding (adds mpe's similarity pass)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--core", type=int, default=1, help="CPU both sides are pinned to (-1: none)")
    args = ap.parse_args()
    if args.core >= 0:
        os.sched_setaffinity(0, {args.core})
    import igraph
    sizes = [int(x) for x in args.nodes.split(",")]
    calls = [int(x) for x in args.calls.split(",")]
    reps = [int(x) for x in args.mpe_reps.split(",")]
    breps = [int(x) for x in args.mpe_batch_reps.split(",")]
    batches = [int(x) for x in args.batch.split(",")]
    print(f"python-igraph {igraph.__version__}; degree {args.degree}; damping 0.85; 10 seeds; "
          f"mpe seeds {args.mpe_seeds}; core {args.core}; load {os.getloadavg()[0]:.1f}")
    rows = []
    for k, n in enumerate(sizes):
        ig_p50, ig_cpu, mp, mp_cpu = [], [], {b: [] for b in batches}, {b: [] for b in batches}
        for _ in range(args.rounds):
            nnz, t, c = igraph_calls(n, args.degree, calls[min(k, len(calls) - 1)], args.seed)
            ig_p50.append(pct(t, 0.5))
            ig_cpu.append(pct(c, 0.5))
            print(f"igraph n={n} nnz={nnz}: p50 {pct(t, 0.5):.3f} ms  p99 {pct(t, 0.99):.3f} ms "
                  f"(process CPU p50 {pct(c, 0.5):.3f} ms; {len(t)} calls)", flush=True)
            if args.mpe_bench:
                for b in batches:
                    lst = breps if b > 1 else reps
                    r = lst[min(k, len(lst) - 1)]
                    p50, p99, mnnz, its, setup, cpu = mpe_row(args.mpe_bench, n, args.degree, b,
                                                                 r, args.mpe_seeds)
                    mp[b].append(p50)
                    mp_cpu[b].append(cpu)
                    print(f"mpe    n={n} nnz={mnnz} B={b}: p50 {p50:.3f} ms  p99 {p99:.3f} ms per "
                          f"call (thread CPU p50 {cpu:.3f} ms; {r} calls, {its:.1f} sweeps/query; "
                          f"view build + first query {setup:.1f} ms)", flush=True)
        # the median of the rounds (with an even count, the mean of the middle two)
        rows.append((n, statistics.median(ig_p50),
                     {b: statistics.median(v) for b, v in mp.items() if v},
                     statistics.median(ig_cpu),
                     {b: statistics.median(v) for b, v in mp_cpu.items() if v}))
    if args.mpe_bench:
        # wall time, and CPU time (igraph: its process; mpe: the calling thread, one OpenMP
        # thread): on a core that other processes share, the second leaves out their time
        for title, col in (("wall", 1), ("CPU", 3)):
            print(f"\n{title}, medians of the rounds' p50:")
            print("| nodes | igraph ms/query | " + " | ".join(
                f"mpe B={b} ms/query | ratio B={b}" for b in batches) + " |")
            print("|---:|---:|" + "---:|---:|" * len(batches))
            for row in rows:
                n, ig_ms, mp = row[0], row[col], row[col + 1]
                cells = []
                for b in batches:
                    q = mp[b] / b
                    cells += [f"{q:.3f}", f"{ig_ms / q:.1f}x"]
                print(f"| {n} | {ig_ms:.3f} | " + " | ".join(cells) + " |")
    print(f"load at the end {os.getloadavg()[0]:.1f}")
    print(json.dumps({"igraph_ms_per_query": {str(row[0]): row[1] for row in rows}}))


if __name__ == "__main__":
    main()
