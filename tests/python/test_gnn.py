"""GNN layers against PyTorch Geometric's outputs (tests/data/pyg, made by
bench/peers/make_pyg_fixtures.py), from folders and from state_dict arrays."""
import numpy as np
import pytest

import mpengine


@pytest.fixture(scope="module")
def pyg(data):
    root = data / "pyg"
    x = np.load(root / "x.npy").astype(np.float32)
    g = mpengine.Csr.from_edge_index(np.load(root / "edge_index.npy").astype(np.int64),
                                     x.shape[0])
    return root, x, g


def state(folder):
    return {p.name[:-4]: np.load(p).astype(np.float32) for p in folder.glob("*.npy")
            if p.name != "out.npy"}


def check(y, folder):
    want = np.load(folder / "out.npy")
    np.testing.assert_allclose(y, want, rtol=1e-4, atol=1e-4)


def test_layers_loaded_from_folders(pyg):
    root, x, g = pyg
    check(mpengine.GCNConv.load(str(root / "gcn"))(g, x), root / "gcn")
    check(mpengine.SAGEConv.load(str(root / "sage"))(g, x), root / "sage")
    check(mpengine.GINConv.load(str(root / "gin"))(g, x), root / "gin")
    check(mpengine.GATConv.load(str(root / "gat"))(g, x), root / "gat")
    check(mpengine.GATConv.load(str(root / "gat_mean"))(g, x), root / "gat_mean")


def test_layers_from_state_dict_arrays(pyg):
    root, x, g = pyg
    sd = state(root / "gcn")
    check(mpengine.GCNConv(sd["lin.weight"], sd["bias"])(g, x), root / "gcn")
    sd = state(root / "sage")
    check(mpengine.SAGEConv(sd["lin_l.weight"], sd["lin_r.weight"], sd["lin_l.bias"])(g, x),
          root / "sage")
    sd = state(root / "gin")
    gin = mpengine.GINConv(sd["nn.0.weight"], sd["nn.0.bias"], sd["nn.2.weight"],
                           sd["nn.2.bias"], eps=float(sd.get("eps", np.zeros(1)).ravel()[0]))
    check(gin(g, x), root / "gin")
    for name in ("gat", "gat_mean"):
        sd = state(root / name)
        heads, channels = sd["att_src"].shape[1:]
        gat = mpengine.GATConv(sd["lin.weight"], sd["att_src"], sd["att_dst"], sd["bias"],
                               heads=heads, concat=sd["bias"].size == heads * channels)
        check(gat(g, x), root / name)


def test_gcn_on_a_prenormalised_graph_and_linear(pyg):
    root, x, g = pyg
    conv = mpengine.GCNConv.load(str(root / "gcn"))
    y = conv(mpengine.gcn_normalize(g), x, normalize=False)
    check(y, root / "gcn")
    h = mpengine.linear(x, conv.weight, activation="relu")
    np.testing.assert_allclose(h, np.maximum(x.astype(np.float64) @ conv.weight.T, 0),
                               rtol=1e-5, atol=1e-5)


def test_bad_weights(pyg):
    root, x, g = pyg
    with pytest.raises(ValueError):
        mpengine.GCNConv(np.ones((4, x.shape[1] + 1), np.float32))(g, x)
    with pytest.raises(mpengine.FileError):
        mpengine.GCNConv.load("/nonexistent")
