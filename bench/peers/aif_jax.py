#!/usr/bin/env python3
"""JAX version of AIF-MP planning (aif-mp.md §4: method aif, dense observation path,
geometric damping), the peer for `mpe-bench --op aif_plan` on the same CPU.

Usage: python3 bench/peers/aif_jax.py [--reps 5] [--json]
Checks itself against the spec's golden fixture (§7), then times one planning call (warm JIT,
median of --reps) for the shapes of bench/NOTES.md. Needs: pip install "jax[cpu]" numpy.
"""
import argparse
import json
import time

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import logsumexp

LZ = -1e12


def slog(p):
    return jnp.where(p > 0, jnp.log(jnp.maximum(p, 1e-30)), LZ)


def sdiv(a, b):
    return jnp.where((a > LZ / 2) & (b > LZ / 2), a - b, LZ)


def norm(v, axis):
    return v - logsumexp(v, axis=axis, keepdims=True)


def damp(old, new, lam, axis):
    valid = (old > LZ / 2) | (new > LZ / 2)
    d = jnp.where(valid, (1 - lam) * old + lam * new, LZ)
    return jnp.where(valid, d - logsumexp(d, axis=axis, keepdims=True), LZ)


def plan(T, B, pu, goal, q0, qt, H, iters, lam, theta_goal):
    """T [S,S,K,A] (n,o,θ,u); B [F,O,S,K]; returns (action_dist, r_x, r_c)."""
    S, _, K, A = T.shape
    F, O = B.shape[:2]
    lq, lpu, logB = slog(qt), slog(pu / pu.sum()), slog(B)
    base = logsumexp(slog(T).transpose(1, 0, 2, 3) + lq[None, None, :, None], axis=2)  # [o,n,u]
    if theta_goal:
        lgoal = jnp.zeros(S)
        pref = norm(logsumexp(slog(goal) + lq[None, :], axis=1), 0)
    else:
        lgoal, pref = slog(goal), jnp.zeros(S)
    ru = jnp.full((H, S, A), -jnp.log(A))
    rx = jnp.full((H, S, S, A), -jnp.log(S))
    rc = jnp.full((H + 1, F, O, S, K), -jnp.log(O))
    rm = jnp.full((H + 1, F, O, S), -jnp.log(O))
    zeros = jnp.zeros((H + 1, S))

    def iteration(_, state):
        ru, rx, rc, rm, fp, bp, _ = state
        kobs = logB[None] + rc + sdiv(rc, rm[..., None])
        loc = norm(logsumexp(kobs + lq, axis=(2, 4)).sum(1), 1) + pref[None]
        Kd = jnp.where(rx > LZ / 2, base[None] - rx + ru[:, :, None, :], LZ)

        def fwd_step(f, t):
            m = norm(logsumexp(Kd[t] + (f + loc[t])[:, None, None] + lpu[None, None, :], axis=(0, 2)), 0)
            nf = norm((1 - lam) * fp[t + 1] + lam * m, 0)
            return nf, nf

        f0 = slog(q0)
        _, fr = jax.lax.scan(fwd_step, f0, jnp.arange(H))
        fwd = jnp.concatenate([f0[None], fr], 0)

        def bwd_step(b, t):
            Bn = b + loc[t + 1]
            Fo = fwd[t] + loc[t]
            z = logsumexp(Kd[t] + Fo[:, None, None] + Bn[None, :, None], axis=(0, 1)) + lpu
            qu = jnp.exp(z - logsumexp(z))
            m = norm(logsumexp(Kd[t] + Bn[None, :, None] + lpu[None, None, :], axis=(1, 2)), 0)
            nb = norm((1 - lam) * bp[t] + lam * m, 0)
            return nb, (nb, qu)

        _, (br, qus) = jax.lax.scan(bwd_step, lgoal, jnp.arange(H - 1, -1, -1))
        bwd = jnp.concatenate([br[::-1], lgoal[None]], 0)
        qu = qus[::-1]
        Fo = fwd[:H] + loc[:H]
        Bn = bwd[1:] + loc[1:]
        J = Kd + Fo[:, :, None, None] + Bn[:, None, :, None] + lpu[None, None, None, :]
        P = logsumexp(J, axis=2)
        rx = damp(rx, J - P[:, :, None, :], lam, 2)
        ru = damp(ru, norm(P, 2), lam, 2)
        rc = damp(rc, norm(kobs, 2), lam, 2)
        rm = damp(rm, norm(logsumexp(kobs + lq, axis=4), 2), lam, 2)
        return ru, rx, rc, rm, fwd, bwd, qu

    state = (ru, rx, rc, rm, zeros, zeros, jnp.zeros((H, A)))
    _, rx, rc, _, _, _, qu = jax.lax.fori_loop(0, iters, iteration, state)
    return qu[0] / qu[0].sum(), rx, rc


