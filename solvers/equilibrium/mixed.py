"""Mixed Nash equilibria of N-player finite games (THEORY §5): learning dynamics + support polishing.

``mixed_nash(payoffs)`` runs learning dynamics (jitted JAX kernels in :mod:`._dynamics`, vmapped
over ``n_starts`` starts: ``init`` or the uniform profile, then random profiles from ``key``) in
chunks of 50, 100, 200, ... iterations. After every chunk it guesses supports from the iterates,
solves the equilibrium equations on each guessed support with Newton's method, and stops as soon as
a profile's NashConv, computed by the independent numpy
:func:`~solvers.equilibrium._regret.nash_conv`, is at most ``tol``.

Methods (all run on payoffs rescaled to ``[0, 1]`` per player, so they are invariant under positive
affine payoff transforms of each player):

* ``"regret_matching"``: regret matching+ with alternating updates (player by player, as in CFR+);
  candidates = last iterate and the linearly weighted average.
* ``"fictitious_play"``: simultaneous fictitious play; candidates = empirical average and its best
  response.
* ``"replicator"``: exponential weights (the discrete-time replicator in logit space, step 0.5);
  candidates = last iterate and the average.
* ``"exploitability"``: exploitability descent: Adam (optax) on softmax logits minimising the
  entropy-regularised NashConv ``Σ_i τ·lse(u_i/τ) - x_i·u_i - τ·H(x_i)`` (>= 0, zero exactly at the
  logit QRE of temperature ``τ``), ``τ`` annealed from 0.1 to 0.001 over 300 steps; the logits are
  ``θ/τ`` and Adam is fed the mirror (strategy-space) gradient, which does not vanish where the
  softmax saturates. Candidate = the current profile.
* ``"auto"``: replicator and regret matching+ together from the same starts, all their candidates
  polished together; if that has not certified after 350 iterations, fictitious play and
  exploitability descent join from the same starts (``stats["dynamics"]`` lists what ran).

Candidates and polished points are offered in order of increasing NashConv; the run stops at the
first one whose certificate meets ``tol`` (otherwise it returns the best one found).

Polishing (after each chunk): the candidates are ranked by NashConv; support guesses for a
candidate ``x`` with deviation payoffs ``d`` are ``{a: x_i(a) > θ}`` (argmax kept) for ``θ`` in
:data:`PROB_THRESHOLDS`, ``{a: max_b d_i(b) - d_i(a) <= δ}`` for ``δ`` in :data:`GAP_THRESHOLDS`,
and the full support. On a support ``S`` the unknowns are the whole profile ``x`` and the values
``v``, the equations ``d_i(a) = v_i`` for ``a ∈ S_i``, ``x_i(a) = 0`` for ``a ∉ S_i`` and
``Σ_a x_i(a) = 1`` (square). All (support, start) pairs of a round are solved together by damped
Newton in numpy (analytic Jacobian of the multilinear payoffs, batched ``numpy.linalg.solve``, a
Levenberg-Marquardt step when a Jacobian is singular, step halving on ``|F|``). A solution is
accepted only if it is a mixed profile (entries >= -1e-9, then clipped to 0 and renormalised) and
its independent NashConv meets ``tol``. A solved support whose solution is no equilibrium is
repaired (negative entries dropped, best responses at the clipped point added) for up to
:data:`REPAIR_ROUNDS` more rounds. Newton runs in numpy rather than JAX because each new support
batch size would otherwise trigger a multi-second XLA compile, while one batched numpy step costs
well under a millisecond for these sizes.

The status is ``"converged"`` only if the independent certificate meets ``tol``; otherwise the best
profile found is returned with ``"max_iter"``.
"""

from __future__ import annotations

import numbers
import time

import jax
import jax.numpy as jnp
import numpy as np

from aca_games import ACAInputError
from solvers._payoffs import payoff_tensor
from solvers._solution import Solution
from solvers.equilibrium import _dynamics as dyn
from solvers.equilibrium._regret import nash_conv

__all__ = ["METHODS", "mixed_nash", "nash_conv_of"]

