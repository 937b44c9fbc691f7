"""csr_aggregate and graph_mp against float64 NumPy references; zero-copy in and out."""
import numpy as np
import pytest

import mpengine


def random_graph(rng, n, m, weighted=True):
    """A random pull CSR (with an empty row) and its dense float64 adjacency."""
    deg = rng.integers(0, 5, size=n)
    deg[1] = 0
    indptr = np.concatenate([[0], np.cumsum(deg)]).astype(np.int64)
    indices = rng.integers(0, m, size=indptr[-1]).astype(np.int32)
    weights = rng.uniform(0.1, 2.0, size=indptr[-1]).astype(np.float32) if weighted else None
    return indptr, indices, weights


def reference(indptr, indices, weights, x, agg):
    x = x.astype(np.float64)
    y = np.zeros((len(indptr) - 1, x.shape[1]))
    for i in range(len(indptr) - 1):
        lo, hi = indptr[i], indptr[i + 1]
        if lo == hi:
            y[i] = -1e12 if agg == "logsumexp" else 0.0
            continue
        w = np.ones(hi - lo) if weights is None else weights[lo:hi].astype(np.float64)
        msgs = w[:, None] * x[indices[lo:hi]]
        y[i] = {"sum": lambda: msgs.sum(0), "mean": lambda: msgs.mean(0),
                "max": lambda: msgs.max(0), "min": lambda: msgs.min(0),
                "logsumexp": lambda: np.log(np.exp(msgs).sum(0))}[agg]()
    return y


@pytest.mark.parametrize("agg", ["sum", "mean", "max", "min", "logsumexp"])
@pytest.mark.parametrize("weighted", [True, False])
def test_csr_aggregate_matches_float64(agg, weighted):
    rng = np.random.default_rng(7)
    indptr, indices, weights = random_graph(rng, 40, 30, weighted)
    g = mpengine.Csr(indptr, indices, weights, num_cols=30)
    x = rng.standard_normal((30, 9)).astype(np.float32)
    y = mpengine.csr_aggregate(g, x, agg)
    assert isinstance(y, np.ndarray) and y.dtype == np.float32 and y.shape == (40, 9)
    np.testing.assert_allclose(y, reference(indptr, indices, weights, x, agg), rtol=1e-5,
                               atol=1e-5)


def test_zero_copy_graph_and_out():
    rng = np.random.default_rng(1)
    indptr, indices, weights = random_graph(rng, 20, 20)
    g = mpengine.Csr(indptr, indices, weights)
    assert np.shares_memory(g.indptr, indptr)  # the graph is the caller's memory
    assert np.shares_memory(g.indices, indices) and np.shares_memory(g.weights, weights)
    copied = mpengine.Csr(indptr, indices, weights, copy=True)
    assert not np.shares_memory(copied.indices, indices)
    x = rng.standard_normal((20, 4)).astype(np.float32)
    out = np.full((20, 4), np.nan, np.float32)
    ret = mpengine.csr_aggregate(g, x, "sum", out=out)
    assert ret is out
    np.testing.assert_allclose(out, reference(indptr, indices, weights, x, "sum"), atol=1e-5)
    y1 = mpengine.csr_aggregate(g, x)
    np.testing.assert_array_equal(y1, out)  # deterministic: one owner per output, edge order
    with pytest.raises(TypeError, match="argument 'out'"):
        mpengine.csr_aggregate(g, x, out=np.zeros((20, 4)))


def test_input_survives_the_callers_reference():
    rng = np.random.default_rng(2)
    indptr, indices, weights = random_graph(rng, 10, 10)
    g = mpengine.Csr(indptr, indices, weights)
    want = reference(indptr, indices, weights, np.eye(10, dtype=np.float32), "sum")
    del indptr, indices, weights  # the Csr holds them
    np.testing.assert_allclose(mpengine.csr_aggregate(g, np.eye(10, dtype=np.float32)), want,
                               atol=1e-6)


