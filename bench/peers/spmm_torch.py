#!/usr/bin/env python3
"""PyTorch / PyG peer for `mpe-bench --op csr_aggregate,graph_mp,gcn` on the CPU.

Makes a seeded R-MAT graph (quadrant probabilities 0.57 / 0.19 / 0.19 / 0.05, as mpe-bench's
generator; the graphs are not bit-identical to mpe-bench's own, so the same graph is shared
through a Matrix Market file), writes it with --mtx-out (row = source, column = target, as
mpe-bench --mtx reads it), then times on that graph, median of --reps calls after --warmup:
  - torch.sparse.mm(A, X), A the [n, n] CSR of weights with A[target, source] (sum aggregation);
  - PyG GCNConv(F, F) forward with cached normalisation (one GCN layer, like mpe-bench --op gcn).

Usage: python3 bench/peers/spmm_torch.py --nodes 262144 --degree 16 --width 32,128 \
           --mtx-out /tmp/rmat.mtx [--threads N] [--reps 5] [--warmup 2] [--seed 1]
Then:  mpe-bench --op csr_aggregate,graph_mp,gcn --mtx /tmp/rmat.mtx --width 32,128 --agg sum
Needs: pip install torch torch_geometric numpy.
"""
import argparse
import statistics
import time

import numpy as np
import torch
from rmat import rmat_pairs


def rmat(nodes, degree, seed):
    rng = np.random.default_rng(seed)
    m = nodes * degree
    src, dst = rmat_pairs(nodes, degree, rng)
    w = rng.uniform(0.5, 1.5, m).astype(np.float32)
    # Merge repeated (target, source) pairs, summing weights: both sides see the same nnz.
    key, inv = np.unique(dst * nodes + src, return_inverse=True)
    w = np.bincount(inv.ravel(), weights=w).astype(np.float32)
    return key % nodes, key // nodes, w


def write_mtx(path, nodes, src, dst, w):
    with open(path, "w") as f:
        f.write("%%MatrixMarket matrix coordinate real general\n")
        f.write(f"{nodes} {nodes} {len(src)}\n")
        np.savetxt(f, np.stack([src + 1, dst + 1, w], axis=1), fmt="%d %d %.7g")


def timed(fn, reps, warmup):
    for _ in range(warmup):
        fn()
    t = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        t.append(time.perf_counter() - t0)
    return statistics.median(t)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=1 << 18)
    ap.add_argument("--degree", type=int, default=16)
    ap.add_argument("--width", default="32,128")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--mtx-out", default="")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    src, dst, w = rmat(a.nodes, a.degree, a.seed)
    if a.mtx_out:
        write_mtx(a.mtx_out, a.nodes, src, dst, w)
    n, nnz = a.nodes, len(src)
    idx = torch.from_numpy(np.stack([dst, src]))
    A = torch.sparse_coo_tensor(idx, torch.from_numpy(w), (n, n)).coalesce().to_sparse_csr()
    from torch_geometric.nn import GCNConv

    edge_index = torch.from_numpy(np.stack([src, dst]))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, R-MAT n={n} "
          f"edges={nnz} ")
    print("| op | F | median ms | GFLOP/s (2·nnz·F) |")
    print("|---|---|---|---|")
    for F in [int(x) for x in a.width.split(",")]:
        x = torch.rand(n, F) * 2 - 1
        with torch.no_grad():
            t = timed(lambda: torch.sparse.mm(A, x), a.reps, a.warmup)
            print(f"| torch.sparse.mm | {F} | {t * 1e3:.2f} | {2 * A._nnz() * F / t / 1e9:.2f} |")
            conv = GCNConv(F, F, cached=True)
            conv(x, edge_index)  # builds the cached normalised graph
            t = timed(lambda: conv(x, edge_index), a.reps, a.warmup)
            print(f"| PyG GCNConv | {F} | {t * 1e3:.2f} | |")


if __name__ == "__main__":
    main()
