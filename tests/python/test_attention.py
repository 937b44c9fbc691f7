"""attention() against a float64 NumPy softmax reference."""
import numpy as np
import pytest

import mpengine


def reference(q, k, v, causal=False, mask=None):
    q, k, v = (a.astype(np.float64) for a in (q, k, v))
    B, H, Nq, D = q.shape
    group = H // k.shape[1]
    k = np.repeat(k, group, axis=1)
    v = np.repeat(v, group, axis=1)
    s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(D)
    Nk = k.shape[2]
    if causal:
        allowed = np.arange(Nk)[None, :] <= np.arange(Nq)[:, None] + (Nk - Nq)
        s = np.where(allowed, s, -np.inf)
    if mask is not None:
        s = np.where(mask[:, None, None, :] != 0, s, -np.inf)
    m = s.max(-1, keepdims=True)
    p = np.exp(s - m)
    lse = (m + np.log(p.sum(-1, keepdims=True)))[..., 0]
    return (p / p.sum(-1, keepdims=True)) @ v, lse


@pytest.mark.parametrize("causal", [False, True])
def test_matches_float64(causal):
    rng = np.random.default_rng(0)
    q = rng.standard_normal((2, 4, 5, 8)).astype(np.float32)
    k = rng.standard_normal((2, 2, 7, 8)).astype(np.float32)
    v = rng.standard_normal((2, 2, 7, 8)).astype(np.float32)
    out, lse = mpengine.attention(q, k, v, causal=causal, return_lse=True)
    want, want_lse = reference(q, k, v, causal)
    np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(lse, want_lse, rtol=1e-5, atol=1e-5)


def test_key_mask_and_csr_mask():
    rng = np.random.default_rng(1)
    q = rng.standard_normal((1, 1, 4, 4)).astype(np.float32)
    k = rng.standard_normal((1, 1, 4, 4)).astype(np.float32)
    v = rng.standard_normal((1, 1, 4, 4)).astype(np.float32)
    mask = np.array([[1, 0, 1, 1]], np.int32)
    np.testing.assert_allclose(mpengine.attention(q, k, v, key_mask=mask),
                               reference(q, k, v, mask=mask)[0], rtol=1e-5, atol=1e-5)
    full = mpengine.Csr(np.array([0, 4, 8, 12, 16], np.int64), np.tile(np.arange(4, dtype=np.int32), 4))
    np.testing.assert_allclose(mpengine.attention(q, k, v, graph=full),
                               reference(q, k, v)[0], rtol=1e-5, atol=1e-5)


def test_shape_errors():
    q = np.zeros((1, 3, 2, 4), np.float32)
    k = np.zeros((1, 2, 2, 4), np.float32)  # 2 key heads do not divide 3 query heads
    with pytest.raises(mpengine.ShapeError):
        mpengine.attention(q, k, k)
    with pytest.raises(TypeError, match="argument 'q'.*4-D"):
        mpengine.attention(q[0], k, k)