METHODS = ("auto", "regret_matching", "fictitious_play", "replicator", "exploitability")
AUTO_KINDS = ("replicator", "regret_matching")
#: "auto" adds these dynamics (from the same starts) once AUTO_FALLBACK_AFTER iterations of the
#: first ones have not produced a certificate (games where both cycle away from every equilibrium).
AUTO_FALLBACK_KINDS, AUTO_FALLBACK_AFTER = ("fictitious_play", "exploitability"), 350
PROB_THRESHOLDS, GAP_THRESHOLDS = dyn.PROB_THRESHOLDS, dyn.GAP_THRESHOLDS
#: Polishing: support equations count as solved at max |F| <= NEWTON_SOLVED (payoffs in [0, 1]);
#: at most MAX_SOLVES supports per chunk, those of the STAGE1 best candidates first; a support is
#: solved from at most MAX_TRIES different starts per call (the equations are polynomial: another
#: start can reach another solution).
NEWTON_SOLVED, MAX_SOLVES, STAGE1, MAX_TRIES = 1e-10, 64, 2, 3
#: Support repair: from a solved support whose solution is no equilibrium, keep the actions with
#: probability > REPAIR_EPS after clipping negatives and add every best response (gap <= REPAIR_EPS)
#: there; at most REPAIR_ROUNDS rounds per chunk.
REPAIR_EPS, REPAIR_ROUNDS = 1e-12, 3
#: A polished point is a mixed profile if no entry is below -VALID_NEG (far above the ~1e-15
#: rounding of a converged solve, far below a genuinely negative probability).
VALID_NEG = 1e-9
#: Tolerance on Σ_a init_i(a) = 1.
INIT_SUM_TOL = 1e-9
DEFAULT_MAX_ITER = 10_000
DEFAULT_STARTS = 4
#: Iterations before the first polish (then doubling).
FIRST_CHUNK = 50


def nash_conv_of(payoffs, profile) -> float:
    """NashConv ``Σ_i max_a u_i(a, x_{-i}) - u_i(x)`` of a mixed profile (re-export of
    :func:`solvers.equilibrium._regret.nash_conv`)."""
    return nash_conv(payoffs, profile)


# ----------------------------------------------------------------------------------------------
# Input validation.


def _check_init(init, sizes) -> tuple[np.ndarray, ...]:
    try:
        items = list(init)
    except TypeError:
        items = None
    if items is None or len(items) != len(sizes):
        raise ACAInputError(f"init: expected a sequence of {len(sizes)} mixed strategies")
    out = []
    for i, (x, m) in enumerate(zip(items, sizes, strict=True)):
        try:
            x = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError):
            raise ACAInputError(f"init[{i}]: expected {m} probabilities, got {x!r}") from None
        if x.shape != (m,):
            raise ACAInputError(f"init[{i}]: expected shape ({m},), got {x.shape}")
        if not np.all(np.isfinite(x)) or np.min(x) < 0 or abs(x.sum() - 1) > INIT_SUM_TOL:
            raise ACAInputError(
                f"init[{i}]: not a probability vector (entries >= 0 summing to 1 within "
                f"{INIT_SUM_TOL}), got {x}"
            )
        out.append(x)
    return tuple(out)


def _rng(key) -> np.random.Generator:
    """numpy generator for the random starts from an int seed or a ``jax.random`` key."""
    if key is None:
        return np.random.default_rng(0)
    if isinstance(key, numbers.Integral) and not isinstance(key, bool):
        return np.random.default_rng(int(key))
    if isinstance(key, jax.Array):
        data = jax.random.key_data(key) if jnp.issubdtype(key.dtype, jax.dtypes.prng_key) else key
        return np.random.default_rng(np.asarray(data, dtype=np.uint32).ravel().tolist())
    raise ACAInputError(f"key: expected None, an int seed or a jax.random key, got {key!r}")


# ----------------------------------------------------------------------------------------------
# Polishing.


class _Best:
    """Best profile so far by the independent NashConv; ``done`` once it meets ``tol``."""

    def __init__(self, P, tol, x0):
        self.P, self.tol = P, tol
        self.x, self.polished = x0, False
        self.certificate = nash_conv(P, x0)

    @property
    def done(self) -> bool:
        return self.certificate <= self.tol

    def offer(self, x, polished, estimate=-np.inf) -> None:
        """Certify ``x`` independently unless its ``estimate`` of NashConv is already worse."""
        if estimate >= self.certificate:
            return
        nc = nash_conv(self.P, x)
        if nc < self.certificate:
            self.x, self.polished, self.certificate = tuple(np.array(v) for v in x), polished, nc


