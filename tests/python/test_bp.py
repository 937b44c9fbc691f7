"""Belief propagation against exact enumeration (trees) and the C++ CLI (`mpe bp`)."""
import itertools

import numpy as np
import pytest

import mpengine
from mpengine import bp


def brute_force(graph, evidence=None):
    """Exact marginals, log Z and the MAP of a small graph by enumeration, in float64."""
    cards = graph.cardinalities
    factors = graph.factors
    states, scores = [], []
    for x in itertools.product(*[range(c) for c in cards]):
        if evidence and any(e >= 0 and x[v] != e for v, e in enumerate(evidence)):
            continue
        s = 0.0
        for vars_, logv in factors:
            idx, stride = 0, 1
            for v in vars_:  # first variable fastest
                idx += x[v] * stride
                stride *= cards[v]
            s += logv[idx]
        states.append(x)
        scores.append(s)
    scores = np.array(scores)
    m = scores.max()
    p = np.exp(scores - m)
    log_z = m + np.log(p.sum())
    p /= p.sum()
    marginals = [np.zeros(c) for c in cards]
    for x, px in zip(states, p):
        for v, s in enumerate(x):
            marginals[v][s] += px
    return marginals, log_z, list(states[int(np.argmax(scores))])


@pytest.mark.parametrize("name", ["chain.uai"])
def test_tree_graphs_are_exact(data, name):
    g = mpengine.FactorGraph.load(str(data / "bp" / name))
    r = bp.run(g, device="cpu")
    assert r.converged
    marginals, log_z, map_state = brute_force(g)
    for got, want in zip(r.marginals, marginals):
        np.testing.assert_allclose(got, want, atol=1e-9)
    assert r.log_z == pytest.approx(log_z, abs=1e-9)
    m = bp.run(g, method="max", device="cpu")
    assert m.map == map_state
    assert m.map_log_score == pytest.approx(g.log_score(map_state))


def test_evidence_and_batches(data):
    g = mpengine.FactorGraph.load(str(data / "bp" / "chain.uai"))
    samples = g.read_evidence(str(data / "bp" / "chain_two_samples.evid"))
    results = bp.run_batch(g, samples, device="cpu")
    for ev, r in zip(samples, results):
        marginals, log_z, _ = brute_force(g, ev)
        for got, want in zip(r.marginals, marginals):
            np.testing.assert_allclose(got, want, atol=1e-9)
        assert r.log_z == pytest.approx(log_z, abs=1e-9)


def test_graph_built_in_python():
    g = mpengine.FactorGraph()
    a, b, c = g.add_variable(2), g.add_variable(3), g.add_variable(2)
    rng = np.random.default_rng(4)
    g.add_factor([a, b], rng.uniform(0.1, 1, 6).tolist())
    g.add_factor([b, c], rng.uniform(0.1, 1, 6).tolist())
    g.add_factor([a], [0.3, 0.7])
    r = bp.run(g, device="cpu")
    marginals, log_z, _ = brute_force(g)
    for got, want in zip(r.marginals, marginals):
        np.testing.assert_allclose(got, want, atol=1e-9)
    assert r.log_z == pytest.approx(log_z, abs=1e-9)
    with pytest.raises(mpengine.InvalidArgumentError):
        g.add_factor([a, 7], [1.0, 1.0])


@pytest.mark.parametrize("name", ["tiny.fg", "sprinkler.uai"])
def test_loopy_graphs_match_the_cli(data, cli, name):
    path = data / "bp" / name
    r = bp.run(mpengine.FactorGraph.load(str(path)), device="cpu")
    (c,) = cli("bp", path, "--device", "cpu")["results"]
    assert r.log_z == pytest.approx(c["log_z"], abs=1e-12)
    assert r.iterations == c["iterations"]
    for got, want in zip(r.marginals, c["beliefs"]):
        np.testing.assert_allclose(got, want, atol=1e-12)


def test_bad_files(tmp_path):
    bad = tmp_path / "bad.fg"
    bad.write_text("1\n\n1\n0\nnot-a-number\n")
    with pytest.raises(mpengine.ParseError, match="bad.fg"):
        mpengine.FactorGraph.load(str(bad))


def test_from_numpy_tables_uses_the_first_variable_fastest():
    rng = np.random.default_rng(5)
    pair = rng.uniform(0.1, 1, (2, 3))  # pair[a, b]
    g = bp.from_tables([2, 3], [((0, 1), pair), ((1,), np.array([0.2, 0.3, 0.5]))])
    joint = pair * np.array([0.2, 0.3, 0.5])[None, :]
    for a in range(2):
        for b in range(3):
            assert g.log_score([a, b]) == pytest.approx(np.log(joint[a, b]))
    r = bp.run(g, device="cpu")
    np.testing.assert_allclose(r.marginals[0], joint.sum(1) / joint.sum(), atol=1e-12)
    lg = bp.from_tables([2, 3], [((0, 1), np.log(pair))], log=True)
    assert lg.log_score([1, 2]) == pytest.approx(np.log(pair[1, 2]))
    with pytest.raises(ValueError, match="factor 0"):
        bp.from_tables([2, 3], [((0, 1), pair.T)])
