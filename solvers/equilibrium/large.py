"""Certified equilibria of games of any size, without the normal form (THEORY §5).

:func:`find_equilibrium` never builds the ``Π m_i`` payoff table. It only asks for *deviation
payoffs* ``D[p, b] = u_p(b, a_{-p})`` at pure profiles ``a`` (:mod:`._deviations`): in an
:class:`~aca_games.ACAGame` the training mass is ``P = α_0 P0 + Σ_j α_j E_j(a_j)``, so a player's
payoff depends on its own option and on the others' aggregate, and all its options are one vmapped
evaluation against that aggregate.

1. **Best-response dynamics.** From ``start`` (default: every player on option 0), players best
   respond one at a time in a random order per sweep (one jitted loop per sweep); a player moves
   only if its gain exceeds ``tol`` (ties stay put). A sweep without a move is a candidate pure
   equilibrium. A profile seen again at the end of a sweep means the dynamics cycle; they restart
   from a random profile (at most ``restarts`` times, ``max_sweeps`` sweeps in all).
2. **No-regret fallback.** If no pure equilibrium is found, every player runs regret matching
   against the others' realised play for ``regret_rounds`` rounds (jitted ``scan``; all players'
   deviation payoffs each round). The empirical distribution of play approaches the set of coarse
   correlated equilibria (CCE) at rate ``O(1/√T)`` [Hart & Mas-Colell 2000]. Its support (duplicate
   profiles merged) is then re-weighted by a linear program (HiGHS): minimise ``t`` subject to
   ``Σ_k w_k G_k[p, b] <= t`` for every player and option, ``w`` a distribution, with ``G_k`` the
   gains recorded at support profile ``k``. The empirical weights are feasible, so the LP's gap is
   never worse; its vertex solution keeps a small support. Weights below :data:`PRUNE_WEIGHT` are
   dropped and the rest renormalised; the gap is then recomputed from scratch.

**Certificate.** The largest unilateral gain, computed exactly by ``Σ m_i`` deviation payoffs per
support profile (fresh evaluations, not the dynamics' running values): for a pure profile
``max_p max_b u_p(b, a_{-p}) - u_p(a)``; for a distribution ``σ`` the CCE gap
``max_p max_b E_{a~σ}[u_p(b, a_{-p}) - u_p(a)]``. ``status`` is ``"converged"`` only when the
certificate is ``<= tol`` (:data:`EQUILIBRIUM_TOL` by default: payoff units; ACA payoffs are sums of
landing masses and costs, so genuine gains are far larger and smaller ones are float rounding),
else ``"max_iter"`` with the best answer found.

>>> import numpy as np
>>> dilemma = np.array([[[3.0, 0.0], [5.0, 1.0]], [[3.0, 5.0], [0.0, 1.0]]])
>>> sol = find_equilibrium(dilemma)
>>> sol.value, sol.status, sol.certificate
((1, 1), 'converged', 0.0)
>>> pennies = np.array([[[1.0, -1.0], [-1.0, 1.0]], [[-1.0, 1.0], [1.0, -1.0]]])
>>> sol = find_equilibrium(pennies)          # no pure equilibrium: a CCE on the four profiles
>>> sol.stats["kind"], sol.status, [w for w, _ in sol.value]
('coarse_correlated', 'converged', [0.25, 0.25, 0.25, 0.25])
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from aca_games import ACAInputError
from solvers._solution import Solution
from solvers.equilibrium._deviations import (
    check_pure,
    correlated_gains,
    gains_at,
    oracle_of,
)

__all__ = [
    "DEFAULT_MAX_SWEEPS",
    "DEFAULT_REGRET_ROUNDS",
    "DEFAULT_RESTARTS",
    "EQUILIBRIUM_TOL",
    "PRUNE_WEIGHT",
    "find_equilibrium",
]

#: Default ``tol`` (payoff units): a gain at most this is rounding, not an incentive to deviate.
EQUILIBRIUM_TOL = 1e-9
#: Sweeps of best-response dynamics over all restarts; restarts after a detected cycle.
DEFAULT_MAX_SWEEPS, DEFAULT_RESTARTS = 200, 5
#: Rounds of regret matching in the fallback, run in chunks of REGRET_CHUNK (LP after each chunk).
DEFAULT_REGRET_ROUNDS, REGRET_CHUNK = 2000, 500
#: CCE weights below this are dropped (then the rest is renormalised and the gap recomputed).
PRUNE_WEIGHT = 1e-9


def find_equilibrium(
    game,
    *,
    tol: float = EQUILIBRIUM_TOL,
    start=None,
    key: int = 0,
    max_sweeps: int = DEFAULT_MAX_SWEEPS,
    restarts: int = DEFAULT_RESTARTS,
    regret_rounds: int = DEFAULT_REGRET_ROUNDS,
    progress: Callable[[str], None] | None = None,
) -> Solution:
    """A certified equilibrium of a finite game of any size (see the module docstring).

    Args:
        game: an :class:`aca_games.ACAGame` (any number of players; the payoff table is never
            built) or a payoff tensor ``(n_players, m_1, ..., m_n)``.
        tol: largest unilateral gain accepted, in payoff units (:data:`EQUILIBRIUM_TOL`).
        start: the first profile of the dynamics (option indices; default all zeros, in the CLI's
            default game the configured options).
        key: seed of the random player orders, restarts and sampled play.
        max_sweeps: sweeps of best-response dynamics in all; restarts: random restarts after cycles.
        regret_rounds: rounds of regret matching if no pure equilibrium is found (0: none).
        progress: called with a one-line message after every sweep and every chunk of rounds.

    Returns:
        :class:`~solvers.Solution`. A pure equilibrium: ``value`` the tuple of option indices,
        ``stats["kind"] == "pure"``. Otherwise a coarse correlated equilibrium: ``value`` a list
        ``[(weight, profile), ...]``, heaviest first, ``stats["kind"] == "coarse_correlated"``.
        ``certificate``: the largest unilateral gain (exact, over the support); ``status``
        ``"converged"`` iff it is ``<= tol``, else ``"max_iter"``. ``stats``: ``method``,
        ``gains`` (each player's largest gain), ``sweeps``, ``restarts``, ``cycles``,
        ``deviations_per_profile`` (``Σ m_i``), ``n_profiles`` (``Π m_i``, never enumerated),
        ``tol``, ``seconds``; for a CCE also ``rounds``, ``support`` and ``empirical_gap`` (before
        the LP).

    Raises:
        ACAInputError: bad ``tol``, ``start``, counts or ``progress``.
    """
    t0 = time.perf_counter()
    tol = _nonnegative("tol", tol, float)
    max_sweeps = _nonnegative("max_sweeps", max_sweeps, int)
    restarts = _nonnegative("restarts", restarts, int)
    regret_rounds = _nonnegative("regret_rounds", regret_rounds, int)
    if progress is not None and not callable(progress):
        raise ACAInputError(f"progress: expected a function of one message, got {progress!r}")
    say = progress or (lambda message: None)
    oracle = oracle_of(game)
    n = len(oracle.shape)
    profile = np.zeros(n, np.int32) if start is None else check_pure(oracle, start, "start")
    rng = np.random.default_rng(key)
    stats = {
        "deviations_per_profile": int(sum(oracle.shape)),
        "n_profiles": math.prod(oracle.shape),
        "n_players": n,
        "tol": tol,
    }

    settled, last, dyn = _best_response_dynamics(oracle, profile, tol, rng, max_sweeps, restarts, say)
    stats.update(dyn)
    if settled or regret_rounds == 0:
        gains = _pure_gains(oracle, last)
        if gains.max() <= tol or regret_rounds == 0:
            return _finish(tuple(int(a) for a in last), gains, tol, stats, t0, "best_response_dynamics")
    profiles, weights, cce = _no_regret(oracle, last, tol, rng, regret_rounds, say)
    stats.update(cce)
    gains = np.maximum(correlated_gains(oracle, profiles, weights).max(axis=1), 0.0)
    if len(profiles) == 1:  # the distribution is a point mass: a pure profile
        return _finish(tuple(int(a) for a in profiles[0]), gains, tol, stats, t0, "regret_matching+lp")
    order = np.argsort(-weights, kind="stable")
    value = [(float(weights[k]), tuple(int(a) for a in profiles[k])) for k in order]
    return _finish(value, gains, tol, stats, t0, "regret_matching+lp")


def _nonnegative(name, x, kind):
    ok = isinstance(x, int | float | np.integer | np.floating) and not isinstance(x, bool)
    if kind is int:
        ok = ok and float(x).is_integer()
    if not ok or not math.isfinite(float(x)) or x < 0:
        want = "an integer >= 0" if kind is int else "a finite number >= 0"
        raise ACAInputError(f"{name}: expected {want}, got {x!r}")
    return kind(x)


def _pure_gains(oracle, profile) -> np.ndarray:
    """Each player's largest gain at a pure profile, from fresh deviation payoffs."""
    profile = np.asarray(profile, dtype=np.int32)[None]
    return np.maximum(gains_at(oracle.tables(profile), profile)[0].max(axis=1), 0.0)


def _finish(value, gains, tol, stats, t0, method) -> Solution:
    """The Solution: a pure profile (a tuple) or a distribution (a list of ``(weight, profile)``)."""
    cert = float(np.max(gains))
    stats = dict(
        stats,
        kind="pure" if isinstance(value, tuple) else "coarse_correlated",
        method=method,
        gains=np.asarray(gains).tolist(),
        seconds=time.perf_counter() - t0,
    )
    if isinstance(value, list):
        stats["support"] = len(value)
    return Solution(
        value=value, status="converged" if cert <= tol else "max_iter", certificate=cert, stats=stats
    )


# ------------------------------------------------------------------------ best-response dynamics
@functools.partial(jax.jit, static_argnames=("row", "config"))
def _sweep(arrays, profile, order, tol, *, row, config):
    """One sweep: players in ``order`` best respond in turn; a move only on a gain > ``tol``.
    ``row(arrays, profile, player, config)`` is the oracle's deviation row (static)."""

    def body(k, state):
        prof, moves = state
        p = order[k]
        payoffs = row(arrays, prof, p, config)
        best = jnp.argmax(payoffs).astype(prof.dtype)
        move = payoffs[best] - payoffs[prof[p]] > tol
        return prof.at[p].set(jnp.where(move, best, prof[p])), moves + move

    return jax.lax.fori_loop(0, order.shape[0], body, (profile, jnp.int32(0)))


def _best_response_dynamics(oracle, profile, tol, rng, max_sweeps, restarts, say):
    """``(settled, last profile, statistics)``: ``settled`` when a whole sweep made no move."""
    n = len(oracle.shape)
    seen: set[tuple[int, ...]] = set()
    stats = {"sweeps": 0, "restarts": 0, "cycles": 0, "moves": 0}
    current = jnp.asarray(profile, dtype=jnp.int32)
    settled = False
    while stats["sweeps"] < max_sweeps:
        order = jnp.asarray(rng.permutation(n), dtype=jnp.int32)
        current, moves = _sweep(oracle.arrays, current, order, tol, row=oracle.row_fn, config=oracle.config)
        moves = int(moves)
        stats["sweeps"] += 1
        stats["moves"] += moves
        say(f"best-response sweep {stats['sweeps']}: {moves} players moved")
        if moves == 0:
            settled = True
            break
        state = tuple(np.asarray(current).tolist())
        if state in seen:
            stats["cycles"] += 1
            if stats["restarts"] >= restarts:
                break
            stats["restarts"] += 1
            seen.clear()
            current = jnp.asarray([rng.integers(m) for m in oracle.shape], dtype=jnp.int32)
            continue
        seen.add(state)
    return settled, np.asarray(current), stats


# ------------------------------------------------------------------------ no-regret fallback
@functools.partial(jax.jit, static_argnames=("table", "config"))
def _regret_matching(arrays, valid, profile, regret, keys, *, table, config):
    """``len(keys)`` rounds of regret matching with sampled play (``scan``); records each round's
    profile and gains. ``table(arrays, profile, config)`` is the oracle's deviation table."""
    uniform = valid / valid.sum(axis=1, keepdims=True)

    def step(carry, key):
        profile, regret = carry
        payoffs = table(arrays, profile, config)
        own = jnp.take_along_axis(payoffs, profile[:, None], axis=1)
        gains = jnp.where(valid, payoffs - own, 0.0)
        regret = regret + gains
        positive = jnp.maximum(regret, 0.0)
        total = positive.sum(axis=1, keepdims=True)
        probs = jnp.where(total > 0, positive / jnp.where(total > 0, total, 1.0), uniform)
        logits = jnp.where(probs > 0, jnp.log(jnp.where(probs > 0, probs, 1.0)), -jnp.inf)
        keys = jax.random.split(key, probs.shape[0])
        nxt = jax.vmap(jax.random.categorical)(keys, logits).astype(profile.dtype)
        return (nxt, regret), (profile, gains)

    return jax.lax.scan(step, (profile, regret), keys)


def _no_regret(oracle, start, tol, rng, rounds, say):
    """Support and weights of a CCE from regret matching + LP re-weighting, and statistics."""
    shape = np.asarray(oracle.shape)
    valid = jnp.asarray(np.arange(shape.max())[None, :] < shape[:, None])
    profile = jnp.asarray(start, dtype=jnp.int32)
    regret = jnp.zeros(valid.shape)
    key = jax.random.PRNGKey(int(rng.integers(2**31)))
    seen_profiles, seen_gains = [], []
    stats = {"rounds": 0}
    profiles = np.zeros((0, len(oracle.shape)), np.int32)
    weights = np.zeros(0)
    while stats["rounds"] < rounds:
        chunk = min(REGRET_CHUNK, rounds - stats["rounds"])
        key, sub = jax.random.split(key)
        (profile, regret), (played, gains) = _regret_matching(
            oracle.arrays,
            valid,
            profile,
            regret,
            jax.random.split(sub, chunk),
            table=oracle.table_fn,
            config=oracle.config,
        )
        seen_profiles.append(np.asarray(played))
        seen_gains.append(np.asarray(gains))
        stats["rounds"] += chunk
        profiles, weights, empirical, lp_gap = _reweight(
            np.concatenate(seen_profiles), np.concatenate(seen_gains), np.asarray(valid)
        )
        stats.update(empirical_gap=empirical, lp_gap=lp_gap)
        say(f"regret matching: {stats['rounds']} rounds, CCE gap {lp_gap:.3g} on {len(profiles)} profiles")
        if lp_gap <= tol:
            break
    return profiles, weights, stats


def _reweight(played: np.ndarray, gains: np.ndarray, valid: np.ndarray):
    """Merge duplicate profiles, then the LP of the module docstring; prune and renormalise.

    Returns the support, its weights, the empirical distribution's gap and the LP's gap (both from
    the recorded gains; the caller recomputes the final certificate from scratch)."""
    import scipy.optimize  # here, not at module level: 0.3 s of start-up for games that never get here

    support, first, counts = np.unique(played, axis=0, return_index=True, return_counts=True)
    G = gains[first][:, valid]  # (S, Σ m_i): gain of each (player, option) at each support profile
    empirical = counts / counts.sum()
    empirical_gap = float((empirical @ G).max())
    S = len(support)
    c = np.zeros(S + 1)
    c[-1] = 1.0
    result = scipy.optimize.linprog(
        c,
        A_ub=np.hstack([G.T, -np.ones((G.shape[1], 1))]),
        b_ub=np.zeros(G.shape[1]),
        A_eq=np.hstack([np.ones((1, S)), np.zeros((1, 1))]),
        b_eq=[1.0],
        bounds=[(0, None)] * S + [(None, None)],
        method="highs",
    )
    weights = np.clip(result.x[:S], 0.0, None) if result.status == 0 else empirical
    keep = weights > PRUNE_WEIGHT
    weights = weights[keep] / weights[keep].sum()
    lp_gap = float((weights @ G[keep]).max())
    if lp_gap > empirical_gap:  # the LP never loses on paper; guard against solver tolerance
        return support, empirical, empirical_gap, empirical_gap
    return support[keep], weights, empirical_gap, lp_gap
