#!/usr/bin/env python3
"""JAX version of AIF-MP planning (aif-mp.md §4: method aif, dense observation path,
geometric damping), the peer for `mpe-bench --op aif_plan` on the same CPU.

Usage: python3 bench/peers/aif_jax.py [--reps 5] [--json] [--case NAME ...]
Checks itself against the spec's golden fixture (§7), then times one planning call (warm JIT,
median of --reps) for the shapes of bench/NOTES.md: four dense ones and RockSample's sparse
shape (`rocksample_sparse`: T with one random successor per (x, θ, u), planned over T's support
with segment sums, as mpengine's sparse path does). bench/peers/compare_aif.sh runs this beside
mpe-bench. Needs: pip install "jax[cpu]" numpy.
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


def observation_messages(logB, lq, pref, rc, rm):
    """(a): the observation kernel [H+1,F,O,S,K] and the local messages loc [H+1,S]."""
    kobs = logB[None] + rc + sdiv(rc, rm[..., None])
    return kobs, norm(logsumexp(kobs + lq, axis=(2, 4)).sum(1), 1) + pref[None]


def observation_update(lq, rc, rm, kobs, lam):
    """(f)+(g): r_c and r_m damped toward their region beliefs."""
    return (damp(rc, norm(kobs, 2), lam, 2),
            damp(rm, norm(logsumexp(kobs + lq, axis=4), 2), lam, 2))


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
        kobs, loc = observation_messages(logB, lq, pref, rc, rm)
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
        rc, rm = observation_update(lq, rc, rm, kobs, lam)
        return ru, rx, rc, rm, fwd, bwd, qu

    state = (ru, rx, rc, rm, zeros, zeros, jnp.zeros((H, A)))
    _, rx, rc, _, _, _, qu = jax.lax.fori_loop(0, iters, iteration, state)
    return qu[0] / qu[0].sum(), rx, rc


def segment_lse(v, ids, num):
    """logsumexp of v over the entries of each segment id < num (LZ where a segment is empty)."""
    m = jax.ops.segment_max(jnp.where(v > LZ / 2, v, LZ), ids, num_segments=num)
    m = jnp.maximum(m, LZ)
    s = jax.ops.segment_sum(jnp.where(v > LZ / 2, jnp.exp(v - m[ids]), 0.0), ids, num_segments=num)
    return jnp.where(s > 0, m + jnp.log(jnp.where(s > 0, s, 1.0)), LZ)


def plan_sparse(Tsup, n_e, o_e, u_e, B, pu, goal, q0, qt, H, iters, lam):
    """The same as plan() with T given on its support: Tsup [E, K] = T[n_e, o_e, :, u_e]."""
    K = Tsup.shape[1]
    S = q0.shape[0]
    A = pu.shape[0]
    F, O = B.shape[:2]
    ou_e = o_e * A + u_e
    lq, lpu, logB = slog(qt), slog(pu / pu.sum()), slog(B)
    base = slog(Tsup @ qt)  # [E]: a probability mixture over θ
    lgoal, pref = slog(goal), jnp.zeros(S)
    ru = jnp.full((H, S, A), -jnp.log(A))
    rx = jnp.full((H, base.shape[0]), -jnp.log(S))  # as the dense start, on the support
    rc = jnp.full((H + 1, F, O, S, K), -jnp.log(O))
    rm = jnp.full((H + 1, F, O, S), -jnp.log(O))
    zeros = jnp.zeros((H + 1, S))

    def damp_seg(old, new):
        valid = (old > LZ / 2) | (new > LZ / 2)
        d = jnp.where(valid, (1 - lam) * old + lam * new, LZ)
        z = segment_lse(d, ou_e, S * A)
        return jnp.where(valid, d - z[ou_e], LZ)

    def iteration(_, state):
        ru, rx, rc, rm, fp, bp, _ = state
        kobs, loc = observation_messages(logB, lq, pref, rc, rm)
        Kd = jnp.where(rx > LZ / 2, base[None] - rx + ru.reshape(H, S * A)[:, ou_e], LZ)  # [H, E]

        def fwd_step(f, t):
            m = norm(segment_lse(Kd[t] + (f + loc[t])[o_e] + lpu[u_e], n_e, S), 0)
            nf = norm((1 - lam) * fp[t + 1] + lam * m, 0)
            return nf, nf

        f0 = slog(q0)
        _, fr = jax.lax.scan(fwd_step, f0, jnp.arange(H))
        fwd = jnp.concatenate([f0[None], fr], 0)

        def bwd_step(b, t):
            Bn = b + loc[t + 1]
            Fo = fwd[t] + loc[t]
            z = segment_lse(Kd[t] + Fo[o_e] + Bn[n_e], u_e, A) + lpu
            qu = jnp.exp(z - logsumexp(z))
            m = norm(segment_lse(Kd[t] + Bn[n_e] + lpu[u_e], o_e, S), 0)
            nb = norm((1 - lam) * bp[t] + lam * m, 0)
            return nb, (nb, qu)

        _, (br, qus) = jax.lax.scan(bwd_step, lgoal, jnp.arange(H - 1, -1, -1))
        bwd = jnp.concatenate([br[::-1], lgoal[None]], 0)
        qu = qus[::-1]
        Fo = fwd[:H] + loc[:H]
        Bn = bwd[1:] + loc[1:]
        J = Kd + Fo[:, o_e] + Bn[:, n_e] + lpu[u_e][None]  # [H, E]
        P = jax.vmap(lambda j: segment_lse(j, ou_e, S * A))(J)  # [H, S*A]
        rx = jax.vmap(damp_seg)(rx, J - P[:, ou_e])
        ru = damp(ru, norm(P.reshape(H, S, A), 2), lam, 2)
        rc, rm = observation_update(lq, rc, rm, kobs, lam)
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


def sparse_support(Td):
    """T's support as entry lists (n, o, u), ordered by (o, u) then n, and T on it [E, K]."""
    n_e, o_e, u_e = np.nonzero(Td.sum(axis=2))
    order = np.lexsort((n_e, u_e, o_e))
    n_e, o_e, u_e = n_e[order], o_e[order], u_e[order]
    return jnp.asarray(Td[n_e, o_e, :, u_e]), jnp.asarray(n_e), jnp.asarray(o_e), jnp.asarray(u_e)


