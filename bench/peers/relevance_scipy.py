#!/usr/bin/env python3
"""SciPy peer for `mpe-bench --op relevance --rel-graph rmat`: the same pipeline written the
way one would with NumPy/SciPy — dense activations [n, B] for a batch of B queries, one sparse
matrix product per iteration over every edge (no frontier, no per-row early exit).

Per call: S = Q · Eᵀ (cosine, normalised), top 10 per query with S >= 0, then 5 iterations of
  agg = Aᵀ·a (A[target, source] = w), has = Pᵀ·[a > 0] > 0 (P: the edge pattern),
  c = where(has, ρ a + (1 − ρ) agg, decay · a), a = clip(c − θ, 0, 1), a[a < 0.05] = 0
(ρ = 0.5, decay 0.9, θ = 0, gate 0, type weights 1: mpe's defaults), then extraction per query
(activation >= 0.2, sorted). R-MAT graph like mpe-bench's (quadrants 0.57/0.19/0.19/0.05,
weights in [1/3, 1), duplicates merged), random unit embeddings; not the same random numbers
as mpe-bench, the same sizes. Reports median / p99 per call and edges read per second.

Usage: python3 bench/peers/relevance_scipy.py --nodes 62500 --degree 16 --batch 1,256 \
           [--dim 64] [--reps 20] [--warmup 2] [--threads 1]
Needs: numpy, scipy (e.g. /work/peers/pgmax-venv/bin/python).
"""
import argparse
import os
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=62500)
    ap.add_argument("--degree", type=int, default=16)
    ap.add_argument("--batch", default="1,256")
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=0, help="BLAS threads (0: library default)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if args.threads:
        for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[v] = str(args.threads)
    import numpy as np
    import scipy.sparse as sp

    rng = np.random.default_rng(args.seed)
    from rmat import rmat_pairs
    n, m = args.nodes, args.nodes * args.degree
    src, dst = rmat_pairs(n, args.degree, rng)
    w = (rng.uniform(0.5, 1.5, m) / 1.5).astype(np.float32)
    A = sp.csr_matrix((w, (dst, src)), shape=(n, n), dtype=np.float32)  # duplicates summed
    A.data = np.minimum(A.data, 1.0).astype(np.float32)
    P = A.copy()
    P.data[:] = 1.0
    nnz = A.nnz
    E = rng.standard_normal((n, args.dim)).astype(np.float32)
    E /= np.linalg.norm(E, axis=1, keepdims=True)

    def call(Q):
        B = Q.shape[0]
        S = Q @ E.T  # [B, n]
        k = 10
        idx = np.argpartition(-S, k, axis=1)[:, :k]
        a = np.zeros((n, B), dtype=np.float32)
        for b in range(B):
            sel = idx[b][S[b, idx[b]] >= 0.0]
            a[sel, b] = np.minimum(S[b, sel], 1.0)
        for _ in range(5):
            agg = A @ a
            has = (P @ (a > 0).astype(np.float32)) > 0
            c = np.where(has, 0.5 * a + 0.5 * agg, 0.9 * a)
            new = np.clip(c, 0.0, 1.0)
            new[new < 0.05] = 0.0
            delta = np.abs(new - a).max(axis=0)
            a = new
            if np.all(delta < 1e-3):
                break
        out = []
        for b in range(B):
            nz = np.nonzero(a[:, b] >= 0.2)[0]
            out.append(nz[np.argsort(-a[nz, b])])
        return out

    print(f"scipy {sp.__name__} numpy {np.__version__}: n={n} nnz={nnz} d={args.dim}")
    for B in [int(x) for x in args.batch.split(",")]:
        Q = rng.standard_normal((B, args.dim)).astype(np.float32)
        Q /= np.linalg.norm(Q, axis=1, keepdims=True)
        for _ in range(args.warmup):
            call(Q)
        times, cpu = [], []
        for _ in range(args.reps):
            t0, c0 = time.perf_counter(), time.process_time()
            call(Q)
            cpu.append((time.process_time() - c0) * 1e3)
            times.append((time.perf_counter() - t0) * 1e3)
        times.sort()
        cpu.sort()
        p50 = times[len(times) // 2]
        p99 = times[min(len(times) - 1, int(0.99 * len(times)))]
        # Edges read per call: 2 sparse products over every edge per iteration, B columns each.
        eps = 2 * 5 * nnz * B / (p50 / 1e3)
        print(f"B={B}: p50 {p50:.3f} ms  p99 {p99:.3f} ms  ({args.reps} calls)  "
              f"CPU p50 {cpu[len(cpu) // 2]:.3f} ms  "
              f"{B / (p50 / 1e3):.1f} queries/s  {eps:.3g} edge-columns read/s")


if __name__ == "__main__":
    main()
