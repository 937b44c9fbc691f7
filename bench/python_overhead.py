#!/usr/bin/env python3
"""Per-call overhead of mpengine.plan() from Python against the same aif::plan call in C++.

Both sides plan the spec's golden fixture (S=2, K=2, A=2, H=2, I=2: a call whose compute is
tiny, so the binding's cost shows) with one request per call, on the CPU, in one process and
the same library: the C++ side is a timing loop inside the extension (_bench_plan_cpp). Rounds
alternate Python and C++; the medians over rounds and their difference are printed.

Usage: taskset -c 1 python3 bench/python_overhead.py [--calls 20000] [--rounds 7] [--json]
(PYTHONPATH=build/python for a CMake build tree.)
"""
import argparse
import json
import pathlib
import statistics
import time

import mpengine
from mpengine import _mpengine

ROOT = pathlib.Path(__file__).resolve().parents[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    model = mpengine.Model.load(str(ROOT / "examples/aif/fixture_model.json"))
    req = mpengine.PlanRequest([0.65, 0.35], [0.55, 0.45], horizon=2, iterations=2)
    reqs = [req]
    plan = mpengine.plan
    for _ in range(2000):  # warm-up both paths
        plan(model, reqs, device="cpu")
    _mpengine._bench_plan_cpp(model, reqs, 2000, device="cpu")
    as_dict = dict(q0=[0.65, 0.35], q_theta=[0.55, 0.45], horizon=2, iterations=2)
    py_us, cpp_us, dict_us = [], [], []
    for _ in range(a.rounds):
        t0 = time.perf_counter()
        for _ in range(a.calls):
            plan(model, reqs, device="cpu")
        py_us.append((time.perf_counter() - t0) / a.calls * 1e6)
        cpp_us.append(_mpengine._bench_plan_cpp(model, reqs, a.calls, device="cpu") * 1e6)
        t0 = time.perf_counter()  # a dict request: PlanRequest built on every call
        for _ in range(a.calls):
            plan(model, as_dict, device="cpu")
        dict_us.append((time.perf_counter() - t0) / a.calls * 1e6)
    diffs = [p - c for p, c in zip(py_us, cpp_us)]
    row = {"calls": a.calls, "rounds": a.rounds, "python_us": statistics.median(py_us),
           "cpp_us": statistics.median(cpp_us), "overhead_us": statistics.median(diffs),
           "overhead_min_us": min(diffs), "overhead_max_us": max(diffs),
           "python_dict_us": statistics.median(dict_us),
           "dict_overhead_us": statistics.median([d - c for d, c in zip(dict_us, cpp_us)]),
           "version": mpengine.__version__, "commit": mpengine.info()["build"]["git_commit"]}
    if a.json:
        print(json.dumps(row))
    else:
        print(f"plan() from Python: {row['python_us']:.2f} us/call; aif::plan in C++: "
              f"{row['cpp_us']:.2f} us/call; overhead {row['overhead_us']:.2f} us/call "
              f"(rounds: min {row['overhead_min_us']:.2f}, max {row['overhead_max_us']:.2f}); with a "
              f"dict request {row['python_dict_us']:.2f} us/call, overhead "
              f"{row['dict_overhead_us']:.2f} us/call")


if __name__ == "__main__":
    main()