def test_edge_index_is_pull_direction():
    # PyG: edge_index[0] sources, [1] targets; node 2 receives from 0 and 1.
    ei = np.array([[0, 1, 2], [2, 2, 0]], np.int64)
    g = mpengine.Csr.from_edge_index(ei, 3)
    np.testing.assert_array_equal(g.indptr, [0, 1, 1, 3])
    np.testing.assert_array_equal(g.indices, [2, 0, 1])
    x = np.array([[1.0], [10.0], [100.0]], np.float32)
    np.testing.assert_allclose(mpengine.csr_aggregate(g, x), [[100.0], [0.0], [11.0]])


def test_graph_mp_update_and_messages_match_float64():
    rng = np.random.default_rng(3)
    indptr, indices, weights = random_graph(rng, 25, 25)
    g = mpengine.Csr(indptr, indices, weights)
    x = rng.standard_normal((25, 6)).astype(np.float32)
    bias = rng.standard_normal(6).astype(np.float32)
    y = mpengine.graph_mp(g, x, message="edge_weight", aggregate="mean", self_scale=0.3,
                          agg_scale=0.7, activation="tanh", bias=bias)
    want = np.tanh(0.3 * x + 0.7 * reference(indptr, indices, weights, x, "mean") + bias)
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-5)
    types = rng.integers(0, 3, size=len(indices)).astype(np.int32)
    tw = np.array([0.5, -1.0, 2.0], np.float32)
    y2 = mpengine.graph_mp(g, x, message="type_weight", aggregate="sum", edge_types=types,
                           type_weights=tw)
    np.testing.assert_allclose(y2, reference(indptr, indices, tw[types], x, "sum"), rtol=1e-5,
                               atol=1e-5)


def test_invalid_graphs_are_graph_errors():
    with pytest.raises(mpengine.GraphError, match="col_indices"):
        mpengine.Csr(np.array([0, 1], np.int64), np.array([5], np.int32))
    with pytest.raises(ValueError):
        mpengine.Csr(np.array([0, 2, 1], np.int64), np.array([0, 0], np.int32))
    g = mpengine.Csr(np.array([0, 1], np.int64), np.array([0], np.int32))
    with pytest.raises(mpengine.ShapeError):
        mpengine.csr_aggregate(g, np.ones((3, 2), np.float32))
    with pytest.raises(mpengine.InvalidArgumentError, match="agg"):
        mpengine.csr_aggregate(g, np.ones((1, 2), np.float32), "median")


def test_other_frameworks_in_and_out():
    """A JAX array in (DLPack) gives a JAX array out; like= picks the framework."""
    x = np.arange(6, dtype=np.float32).reshape(3, 2)
    g = mpengine.Csr(np.array([0, 1, 2, 3], np.int64), np.array([1, 2, 0], np.int32))
    want = x[[1, 2, 0]]
    generic = mpengine.csr_aggregate(g, x, like="dlpack")  # any framework's from_dlpack reads it
    np.testing.assert_array_equal(np.from_dlpack(generic), want)
    jnp = pytest.importorskip("jax.numpy", reason="JAX not installed: JAX in/out not checked")
    y = mpengine.csr_aggregate(g, jnp.asarray(x))
    assert type(y).__module__.startswith("jax")
    np.testing.assert_array_equal(np.asarray(y), want)
    y2 = mpengine.csr_aggregate(g, x, like="jax")
    assert type(y2).__module__.startswith("jax")


def test_pytorch_in_and_out_without_copies():
    torch = pytest.importorskip("torch", reason="PyTorch not installed: torch in/out not checked")
    x = torch.arange(6, dtype=torch.float32).reshape(3, 2)
    g = mpengine.Csr(np.array([0, 1, 2, 3], np.int64), np.array([1, 2, 0], np.int32))
    y = mpengine.csr_aggregate(g, x)
    assert isinstance(y, torch.Tensor)
    assert torch.equal(y, x[[1, 2, 0]])
    out = torch.zeros(3, 2)
    assert mpengine.csr_aggregate(g, x, out=out) is out and torch.equal(out, x[[1, 2, 0]])
    with pytest.raises(TypeError, match="argument 'x'.*float32"):
        mpengine.csr_aggregate(g, x.double())
