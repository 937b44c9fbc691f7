"""The GIL is released while the engine computes: a Python thread keeps running meanwhile."""
import threading
import time

import numpy as np

import mpengine


def random_model(S=48, K=2, A=4, O=6, seed=0):
    rng = np.random.default_rng(seed)
    T = rng.uniform(0.01, 1, (S, S, K, A)).astype(np.float32)
    T /= T.sum(0, keepdims=True)
    B = rng.uniform(0.01, 1, (1, O, S, K)).astype(np.float32)
    B /= B.sum(1, keepdims=True)
    goal = rng.uniform(0.01, 1, S).astype(np.float32)
    return mpengine.Model(T, B, np.ones(A, np.float32), goal=goal / goal.sum())


def test_other_python_threads_run_during_a_plan():
    model = random_model()
    q0 = np.full(48, 1 / 48, np.float32).tolist()
    reqs = [dict(q0=q0, q_theta=[0.5, 0.5], horizon=10, iterations=60)] * 8
    done = threading.Event()
    ticks = [0]

    def ticker():
        while not done.is_set():
            ticks[0] += 1  # pure Python: needs the GIL on every loop
            time.sleep(0)

    t = threading.Thread(target=ticker)
    t.start()
    while ticks[0] < 10:  # the ticker is running
        time.sleep(0.001)
    t0, before = time.perf_counter(), ticks[0]
    mpengine.plan(model, reqs, device="cpu")
    during, elapsed = ticks[0] - before, time.perf_counter() - t0
    done.set()
    t.join()
    assert elapsed > 0.05, "the plan was too quick to tell"
    # With the GIL held through the call the ticker could not move at all while it ran.
    assert during > 100, f"only {during} ticks of the other thread in {elapsed:.2f} s"