def _estimate(span, xs, ds) -> np.ndarray:
    """NashConv on the original payoffs of a batch of profiles (lists of ``(B, m_i)``) from their
    deviation payoffs on the rescaled payoffs."""
    return sum(s * (d.max(axis=1) - (x * d).sum(axis=1)) for s, x, d in zip(span, xs, ds, strict=True))


def _polish_chunk(Pn, span, X, Dv, best: _Best, tried: dict, polish: bool) -> None:
    """Offer the raw candidates ``X`` (list over players of ``(B, m_i)``; ``Dv``: their deviation
    payoffs on the rescaled payoffs), then (if ``polish``) solve the support equations on the
    support guesses (batched Newton, each from the best candidate that proposed it; those of the
    STAGE1 best candidates first) and offer the valid solutions, best first. Solutions that are no
    equilibria seed REPAIR_ROUNDS more rounds on repaired supports (module docstring)."""
    est = _estimate(span, X, Dv)
    order = np.argsort(est, kind="stable")
    for b in order:
        best.offer(tuple(x[b] for x in X), False, est[b] - 1e-12)
    if not polish or best.done:
        return
    masks = dyn.guess_masks(X, Dv)  # list over players of (B, G, m_i)
    keys = np.packbits(np.concatenate(masks, axis=2), axis=2)
    G = masks[0].shape[1]
    stages = [
        [
            (keys[b, g].tobytes(), tuple(m[b, g] for m in masks), tuple(x[b] for x in X))
            for b in stage
            for g in range(G)
        ]
        for stage in (order[:STAGE1], order[STAGE1:])
    ]
    budget = MAX_SOLVES
    repairs: list = []
    for stage in stages + [None] * REPAIR_ROUNDS:
        if stage is None:
            stage, repairs = repairs, []
        jobs: dict[bytes, tuple] = {}
        for key, support, start in stage:
            if key not in jobs and tried.get(key, 0) < MAX_TRIES and len(jobs) < budget:
                jobs[key] = (support, start)
        if not jobs:
            continue
        budget -= len(jobs)
        repairs += _solve_supports(Pn, span, jobs, best, tried)
        if best.done:
            return


def _solve_supports(Pn, span, jobs, best: _Best, tried: dict) -> list:
    """Batched Newton on ``jobs`` (key -> (support masks, start)); offer the valid solutions; return
    repaired (key, support, start) jobs for solved supports whose solution is no equilibrium."""
    n = Pn.shape[0]
    masks = [np.stack([s[i] for s, _ in jobs.values()]) for i in range(n)]
    starts = [np.stack([c[i] for _, c in jobs.values()]) for i in range(n)]
    xs, _, err = dyn.batched_newton(Pn, masks, starts)
    solved = err <= NEWTON_SOLVED
    for key in jobs:
        tried[key] = tried.get(key, 0) + 1
    valid = np.all(np.concatenate(xs, axis=1) >= -VALID_NEG, axis=1)
    # projected profiles (clip negative entries, renormalise) and their deviation payoffs
    proj = [np.maximum(x, 0.0) for x in xs]
    proj = [x / np.where(x.sum(axis=1, keepdims=True) > 0, x.sum(axis=1, keepdims=True), 1.0) for x in proj]
    dev = dyn.deviations(Pn, proj)
    est = _estimate(span, proj, dev)
    for k in sorted(np.flatnonzero(solved & valid), key=lambda k: (est[k], k)):
        best.offer(tuple(p[k] for p in proj), True, est[k] - 1e-12)
        if best.done:
            return []
    repairs = []
    for k in np.flatnonzero(solved):
        if any(p[k].sum() == 0 for p in proj):
            continue
        support = tuple(
            (p[k] > REPAIR_EPS) | (d[k] >= d[k].max() - REPAIR_EPS) for p, d in zip(proj, dev, strict=True)
        )
        key = np.packbits(np.concatenate(support)).tobytes()
        repairs.append((key, support, tuple(p[k] for p in proj)))
    return repairs


# ----------------------------------------------------------------------------------------------
# Public entry.


