#!/usr/bin/env python3
"""A T-maze in pymdp's array conventions, planned with AIF-MP (mpengine.pymdp.from_pymdp), and
by pymdp's own agent beside it when pymdp is installed (pip install inferactively-pymdp).

The maze: locations centre, left arm, right arm, cue; the reward is in the left or the right arm
(the context, unknown to the agent); the arms are absorbing. Observations: the location, the
outcome (none, reward, loss), and the cue (left or right, only informative at the cue).
Preferences C: reward +3, loss -3. See mpengine/pymdp.py for how preferences over observations
become AIF-MP's goal over states. The agents differ on the cue: pymdp (pymdp 1.0.4's legacy
NumPy agent, policy length 2) goes cue -> rewarded arm, scoring the cue by the information it
gives about the context; AIF-MP holds its belief about the context over the plan, so the cue
is worth nothing to it, and it goes straight to an arm, a coin flip between the two
(p = 0.5 / 0.5; it takes the first).

Usage: python3 examples/python/pymdp_tmaze.py [--context left|right] [--steps 2]
"""
import argparse

import numpy as np

import mpengine
from mpengine import pymdp

LOCATIONS = ["centre", "left arm", "right arm", "cue"]


def tmaze(p_reward=0.98):
    L, X = 4, 2  # locations, contexts (reward left / right)
    B_loc = np.zeros((L, L, L))
    for u in range(L):
        for x in range(L):
            B_loc[x if x in (1, 2) else u, x, u] = 1.0  # arms absorb; elsewhere go to u
    B_ctx = np.eye(X)[:, :, None]
    A_loc = np.zeros((L, L, X))
    A_rew = np.zeros((3, L, X))
    A_cue = np.zeros((2, L, X))
    for x in range(L):
        for c in range(X):
            A_loc[x, x, c] = 1.0
            if x in (1, 2):
                good = (x == 1) == (c == 0)
                A_rew[1, x, c] = p_reward if good else 1 - p_reward
                A_rew[2, x, c] = 1 - A_rew[1, x, c]
            else:
                A_rew[0, x, c] = 1.0
            A_cue[:, x, c] = np.eye(2)[c] if x == 3 else 0.5
    A = [A_loc, A_rew, A_cue]
    B = [B_loc, B_ctx]
    C = [np.zeros(L), np.array([0.0, 3.0, -3.0]), np.zeros(2)]
    D = [np.eye(L)[0], np.full(X, 0.5)]
    return A, B, C, D


def observe(A, loc, ctx, rng):
    return [int(rng.choice(a.shape[0], p=a[:, loc, ctx])) for a in A]


def run_aifmp(A, B, C, D, ctx, steps, rng):
    model, q, qt = pymdp.from_pymdp(A, B, C, D)
    joint_A = [a.reshape(a.shape[0], -1) for a in A]
    T = model.T[:, :, 0, :]
    loc, choices = 0, []
    q = np.asarray(q, np.float64)
    for t in range(steps):
        (p,) = mpengine.plan(model, dict(q0=(q / q.sum()).tolist(), q_theta=qt,
                                         horizon=steps - t + 1, iterations=20, damping=0.9))
        u = int(np.argmax(p.action_dist))
        choices.append(LOCATIONS[u] if loc not in (1, 2) else "(stays: the arms absorb)")
        loc = loc if loc in (1, 2) else u
        obs = observe(A, loc, ctx, rng)
        q = T[:, :, u] @ q  # predict, then Bayes with every modality
        for a, o in zip(joint_A, obs):
            q = q * a[o]
    return choices


def run_pymdp(A, B, C, D, ctx, steps, rng):
    try:  # pymdp >= 1.0 keeps the NumPy agent as pymdp.legacy
        from pymdp.legacy import utils
        from pymdp.legacy.agent import Agent
    except ImportError:
        from pymdp import utils
        from pymdp.agent import Agent
    arr = utils.obj_array_from_list
    agent = Agent(A=arr(A), B=arr(B), C=arr(C), D=arr(D), policy_len=steps,
                  control_fac_idx=[0], action_selection="deterministic")
    loc, choices = 0, []
    obs = observe(A, loc, ctx, rng)
    for _ in range(steps):
        agent.infer_states(obs)
        agent.infer_policies()
        u = int(agent.sample_action()[0])
        choices.append(LOCATIONS[u] if loc not in (1, 2) else "(stays: the arms absorb)")
        loc = loc if loc in (1, 2) else u
        obs = observe(A, loc, ctx, rng)
    return choices


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--context", choices=["left", "right"], default="left")
    ap.add_argument("--steps", type=int, default=2)
    a = ap.parse_args()
    ctx = 0 if a.context == "left" else 1
    A, B, C, D = tmaze()
    print(f"reward in the {a.context} arm; {a.steps} moves from the centre")
    print("AIF-MP (mpengine):", " -> ".join(run_aifmp(A, B, C, D, ctx, a.steps,
                                                       np.random.default_rng(0))))
    try:
        print("pymdp:            ", " -> ".join(run_pymdp(A, B, C, D, ctx, a.steps,
                                                          np.random.default_rng(0))))
    except ImportError:
        print("pymdp: not installed (pip install inferactively-pymdp), skipped")


if __name__ == "__main__":
    main()
