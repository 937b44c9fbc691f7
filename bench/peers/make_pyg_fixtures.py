#!/usr/bin/env python3
"""Writes PyTorch Geometric reference outputs for mpengine's GNN layer tests.

One small seeded graph (a self-loop, a duplicate edge, a node without in-edges), seeded node
features, and for each layer a folder with its weights (one .npy per state_dict key, the names
mpe::gnn::*Conv::load reads) and PyG's output:

    tests/data/pyg/x.npy            float32 [N, F]
    tests/data/pyg/edge_index.npy   int64 [2, E] (row 0 sources, row 1 targets)
    tests/data/pyg/<layer>/<key>.npy, tests/data/pyg/<layer>/out.npy
    layers: gcn, sage, gin, gat (2 heads, concatenated), gat_mean (2 heads, averaged)

Run once (pip install torch torch_geometric numpy), commit the files:
    python3 bench/peers/make_pyg_fixtures.py [out_dir]
"""
import os
import sys

import numpy as np
import torch
import torch_geometric
from torch_geometric.nn import GATConv, GCNConv, GINConv, SAGEConv


def save_layer(root, name, layer, x, edge_index):
    # Non-zero biases, so the fixtures check them too (PyG initialises some to zero).
    with torch.no_grad():
        for key, p in layer.named_parameters():
            if key.endswith("bias"):
                p.normal_()
    d = os.path.join(root, name)
    os.makedirs(d, exist_ok=True)
    for key, value in layer.state_dict().items():
        np.save(os.path.join(d, key + ".npy"), value.detach().numpy().astype(np.float32))
    with torch.no_grad():
        out = layer(x, edge_index)
    np.save(os.path.join(d, "out.npy"), out.numpy().astype(np.float32))


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "data", "pyg")
    os.makedirs(root, exist_ok=True)
    torch.manual_seed(7)
    n, f = 12, 5
    gen = np.random.default_rng(7)
    src = gen.integers(0, n, size=30)
    dst = gen.integers(0, n - 1, size=30)  # node n-1 gets no in-edges
    src = np.concatenate([src, [3, 4, 4]])  # a self-loop (3 -> 3) and a duplicate (4 -> 5 twice)
    dst = np.concatenate([dst, [3, 5, 5]])
    edge_index = torch.tensor(np.stack([src, dst]), dtype=torch.int64)
    x = torch.randn(n, f)
    np.save(os.path.join(root, "x.npy"), x.numpy())
    np.save(os.path.join(root, "edge_index.npy"), edge_index.numpy())

    save_layer(root, "gcn", GCNConv(f, 4), x, edge_index)
    save_layer(root, "sage", SAGEConv(f, 4), x, edge_index)
    mlp = torch.nn.Sequential(torch.nn.Linear(f, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    gin = GINConv(mlp, eps=0.1, train_eps=True)
    save_layer(root, "gin", gin, x, edge_index)
    gat = GATConv(f, 3, heads=2)
    save_layer(root, "gat", gat, x, edge_index)
    gat_mean = GATConv(f, 3, heads=2, concat=False)
    save_layer(root, "gat_mean", gat_mean, x, edge_index)
    print(f"torch {torch.__version__}, torch_geometric {torch_geometric.__version__}: wrote {root}")


if __name__ == "__main__":
    main()