def golden_check():
    T = jnp.array([0.9, 0.2, 0.4, 0.7, 0.3, 0.8, 0.6, 0.1, 0.1, 0.8, 0.6, 0.3, 0.7, 0.2, 0.4, 0.9],
                  jnp.float32).reshape(2, 2, 2, 2)
    B = jnp.array([0.9, 0.2, 0.3, 0.8, 0.1, 0.8, 0.7, 0.2], jnp.float32).reshape(1, 2, 2, 2)
    a, rx, rc = plan(T, B, jnp.array([0.6, 0.4]), jnp.array([0.15, 0.85]), jnp.array([0.65, 0.35]),
                     jnp.array([0.55, 0.45]), 2, 2, 0.5, False)
    assert abs(float(a[0]) - 0.64464676) < 1e-5, a
    assert abs(float(rx[0, 0, 0, 0]) + 0.49224865) < 1e-5, rx[0, 0, 0, 0]
    assert abs(float(rc[2, 0, 1, 1, 1]) + 1.87442505) < 1e-5, rc[2, 0, 1, 1, 1]


def random_dist(rng, shape, axis):
    v = rng.uniform(0.05, 1.0, size=shape).astype(np.float32)
    return v / v.sum(axis=axis, keepdims=True)


def time_case(name, S, K, A, F, O, H, iters, reps, rng):
    T = jnp.asarray(random_dist(rng, (S, S, K, A), 0))
    B = jnp.asarray(random_dist(rng, (F, O, S, K), 1))
    pu = jnp.asarray(random_dist(rng, (A,), 0))
    goal = jnp.asarray(random_dist(rng, (S,), 0))
    q0 = jnp.asarray(random_dist(rng, (S,), 0))
    qt = jnp.asarray(random_dist(rng, (K,), 0))
    f = jax.jit(plan, static_argnums=(6, 7, 9))
    f(T, B, pu, goal, q0, qt, H, iters, 0.9, False)[0].block_until_ready()  # compile + warm
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        f(T, B, pu, goal, q0, qt, H, iters, 0.9, False)[0].block_until_ready()
        times.append((time.perf_counter() - t0) * 1e3)
    return {"case": name, "S": S, "K": K, "A": A, "F": F, "O": O, "H": H, "I": iters,
            "median_ms": float(np.median(times)), "min_ms": float(np.min(times)),
            "jax": jax.__version__, "backend": jax.default_backend()}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--json", action="store_true", help="one JSON object per case")
    args = ap.parse_args()
    golden_check()
    rng = np.random.default_rng(1)
    cases = [("S192", 192, 48, 7, 2, 2, 5, 3), ("frozen_lake_shape", 32, 15, 5, 48, 2, 15, 400),
             ("S32", 32, 4, 5, 2, 2, 5, 10), ("S64", 64, 4, 5, 2, 2, 5, 10)]
    for c in cases:
        r = time_case(*c, args.reps, rng)
        print(json.dumps(r) if args.json else
              f"{r['case']:>18}: S={r['S']} K={r['K']} A={r['A']} F={r['F']} H={r['H']} I={r['I']}"
              f"  median {r['median_ms']:.2f} ms (min {r['min_ms']:.2f})  [jax {r['jax']} {r['backend']}]")


if __name__ == "__main__":
    main()