def sparse_check():
    """plan_sparse equals the dense plan on a small model with structural zeros in T."""
    rng = np.random.default_rng(7)
    S, K, A, F, O, H = 6, 2, 3, 2, 2, 3
    Td = np.zeros((S, S, K, A), np.float32)
    for o in range(S):
        for th in range(K):
            for u in range(A):
                Td[rng.integers(0, S), o, th, u] += 0.7
                Td[rng.integers(0, S), o, th, u] += 0.3
    B = jnp.asarray(random_dist(rng, (F, O, S, K), 1))
    pu, goal = jnp.asarray(random_dist(rng, (A,), 0)), jnp.asarray(random_dist(rng, (S,), 0))
    q0, qt = jnp.asarray(random_dist(rng, (S,), 0)), jnp.asarray(random_dist(rng, (K,), 0))
    a, _, rc = plan(jnp.asarray(Td), B, pu, goal, q0, qt, H, 4, 0.9, False)
    a2, _, rc2 = plan_sparse(*sparse_support(Td), B, pu, goal, q0, qt, H, 4, 0.9)
    assert np.allclose(a, a2, atol=1e-5), (a, a2)
    assert np.allclose(rc, rc2, atol=1e-5)


def random_dist(rng, shape, axis):
    v = rng.uniform(0.05, 1.0, size=shape).astype(np.float32)
    return v / v.sum(axis=axis, keepdims=True)


def timed(f, args, reps):
    f(*args)[0].block_until_ready()  # compile + warm
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        f(*args)[0].block_until_ready()
        times.append((time.perf_counter() - t0) * 1e3)
    return float(np.median(times)), float(np.min(times))


def time_case(name, S, K, A, F, O, H, iters, reps, rng, successors=0):
    B = jnp.asarray(random_dist(rng, (F, O, S, K), 1))
    pu = jnp.asarray(random_dist(rng, (A,), 0))
    goal = jnp.asarray(random_dist(rng, (S,), 0))
    q0 = jnp.asarray(random_dist(rng, (S,), 0))
    qt = jnp.asarray(random_dist(rng, (K,), 0))
    if successors == 0:
        T = jnp.asarray(random_dist(rng, (S, S, K, A), 0))
        f = jax.jit(plan, static_argnums=(6, 7, 9))
        med, mn = timed(f, (T, B, pu, goal, q0, qt, H, iters, 0.9, False), reps)
    else:  # one random successor per (x_old, θ, u); the support is the union over θ
        nxt = rng.integers(0, S, size=(S, K, A))
        Td = np.zeros((S, S, K, A), np.float32)
        o, th, u = np.meshgrid(np.arange(S), np.arange(K), np.arange(A), indexing="ij")
        Td[nxt, o, th, u] = 1.0
        f = jax.jit(plan_sparse, static_argnums=(9, 10))
        med, mn = timed(f, (*sparse_support(Td), B, pu, goal, q0, qt, H, iters, 0.9), reps)
    return {"case": name, "S": S, "K": K, "A": A, "F": F, "O": O, "H": H, "I": iters,
            "successors": successors, "median_ms": med, "min_ms": mn,
            "jax": jax.__version__, "backend": jax.default_backend()}


CASES = {  # name: (S, K, A, F, O, H, I, successors), the rows of bench/NOTES.md
    "S192": (192, 48, 7, 2, 2, 5, 3, 0),
    "frozen_lake_shape": (32, 15, 5, 48, 2, 15, 400, 0),
    "S32": (32, 4, 5, 2, 2, 5, 10, 0),
    "S64": (64, 4, 5, 2, 2, 5, 10, 0),
    "rocksample_sparse": (640, 8, 8, 3, 3, 12, 10, 1),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--json", action="store_true", help="one JSON object per case")
    ap.add_argument("--case", action="append", choices=sorted(CASES), help="run only these cases")
    args = ap.parse_args()
    golden_check()
    sparse_check()
    rng = np.random.default_rng(1)
    for name in args.case or list(CASES):
        S, K, A, F, O, H, I, succ = CASES[name]
        r = time_case(name, S, K, A, F, O, H, I, args.reps, rng, succ)
        print(json.dumps(r) if args.json else
              f"{r['case']:>18}: S={r['S']} K={r['K']} A={r['A']} F={r['F']} H={r['H']} I={r['I']}"
              f"{' sparse' if succ else ''}  median {r['median_ms']:.2f} ms (min {r['min_ms']:.2f})"
              f"  [jax {r['jax']} {r['backend']}]", flush=True)

if __name__ == "__main__":
    main()
