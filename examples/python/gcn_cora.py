#!/usr/bin/env python3
"""A GCN layer on the Cora citation graph, next to PyTorch Geometric's GCNConv with the same
weights when torch_geometric is installed (else next to a float64 NumPy reference).

Usage: python3 examples/python/gcn_cora.py
"""
import pathlib
import time

import numpy as np

import mpengine

ROOT = pathlib.Path(__file__).resolve().parents[2]


def cora_edge_index():
    """Cora's links (data/cora), ids relabelled in order of appearance, both directions."""
    ids, edges = {}, []
    path = next((ROOT / "data/cora").glob("*.cites*"), None) or next((ROOT / "data/cora").iterdir())
    for line in path.read_text().splitlines():
        parts = line.replace(",", " ").split()
        if len(parts) < 2 or line.startswith(("#", "%")):
            continue
        a, b = (ids.setdefault(p, len(ids)) for p in parts[:2])
        edges += [(a, b), (b, a)]
    return np.array(edges, np.int64).T.copy(), len(ids)


def main():
    edge_index, n = cora_edge_index()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 64)).astype(np.float32)
    w = (rng.standard_normal((16, 64)) / 8).astype(np.float32)
    b = rng.standard_normal(16).astype(np.float32)
    g = mpengine.Csr.from_edge_index(edge_index, n)
    conv = mpengine.GCNConv(w, b)
    t0 = time.perf_counter()
    y = conv(g, x)
    t = time.perf_counter() - t0
    print(f"Cora: {n} nodes, {edge_index.shape[1]} directed edges; mpengine GCN layer "
          f"{t * 1e3:.2f} ms")
    try:
        import torch
        from torch_geometric.nn import GCNConv
    except ImportError:
        # float64 reference: D^-1/2 (A + I) D^-1/2 x W^T + b
        A = np.zeros((n, n))
        np.add.at(A, (edge_index[1], edge_index[0]), 1.0)
        np.fill_diagonal(A, 1.0)
        d = A.sum(1) ** -0.5
        ref = (d[:, None] * A * d[None, :]) @ (x.astype(np.float64) @ w.T) + b
        print(f"torch_geometric not installed; float64 reference: largest difference "
              f"{np.abs(y - ref).max():.2e}")
        return
    pyg = GCNConv(64, 16)
    with torch.no_grad():
        pyg.lin.weight.copy_(torch.from_numpy(w))
        pyg.bias.copy_(torch.from_numpy(b))
        xt, ei = torch.from_numpy(x), torch.from_numpy(edge_index)
        t0 = time.perf_counter()
        ref = pyg(xt, ei).numpy()
        t_pyg = time.perf_counter() - t0
    print(f"PyG GCNConv {t_pyg * 1e3:.2f} ms; largest difference {np.abs(y - ref).max():.2e}")


if __name__ == "__main__":
    main()