def mixed_nash(
    payoffs,
    method: str = "auto",
    tol: float = 1e-8,
    max_iter: int = DEFAULT_MAX_ITER,
    key=None,
    init=None,
    polish: bool = True,
    n_starts: int = DEFAULT_STARTS,
) -> Solution:
    """A mixed Nash equilibrium of an N-player finite game with a NashConv certificate.

    Args:
        payoffs: array ``(n_players, m_1, ..., m_n)`` (``payoffs[i][a]``: payoff of player ``i`` at
            pure profile ``a``) or an object with ``payoff_tensor()``.
        method: one of :data:`METHODS` (see the module docstring).
        tol: NashConv required for ``status="converged"`` (in the units of the payoffs).
        max_iter: iterations of the dynamics per start (``stats["iterations"]`` counts them).
        key: ``jax.random`` key or int seed for the random starts; default seed 0.
        init: optional first start (sequence of probability vectors, one per player).
        polish: solve the support equations with Newton after each chunk (default ``True``).
        n_starts: number of starts (the first is ``init`` or uniform).

    Returns:
        ``Solution(value=tuple of mixed strategies (np.ndarray), status, certificate=NashConv,
        stats={method, dynamics, iterations, polished, seconds})``: ``status`` is ``"converged"`` iff the
        certificate is ``<= tol``, otherwise ``"max_iter"`` with the best profile found.

    >>> import numpy as np
    >>> pennies = np.array([[[1.0, -1.0], [-1.0, 1.0]], [[-1.0, 1.0], [1.0, -1.0]]])
    >>> sol = mixed_nash(pennies, method="regret_matching")
    >>> sol.status, [x.round(6).tolist() for x in sol.value], sol.certificate <= 1e-8
    ('converged', [[0.5, 0.5], [0.5, 0.5]], True)
    """
    t0 = time.perf_counter()
    P = payoff_tensor(payoffs)
    if method not in METHODS:
        raise ACAInputError(f"method: unknown {method!r}, expected one of {METHODS}")
    if not (isinstance(tol, numbers.Real) and np.isfinite(tol) and tol > 0):
        raise ACAInputError(f"tol: expected a positive finite number, got {tol!r}")
    for name, val in (("max_iter", max_iter), ("n_starts", n_starts)):
        if isinstance(val, bool) or not isinstance(val, numbers.Integral) or val < 1:
            raise ACAInputError(f"{name}: expected an integer >= 1, got {val!r}")
    n, sizes = P.shape[0], P.shape[1:]
    x0 = _check_init(init, sizes) if init is not None else tuple(np.full(m, 1.0 / m) for m in sizes)
    rng = _rng(key)

    # Each player's payoffs rescaled to [0, 1] (a constant player stays 0): dynamics and support
    # equations are invariant; every certificate is taken on the original payoffs.
    flat = P.reshape(n, -1)
    lo, span = flat.min(axis=1), np.ptp(flat, axis=1)
    shape = (n,) + (1,) * len(sizes)
    Pn = (P - lo.reshape(shape)) / np.where(span > 0, span, 1.0).reshape(shape)
    Pn_j = jnp.asarray(Pn)

    starts = tuple(x[None, :] for x in x0)
    if n_starts > 1:
        rnd = tuple(rng.dirichlet(np.ones(m), size=n_starts - 1) for m in sizes)
        starts = tuple(np.concatenate([s, r]) for s, r in zip(starts, rnd, strict=True))
    kinds = list(AUTO_KINDS if method == "auto" else (method,))
    states = {k: dyn.init_states(k, starts) for k in kinds}

    best = _Best(P, tol, x0)
    tried: dict = {}
    iterations = 0
    for chunk in [] if best.done else dyn.schedule(max_iter, FIRST_CHUNK):
        cands, devs = [], []
        for k in kinds:
            states[k], c, d = dyn.advance(k, Pn_j, states[k], chunk)
            cands.append(c)
            devs.append(d)
        X = [np.concatenate([np.asarray(c[i]) for c in cands]) for i in range(n)]
        Dv = [np.concatenate([np.asarray(d[i]) for d in devs]) for i in range(n)]
        iterations += chunk
        _polish_chunk(Pn, span, X, Dv, best, tried, polish)
        if best.done:
            break
        if method == "auto" and iterations >= AUTO_FALLBACK_AFTER and len(kinds) == len(AUTO_KINDS):
            kinds += AUTO_FALLBACK_KINDS
            states.update({k: dyn.init_states(k, starts) for k in AUTO_FALLBACK_KINDS})

    return Solution(
        value=best.x,
        status="converged" if best.done else "max_iter",
        certificate=best.certificate,
        stats={
            "method": method,
            "dynamics": tuple(kinds),
            "iterations": iterations,
            "polished": best.polished,
            "seconds": time.perf_counter() - t0,
        },
    )
