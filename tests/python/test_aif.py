"""AIF-MP planning from Python against the spec's golden fixture and the C++ CLI."""
import json

import numpy as np
import pytest

import mpengine

# aif-mp.md §7's golden fixture (docs/aif-model-format.md): p(u0) of the dense and the
# precomputed observation paths.
GOLDEN = {"dense": [0.64464676, 0.35535327], "precomputed": [0.65320015, 0.34679985]}


@pytest.fixture(scope="module")
def fixture_paths(root):
    return root / "examples/aif/fixture_model.json", root / "examples/aif/fixture_request.json"


def fixture_arrays(path):
    """The fixture model's tensors read with Python's json (independently of the C++ reader)."""
    j = json.loads(path.read_text())
    T = np.asarray(j["T"]["data"], np.float32).reshape(j["T"]["shape"])
    B = np.asarray(j["B"], np.float32)
    return T, B, np.asarray(j["action_prior"], np.float32), np.asarray(j["goal"]["terminal"],
                                                                         np.float32)


def test_golden_fixture_from_file(fixture_paths):
    model = mpengine.Model.load(str(fixture_paths[0]))
    requests = mpengine.load_requests(str(fixture_paths[1]))
    assert (model.states, model.thetas, model.actions, model.modalities, model.outcomes) == (
        2, 2, 2, 1, 2)
    plans = mpengine.plan(model, requests, device="cpu")
    assert len(plans) == 2
    for p, path in zip(plans, ("dense", "precomputed")):
        np.testing.assert_allclose(p.action_dist, GOLDEN[path], atol=2e-6)
        assert p.action_dist.dtype == np.float32
        assert p.q_u.shape == (2, 2)
        np.testing.assert_allclose(p.q_u[0], p.action_dist, atol=1e-6)
        assert p.iterations_run == 2


def test_model_from_arrays_and_dict_requests_match_the_file(fixture_paths):
    T, B, pu, goal = fixture_arrays(fixture_paths[0])
    model = mpengine.Model(T, B, pu, goal=goal)
    assert model.goal_kind == "terminal"
    np.testing.assert_array_equal(model.T, T)
    req = dict(q0=[0.65, 0.35], q_theta=[0.55, 0.45], horizon=2, iterations=2, damping=0.5)
    (p,) = mpengine.plan(model, req, device="cpu")
    np.testing.assert_allclose(p.action_dist, GOLDEN["dense"], atol=2e-6)
    p2 = mpengine.plan(model, [mpengine.PlanRequest(**req, observation_path="precomputed")],
                       device="cpu")[0]
    np.testing.assert_allclose(p2.action_dist, GOLDEN["precomputed"], atol=2e-6)


def test_model_keeps_its_own_copy(fixture_paths):
    T, B, pu, goal = fixture_arrays(fixture_paths[0])
    model = mpengine.Model(T, B, pu, goal=goal)
    T[:] = 0  # the caller's array changes; the validated model does not
    (p,) = mpengine.plan(model, dict(q0=[0.65, 0.35], q_theta=[0.55, 0.45], horizon=2,
                                     iterations=2), device="cpu")
    np.testing.assert_allclose(p.action_dist, GOLDEN["dense"], atol=2e-6)
    with pytest.raises(ValueError):
        model.T[0, 0, 0, 0] = 1.0  # read-only view


def test_plan_outputs_are_views_on_the_plans_memory(fixture_paths):
    model = mpengine.Model.load(str(fixture_paths[0]))
    (p,) = mpengine.plan(model, dict(q0=[0.65, 0.35], q_theta=[0.55, 0.45], horizon=2,
                                     iterations=2), device="cpu")
    a, b = p.q_u, p.q_u
    assert np.shares_memory(a, b)  # no copy per access: both views of the plan's tensor
    assert np.shares_memory(p.action_dist, p.action_dist)
    assert p.log_r_x.shape == (2, 2, 2, 2)
    assert p.log_r_c.shape == (3, 1, 2, 2, 2)
    del p  # the views keep the plan's memory alive
    np.testing.assert_allclose(a[0], GOLDEN["dense"], atol=2e-6)


def test_matches_the_cli(fixture_paths, cli):
    model = mpengine.Model.load(str(fixture_paths[0]))
    ours = mpengine.plan(model, mpengine.load_requests(str(fixture_paths[1])), device="cpu")
    theirs = cli("plan", *fixture_paths, "--device", "cpu")
    plans = theirs["plans"] if isinstance(theirs, dict) and "plans" in theirs else theirs
    assert len(plans) == len(ours)
    for p, q in zip(ours, plans):
        np.testing.assert_array_equal(p.action_dist, np.asarray(q["action_dist"], np.float32))


def test_bad_requests_raise_value_errors_naming_the_field(fixture_paths):
    model = mpengine.Model.load(str(fixture_paths[0]))
    with pytest.raises(mpengine.InvalidArgumentError, match="q0"):
        mpengine.plan(model, dict(q0=[0.5, 0.6], q_theta=[0.5, 0.5]))
    with pytest.raises(ValueError, match="horizon"):
        mpengine.plan(model, dict(q0=[0.5, 0.5], q_theta=[0.5, 0.5], horizon=0))
    with pytest.raises(ValueError, match="method"):
        mpengine.PlanRequest([0.5, 0.5], [0.5, 0.5], method="nope")
    with pytest.raises(mpengine.FileError):
        mpengine.Model.load("/nonexistent/model.json")
    T, B, pu, goal = fixture_arrays(fixture_paths[0])
    with pytest.raises(mpengine.InvalidArgumentError, match="exactly one"):
        mpengine.Model(T, B, pu)
    with pytest.raises(ValueError, match="T"):
        mpengine.Model(T * 2, B, pu, goal=goal)


def test_request_fields_round_trip():
    r = mpengine.PlanRequest([1.0, 0.0], [1.0], horizon=3, method="rm", dynamics="sparse",
                             theta="loopy", damping_kind="arithmetic")
    assert (r.horizon, r.method, r.dynamics, r.theta, r.damping_kind) == (
        3, "rm", "sparse", "loopy", "arithmetic")
    r.method = "vbp"
    assert r.method == "vbp"
    assert r.q0 == [1.0, 0.0]


def test_asking_for_a_missing_device_is_a_clear_error(fixture_paths):
    if mpengine.cuda_built() and any(d["device"].startswith("cuda") for d in mpengine.info()["devices"]):
        pytest.skip("a CUDA device answers here")
    model = mpengine.Model.load(str(fixture_paths[0]))
    with pytest.raises(mpengine.DeviceUnavailableError, match="cuda|CUDA"):
        mpengine.plan(model, dict(q0=[0.5, 0.5], q_theta=[0.5, 0.5]), device="cuda")
