"""mpengine.Engine: futures, errors per request, and many Python threads submitting at once."""
import concurrent.futures
import threading

import numpy as np
import pytest

import mpengine


@pytest.fixture(scope="module")
def model(root):
    return mpengine.Model.load(str(root / "examples/aif/fixture_model.json"))


def request(i):
    a = 0.1 + 0.8 * (i % 17) / 16
    return dict(q0=[a, 1 - a], q_theta=[0.55, 0.45], horizon=3, iterations=5)


def test_futures_match_direct_plans(model):
    with mpengine.Engine("cpu", max_delay_ms=1.0) as engine:
        futures = [engine.submit(model, request(i)) for i in range(40)]
        assert all(isinstance(f, concurrent.futures.Future) for f in futures)
        plans = [f.result(timeout=60) for f in futures]
    direct = mpengine.plan(model, [request(i) for i in range(40)], device="cpu")
    for p, d in zip(plans, direct):
        np.testing.assert_allclose(p.action_dist, d.action_dist, atol=1e-6)


def test_a_bad_request_fails_alone(model):
    with mpengine.Engine("cpu") as engine:
        good = engine.submit(model, request(0))
        bad = engine.submit(model, dict(q0=[0.2, 0.2], q_theta=[0.5, 0.5]))
        with pytest.raises(mpengine.InvalidArgumentError, match="q0"):
            bad.result(timeout=60)
        assert good.result(timeout=60).action_dist.shape == (2,)


def test_threads_submit_in_parallel(model):
    want = {i: p.action_dist.copy() for i, p in
            enumerate(mpengine.plan(model, [request(i) for i in range(17)], device="cpu"))}
    errors = []
    with mpengine.Engine("cpu", max_delay_ms=0.5) as engine:
        def worker(t):
            try:
                fs = [(i, engine.submit(model, request(i))) for i in range(t, t + 50)]
                for i, f in fs:
                    np.testing.assert_allclose(f.result(timeout=120).action_dist, want[i % 17],
                                               atol=1e-6)
            except Exception as e:  # reported below, with the thread's failure
                errors.append(e)

        threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        stats = engine.stats()
    assert not errors, errors[0]
    assert stats["completed"] == 400
    assert stats["batches"] < 400  # requests from different threads shared batches


def test_bp_and_relevance_through_the_engine(root, data, tmp_path):
    g = mpengine.FactorGraph.load(str(data / "bp" / "chain.uai"))
    rel = root / "data" / "relevance"
    store = mpengine.Store.import_csv(str(tmp_path / "s.db"), str(rel / "nodes.csv"),
                                      str(rel / "edges.csv"))
    with mpengine.Engine("cpu") as engine:
        f_bp = engine.submit_bp(g)
        f_q = engine.submit_query(store, "show me what serenity looks like")
        r = f_bp.result(timeout=60)
        q = f_q.result(timeout=60)
    assert r.log_z == pytest.approx(mpengine.bp.run(g, device="cpu").log_z, abs=1e-12)
    assert q.ids == store.query("show me what serenity looks like").ids


def test_closed_engine_refuses(model):
    engine = mpengine.Engine("cpu")
    engine.close()
    with pytest.raises(mpengine.BusyError):
        engine.submit(model, request(0))
