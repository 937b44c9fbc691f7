"""mpengine.pymdp: pymdp-style A, B, C, D mapped onto an AIF-MP model (pymdp not needed)."""
import itertools

import numpy as np
import pytest

import mpengine
from mpengine import pymdp


def normalised(rng, *shape):
    x = rng.uniform(0.05, 1.0, size=shape)
    return x / x.sum(0, keepdims=True)


def test_one_factor_maps_directly():
    rng = np.random.default_rng(0)
    A = [normalised(rng, 3, 4), normalised(rng, 2, 4)]
    B = [normalised(rng, 4, 4, 2)]
    C = [np.array([0.0, 2.0, -1.0]), np.zeros(2)]
    D = [np.array([0.1, 0.2, 0.3, 0.4])]
    model, q0, qt = pymdp.from_pymdp(A, B, C, D)
    assert (model.states, model.thetas, model.actions, model.modalities, model.outcomes) == (
        4, 1, 2, 2, 3)
    np.testing.assert_allclose(model.T[:, :, 0, :], B[0], atol=1e-7)
    np.testing.assert_allclose(model.B[1, :2, :, 0], A[1], atol=1e-7)
    assert np.all(model.B[1, 2] == 0)  # padded outcome
    # goal: exp of the expected log preference under A, normalised over states
    lc = [c - np.log(np.exp(c).sum()) for c in C]
    score = A[0].T @ lc[0] + A[1].T @ lc[1]
    np.testing.assert_allclose(model.goal[:, 0], np.exp(score) / np.exp(score).sum(), atol=1e-6)
    np.testing.assert_allclose(q0, D[0], atol=1e-7)
    assert qt == [1.0]
    (p,) = mpengine.plan(model, dict(q0=q0, q_theta=qt, horizon=3, iterations=4), device="cpu")
    assert p.action_dist.shape == (2,) and abs(p.action_dist.sum() - 1) < 1e-5


def test_factors_become_the_joint_state():
    rng = np.random.default_rng(1)
    B = [normalised(rng, 3, 3, 2), normalised(rng, 2, 2, 1)]  # second factor uncontrolled
    A = [normalised(rng, 4, 3, 2)]
    model, q0, _ = pymdp.from_pymdp(A, B, [np.zeros(4)], [np.ones(3) / 3, np.array([0.9, 0.1])])
    assert model.states == 6 and model.actions == 2 and pymdp.controls(B) == (2, 1)
    T = model.T[:, :, 0, :]
    for (a1, a2), (b1, b2), u in itertools.product(np.ndindex(3, 2), np.ndindex(3, 2), range(2)):
        want = B[0][a1, b1, u] * B[1][a2, b2, 0]
        assert T[a1 * 2 + a2, b1 * 2 + b2, u] == pytest.approx(want, abs=1e-6)
    np.testing.assert_allclose(model.B[0, :, :, 0], A[0].reshape(4, 6), atol=1e-7)
    np.testing.assert_allclose(q0, np.kron(np.ones(3) / 3, [0.9, 0.1]), atol=1e-7)


def test_mismatched_likelihood():
    with pytest.raises(ValueError, match="A\\[0\\]"):
        pymdp.from_pymdp([np.ones((2, 5)) / 2], [np.eye(4)[:, :, None]], [np.zeros(2)])
