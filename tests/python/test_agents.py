"""Agents: evaluate() against `mpe agent` on the same episodes."""
import pytest

import mpengine

ARGS = dict(episodes=3, seed=5, iterations=8, horizon=6)


def test_frozen_lake_matches_the_cli(cli):
    r = mpengine.evaluate("frozen_lake", method="aif", device="cpu", **ARGS)
    c = cli("agent", "--env", "frozen_lake", "--method", "aif", "--episodes", ARGS["episodes"],
            "--seed", ARGS["seed"], "--iterations", ARGS["iterations"], "--horizon",
            ARGS["horizon"], "--device", "cpu")
    assert r.episodes == ARGS["episodes"]
    assert r.success_rate == pytest.approx(c["success_rate"])
    assert r.mean_steps == pytest.approx(c["mean_steps"])


def test_records_and_statistics_agree():
    r = mpengine.evaluate("frozen_lake", method="aif", device="cpu", **ARGS)
    assert len(r.records) == ARGS["episodes"]
    assert sum(rec["success"] for rec in r.records) == pytest.approx(r.success_rate * r.episodes)
    assert sum(rec["steps"] for rec in r.records) == pytest.approx(r.mean_steps * r.episodes)
    assert r.plans == sum(rec["steps"] for rec in r.records)
    direct = mpengine.evaluate("frozen_lake", method="aif", device="cpu", engine=False, **ARGS)
    assert direct.actions == r.actions  # the scheduler batches; it does not change a plan


def test_unknown_environment():
    with pytest.raises(mpengine.InvalidArgumentError, match="nowhere"):
        mpengine.evaluate("nowhere", episodes=1)
    assert "frozen_lake" in mpengine.environment_names()
