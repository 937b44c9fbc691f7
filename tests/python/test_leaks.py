"""Reference counts: 10,000 calls through the bindings leave the process's memory steady."""

import numpy as np
import pytest

import mpengine


def rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    pytest.skip("no /proc/self/status")


def steady(fn, calls=10_000):
    for _ in range(1_000):  # warm-up: allocator pools, caches
        fn()
    before = rss_kib()
    for _ in range(calls):
        fn()
    return rss_kib() - before


def test_plan_calls_do_not_leak(root):
    model = mpengine.Model.load(str(root / "examples/aif/fixture_model.json"))
    req = mpengine.PlanRequest([0.65, 0.35], [0.55, 0.45], horizon=2, iterations=2)
    # A leak of one plan's outputs (~200 bytes) per call would grow by ~2 MiB.
    assert steady(lambda: mpengine.plan(model, [req], device="cpu")[0].q_u) < 1024


def test_zero_copy_inputs_are_released():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 16)).astype(np.float32)
    g = mpengine.Csr(np.arange(65, dtype=np.int64), np.arange(64, dtype=np.int32))
    import sys
    refs = sys.getrefcount(x)
    grown = steady(lambda: mpengine.csr_aggregate(g, x))  # 4 KiB per leaked output
    assert sys.getrefcount(x) == refs  # every wrapped input reference dropped
    assert grown < 1024
