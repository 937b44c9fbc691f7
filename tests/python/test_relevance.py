"""The relevance store from Python against the C++ CLI on the same store file."""
import numpy as np
import pytest

import mpengine

MESSAGE = "show me what serenity looks like"


@pytest.fixture()
def store_path(root, tmp_path):
    path = tmp_path / "demo.db"
    rel = root / "data" / "relevance"
    mpengine.Store.import_csv(str(path), str(rel / "nodes.csv"), str(rel / "edges.csv"))
    return path


def test_query_matches_the_cli(store_path, cli):
    store = mpengine.Store.open(str(store_path))
    r = store.query(MESSAGE)
    c = cli("relevance", "query", store_path, MESSAGE)
    assert r.ids == [x["id"] for x in c["results"]]
    for got, want in zip(r.results, c["results"]):
        assert got["activation"] == pytest.approx(want["activation"], abs=1e-6)
    assert r.iterations == c["iterations"]


def test_embedding_seeds_and_learning(store_path):
    store = mpengine.Store.open(str(store_path))
    assert store.stats()["embedder"] == "hashed-ngram-v1"
    by_text = store.query(MESSAGE)
    assert by_text.results, "the demo message activates nodes"
    seed_id = by_text.seeds[0][0]
    by_seed = store.query(seeds={seed_id: 1.0})
    assert seed_id in [a["id"] for a in by_seed.results] or by_seed.active
    zero = np.zeros(store.dim, np.float32)
    with pytest.raises(ValueError):
        store.query(zero, top_k=-1)
    with pytest.raises(mpengine.InvalidArgumentError, match="unknown parameter"):
        store.query(MESSAGE, no_such_parameter=1)
    before = {(e["source"], e["target"], e["type"]): e["weight"] for e in store.edges()}
    report = store.learn(by_text, 1.0)
    assert report.edges > 0
    after = {(e["source"], e["target"], e["type"]): e["weight"] for e in store.edges()}
    changed = sum(after[k] != before[k] for k in before)
    assert 0 < changed <= report.edges  # a weight already at 1 stays there
    reopened = mpengine.Store.open(str(store_path))  # persisted
    assert {(e["source"], e["target"], e["type"]): e["weight"] for e in reopened.edges()} == after
