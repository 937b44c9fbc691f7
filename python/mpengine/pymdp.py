"""Models from pymdp-style arrays, planned with AIF-MP.

pymdp describes a POMDP with per-modality likelihoods ``A[m]`` ([O_m, S_1, ..., S_F]),
per-factor transitions ``B[f]`` ([S_f', S_f, U_f]), per-modality preferences ``C[m]`` ([O_m],
log preferences over *observations*) and per-factor initial beliefs ``D[f]`` ([S_f]).
AIF-MP's model is over one hidden state with a goal over *states*, so the mapping is:

- **state**: the joint state of all factors, index ``np.ravel_multi_index`` of the factor
  states (the last factor fastest); one factor maps to itself.
- **actions**: the joint control of all factors (last factor fastest); a factor with one
  control state is uncontrolled.
- **T** [S, S, 1, A]: the product of the factors' transitions, ``T[x', x, 0, u] =
  prod_f B[f][x'_f, x_f, u_f]`` (K = 1: no unknown configuration theta). It is stored dense;
  the planner runs it on its support (``dynamics="auto"`` picks the sparse layout when at most
  a quarter of its entries are non-zero, as products of factors usually are).
- **B** [M, O_max, S, 1]: the likelihoods over the joint state, padded with zeros to the
  largest outcome count.
- **goal**: pymdp's preferences are over observations; AIF-MP's per-step goal C[x] is over
  states. We use the *expected log preference under A*:
  ``C[x] ∝ exp(sum_m sum_o A[m][o, x] · log softmax(C[m])[o])``, normalised over x. A state is
  preferred in proportion to how much its expected observations are.
- **where the two agents differ**: pymdp's expected free energy adds the information a policy
  is expected to gain about the hidden state; AIF-MP plans with its beliefs about what it does
  not control held at their current value over the horizon (a context kept as a state factor
  here, or as theta: held at q(theta), aif-mp.md §4), so information has no value in its plan.
  On pymdp's T-maze (examples/python/pymdp_tmaze.py) pymdp visits the cue first and then
  takes the rewarded arm; AIF-MP goes straight to an arm (0.5 / 0.5 between the two: it
  cannot know which), after re-planning with the filtered belief at each step.
- **prior over actions**: pymdp's ``E`` over policies has no per-step counterpart; a uniform
  action prior is used unless ``action_prior=`` is given.
"""
import numpy as np

from . import _mpengine


def _as_list(x):
    if isinstance(x, np.ndarray) and x.dtype != object:
        return [x]
    return list(x)


def _softmax(v):
    v = np.asarray(v, np.float64)
    e = np.exp(v - v.max())
    return e / e.sum()


def joint_transitions(B):
    """T [S, S, A] of the joint state from per-factor B[f] [S_f', S_f, U_f] (float64)."""
    B = [np.asarray(b, np.float64) for b in _as_list(B)]
    B = [b[:, :, None] if b.ndim == 2 else b for b in B]
    controls = [b.shape[2] for b in B]
    S = int(np.prod([b.shape[0] for b in B]))
    T = np.zeros((S, S, int(np.prod(controls))))
    for u, us in enumerate(np.ndindex(*controls)):
        m = np.ones((1, 1))
        for b, uf in zip(B, us):
            m = np.kron(m, b[:, :, uf])
        T[:, :, u] = m
    return T


def expected_log_preference(A, C):
    """The goal over joint states [S] from preferences over observations (see the module)."""
    A = [np.asarray(a, np.float64) for a in _as_list(A)]
    C = [np.asarray(c, np.float64) for c in _as_list(C)]
    score = 0.0
    for a, c in zip(A, C):
        log_pref = np.log(_softmax(c))
        score = score + np.tensordot(log_pref, a.reshape(a.shape[0], -1), axes=(0, 0))
    return _softmax(score)


def from_pymdp(A, B, C, D=None, *, action_prior=None):
    """An AIF-MP model and its initial beliefs from pymdp-style arrays.

    Returns ``(model, q0, q_theta)``: a :class:`mpengine.Model` with a per-step goal (the
    expected log preference under A), the joint initial state belief from ``D`` (uniform when
    None) and ``q_theta = [1.0]``. Plan with ``mpengine.plan(model, dict(q0=q0,
    q_theta=q_theta, horizon=..., iterations=...))``; the action index decomposes into the
    factors' controls with ``np.unravel_index(u, controls(B))``.
    """
    A = [np.asarray(a, np.float64) for a in _as_list(A)]
    T = joint_transitions(B)
    S, A_count = T.shape[0], T.shape[2]
    O = max(a.shape[0] for a in A)
    Bm = np.zeros((len(A), O, S, 1), np.float32)
    for m, a in enumerate(A):
        flat = a.reshape(a.shape[0], -1)
        if flat.shape[1] != S:
            raise ValueError(f"A[{m}] covers {flat.shape[1]} joint states, B gives {S}")
        Bm[m, :a.shape[0], :, 0] = flat
    goal = expected_log_preference(A, C).astype(np.float32)[:, None]
    pu = (np.ones(A_count, np.float32) if action_prior is None
          else np.asarray(action_prior, np.float32))
    model = _mpengine.Model(np.ascontiguousarray(T[:, :, None, :], np.float32), Bm, pu, C=goal)
    if D is None:
        q0 = np.full(S, 1.0 / S)
    else:
        q0 = np.ones(1)
        for d in _as_list(D):
            q0 = np.kron(q0, np.asarray(d, np.float64))
    q0 = q0 / q0.sum()
    return model, q0.astype(np.float32).tolist(), [1.0]


def controls(B):
    """The number of control states of each factor (to unravel a joint action index)."""
    return tuple(1 if np.ndim(b) == 2 else np.shape(b)[2] for b in _as_list(B))
