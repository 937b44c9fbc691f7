#!/usr/bin/env python3
"""AIF-MP planning from Python, side by side with the JAX peer (bench/peers/aif_jax.py) when
JAX is installed: the same numbers, and the time of one planning call on each.

Usage: python3 examples/python/aif_plan_vs_jax.py   (pip install "jax[cpu]" for the peer)
"""
import json
import pathlib
import sys
import time

import numpy as np

import mpengine

ROOT = pathlib.Path(__file__).resolve().parents[2]


def best_of(fn, reps=20):
    fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    path = ROOT / "examples/aif/fixture_model.json"
    model = mpengine.Model.load(str(path))
    req = dict(q0=[0.65, 0.35], q_theta=[0.55, 0.45], horizon=2, iterations=2, damping=0.5)
    (p,) = mpengine.plan(model, req, device="cpu")
    t = best_of(lambda: mpengine.plan(model, req, device="cpu"))
    print(f"mpengine: p(u0) = {np.array2string(p.action_dist, precision=8)}  "
          f"{t * 1e6:.1f} us per call")
    try:
        import jax.numpy as jnp
        sys.path.insert(0, str(ROOT / "bench/peers"))
        import aif_jax
    except ImportError:
        print("JAX peer: not installed (pip install 'jax[cpu]'), skipped")
        return
    j = json.loads(path.read_text())
    T = jnp.asarray(np.asarray(j["T"]["data"], np.float32).reshape(j["T"]["shape"]))
    B = jnp.asarray(np.asarray(j["B"], np.float32))
    pu = jnp.asarray(np.asarray(j["action_prior"], np.float32))
    goal = jnp.asarray(np.asarray(j["goal"]["terminal"], np.float32))
    import jax
    args = (T, B, pu, goal, jnp.asarray(req["q0"]), jnp.asarray(req["q_theta"]), 2, 2, 0.5, False)
    jitted = jax.jit(aif_jax.plan, static_argnums=(6, 7, 9))  # as the peer's own benchmark
    peer = lambda: jitted(*args)[0].block_until_ready()
    dist = np.asarray(peer())
    t_jax = best_of(peer)
    print(f"JAX peer: p(u0) = {np.array2string(dist, precision=8)}  {t_jax * 1e6:.1f} us per call "
          "(jit-compiled, warm)")
    print(f"largest difference: {np.abs(dist - p.action_dist).max():.2e}")


if __name__ == "__main__":
    main()
